package io.genguard.deploy.compose;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.job.BiasAggregationJob;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.moderation.job.ModerationJob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docker/flink/submit-jobs.sh (what the compose {@code flink-jobs} service runs) submits a job only
 * when the cluster no longer holds one of its name: a second copy would share the first's
 * transactional id prefix, the two would fence each other and every output would be judged twice.
 * Runs the real script with a {@code curl} that serves a JobManager's {@code /jobs/overview} and a
 * {@code flink} that records its arguments.
 */
class SubmitJobsScriptTest {
  private static final String MODERATION_MAIN = "io.genguard.jobs.ModerationJobMain";
  private static final String BIAS_MAIN = BiasAggregationJob.class.getName();

  @TempDir Path flinkHome;
  private Path overview;
  private Path flinkRuns;

  /** What the script printed and how it exited. */
  private record Run(int exitCode, String output) {}

  @BeforeEach
  void fakeCluster() throws IOException {
    Path bin = Files.createDirectories(flinkHome.resolve("bin"));
    overview = flinkHome.resolve("overview.json");
    flinkRuns = flinkHome.resolve("flink-runs");
    executable(bin.resolve("curl"), "#!/usr/bin/env bash\ncat '" + overview + "'\n");
    // Prints what flink run --detached prints, with a job id made of the class name's length.
    executable(
        bin.resolve("flink"),
        "#!/usr/bin/env bash\necho \"$*\" >> '"
            + flinkRuns
            + "'\nargs=\"$*\"; class=\"${args##*--class }\"; class=\"${class%% *}\"\n"
            + "echo \"Job has been submitted with JobID $(printf '%032x' ${#class})\"\n");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "CREATED",
        "INITIALIZING",
        "RUNNING",
        "RESTARTING",
        "FAILING",
        "CANCELLING",
        "SUSPENDED",
        "RECONCILING"
      })
  void shouldNotSubmitAJobTheClusterStillHolds(String state) throws Exception {
    overview(
        job("m1", ModerationJob.JOB_NAME, state), job("b1", BiasAggregationJob.JOB_NAME, state));

    Run run = run(Map.of());

    assertThat(run.exitCode()).isZero();
    assertThat(submissions()).as("flink run calls").isEmpty();
    assertThat(run.output())
        .contains(ModerationJob.JOB_NAME + " is already on the cluster (job m1, " + state + ")")
        .contains(
            BiasAggregationJob.JOB_NAME + " is already on the cluster (job b1, " + state + ")")
        .contains("flink cancel m1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"FINISHED", "CANCELED", "FAILED"})
  void shouldSubmitAgainAJobWhoseEarlierRunEnded(String state) throws Exception {
    overview(
        job("m1", ModerationJob.JOB_NAME, state),
        job("b1", BiasAggregationJob.JOB_NAME, "RUNNING"));

    Run run = run(Map.of());

    assertThat(run.exitCode()).isZero();
    assertThat(submissions()).hasSize(1);
    assertThat(submissions().get(0)).contains("--class " + MODERATION_MAIN);
    assertThat(run.output())
        .contains(ModerationJob.JOB_NAME + ": earlier runs have ended (m1 " + state + ")");
  }

  @Test
  void shouldNotSubmitWhenACopyIsStillThereBesideAnEndedOne() throws Exception {
    overview(
        job("m1", ModerationJob.JOB_NAME, "FAILED"),
        job("m2", ModerationJob.JOB_NAME, "RESTARTING"),
        job("b1", BiasAggregationJob.JOB_NAME, "RUNNING"));

    Run run = run(Map.of());

    assertThat(submissions()).isEmpty();
    assertThat(run.output()).contains("(job m2, RESTARTING)");
  }

  @Test
  void shouldSubmitBothJobsToAnEmptyClusterEachFromItsOwnSavepoint() throws Exception {
    overview();

    Run run =
        run(
            Map.of(
                "GENGUARD_FLINK_SAVEPOINT_MODERATION", "file:///var/lib/flink/savepoints/sp-m",
                "GENGUARD_FLINK_SAVEPOINT_BIAS", "file:///var/lib/flink/savepoints/sp-b"));

    assertThat(run.exitCode()).isZero();
    assertThat(submissions()).hasSize(2);
    assertThat(submissions().get(0))
        .startsWith("run --detached")
        .contains("--class " + MODERATION_MAIN)
        .contains("--fromSavepoint file:///var/lib/flink/savepoints/sp-m");
    assertThat(submissions().get(1))
        .contains("--class " + BIAS_MAIN)
        .contains("--fromSavepoint file:///var/lib/flink/savepoints/sp-b");
  }

  @Test
  void shouldJournalWhichJobIdEachJobWasSubmittedUnder() throws Exception {
    Path journal = flinkHome.resolve("submitted-jobs.log");
    Files.writeString(journal, "2026-12-01T00:00:00Z genguard-moderation 0a no-savepoint\n");
    overview();

    run(Map.of("GENGUARD_FLINK_SAVEPOINT_BIAS", "file:///sp/b"), journal.toString());

    List<String> lines = Files.readAllLines(journal);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1))
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ .*")
        .endsWith(
            " "
                + ModerationJob.JOB_NAME
                + " "
                + String.format("%032x", MODERATION_MAIN.length())
                + " no-savepoint");
    assertThat(lines.get(2))
        .endsWith(
            " "
                + BiasAggregationJob.JOB_NAME
                + " "
                + String.format("%032x", BIAS_MAIN.length())
                + " file:///sp/b");
  }

  @Test
  void shouldStopAtTheFirstSubmissionThatFails() throws Exception {
    executable(flinkHome.resolve("bin/flink"), "#!/usr/bin/env bash\necho refused\nexit 1\n");
    overview();

    Run run = run(Map.of());

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.output())
        .contains("refused")
        .contains("flink run of " + ModerationJob.JOB_NAME + " failed")
        .doesNotContain("submitting " + BiasAggregationJob.JOB_NAME);
  }

  @Test
  void shouldReadAnOverviewSpreadOverLinesWithItsFieldsInAnyOrder() throws Exception {
    Files.writeString(
        overview,
        "{\n  \"jobs\" : [ {\n    \"jid\" : \"m1\",\n    \"state\" : \"SUSPENDED\",\n"
            + "    \"tasks\" : { \"running\" : 0 },\n    \"name\" : \""
            + ModerationJob.JOB_NAME
            + "\"\n  } ]\n}\n");

    Run run = run(Map.of());

    assertThat(submissions()).hasSize(1);
    assertThat(submissions().get(0)).contains("--class " + BIAS_MAIN);
    assertThat(run.output()).contains("(job m1, SUSPENDED)");
  }

  @Test
  void shouldSubmitNothingWhenTheOverviewCannotBeRead() throws Exception {
    executable(flinkHome.resolve("bin/curl"), "#!/usr/bin/env bash\nexit 7\n");

    Run run = run(Map.of());

    assertThat(run.exitCode()).isNotZero();
    assertThat(submissions()).isEmpty();
    assertThat(run.output()).contains("cannot read http://jobmanager:8081/jobs/overview");
  }

  private void overview(String... jobs) throws IOException {
    Files.writeString(overview, "{\"jobs\":[" + String.join(",", jobs) + "]}");
  }

  /** One job as Flink 2.2's GET /jobs/overview writes it. */
  private static String job(String jid, String name, String state) {
    return "{\"jid\":\""
        + jid
        + "\",\"name\":\""
        + name
        + "\",\"start-time\":1765000000000,\"end-time\":-1,\"duration\":5000,\"state\":\""
        + state
        + "\",\"last-modification\":1765000005000,\"tasks\":{\"running\":3,\"canceling\":0,"
        + "\"canceled\":0,\"total\":3,\"created\":0,\"scheduled\":0,\"deploying\":0,"
        + "\"reconciling\":0,\"finished\":0,\"initializing\":0,\"failed\":0}}";
  }

  private Run run(Map<String, String> environment, String... arguments) throws Exception {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add(RepositoryFiles.resolve("docker/flink/submit-jobs.sh").toString());
    command.addAll(List.of(arguments));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("PATH", flinkHome.resolve("bin") + ":" + System.getenv("PATH"));
    builder.environment().put("FLINK_HOME", flinkHome.toString());
    builder.environment().remove("GENGUARD_FLINK_REST");
    builder.environment().remove("GENGUARD_FLINK_SAVEPOINT_MODERATION");
    builder.environment().remove("GENGUARD_FLINK_SAVEPOINT_BIAS");
    builder.environment().putAll(environment);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), output);
  }

  private List<String> submissions() throws IOException {
    return Files.exists(flinkRuns) ? Files.readAllLines(flinkRuns) : List.of();
  }

  private static void executable(Path file, String script) throws IOException {
    Files.writeString(file, script);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
