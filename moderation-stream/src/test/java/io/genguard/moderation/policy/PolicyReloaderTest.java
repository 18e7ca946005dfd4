package io.genguard.moderation.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyReloaderTest {
  @TempDir Path dir;

  /** The reloader's clock, in nanoseconds. */
  private final long[] nanos = {0};

  @Test
  void shouldKeepTheRunningPolicyWhenTheNewFileIsInvalid() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = reloader(file);
    write(
        PolicyFixtures.POLICY
            .replace("version: \"7\"", "version: \"8\"")
            .replace("block: 0.90}", "block: 9}"),
        2);

    PolicyReloader.Result result = reloadOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error()).contains("at line 5").contains("thresholds are probabilities");
    assertThat(reloader.get().version()).isEqualTo("7");
    assertThat(reloader.lastError()).isEqualTo(result.error());
  }

  @Test
  void shouldPutAValidNewVersionInForce() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = reloader(file);
    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.UNCHANGED);
    write(PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\""), 2);

    assertThat(reloader.reloadIfChanged().outcome())
        .as("read once it has stayed the same for a while")
        .isEqualTo(PolicyReloader.Outcome.SETTLING);
    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
    assertThat(reloader.lastError()).isNull();
  }

  @Test
  void shouldRefuseChangedRulesThatKeepTheOldVersion() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = reloader(file);
    write(
        PolicyFixtures.POLICY.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60"), 2);

    PolicyReloader.Result result = reloadOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error()).contains("still says version '7'");
    assertThat(reloader.get().defaultPolicy().categories().values())
        .extracting(Thresholds::review)
        .doesNotContain(0.10);
  }

  @Test
  void shouldWaitForAFileCaughtHalfWrittenAndPutTheWholeFileInForce() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = reloader(file);
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    // The writer has written version 8 up to its tenants: a valid policy, but not the file.
    write(version8.substring(0, version8.indexOf("tenants:")), 2);

    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.SETTLING);
    write(version8, 2);
    nanos[0] += PolicyReloader.SETTLE.toNanos();
    assertThat(reloader.reloadIfChanged().outcome())
        .as("changed again since last seen: settling anew")
        .isEqualTo(PolicyReloader.Outcome.SETTLING);
    nanos[0] += PolicyReloader.SETTLE.toNanos();

    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
    assertThat(reloader.get().tenants()).containsKey("strict");
    assertThat(reloader.lastError()).isNull();
  }

  @Test
  void shouldNotTakeAFileThatChangedWhileItWasRead() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    boolean[] writerFinished = {false};
    Function<Path, PolicySet> loadWhileTheWriterFinishes =
        path -> {
          PolicySet read = PolicyLoader.load(path);
          if (read.version().equals("8") && !writerFinished[0]) {
            writerFinished[0] = true;
            rewrite(version8, 3);
          }
          return read;
        };
    PolicyReloader reloader = new PolicyReloader(file, () -> nanos[0], loadWhileTheWriterFinishes);
    write(version8.substring(0, version8.indexOf("tenants:")), 2);
    reloader.reloadIfChanged();
    nanos[0] += PolicyReloader.SETTLE.toNanos();

    assertThat(reloader.reloadIfChanged().outcome())
        .as("the half file was read, but the file changed meanwhile")
        .isEqualTo(PolicyReloader.Outcome.SETTLING);
    assertThat(reloader.get().version()).isEqualTo("7");

    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().tenants()).containsKey("strict");
  }

  @Test
  void shouldStartUnderThePolicyInForceWhateverTheFileSaysThenReadTheFileOnceSettled()
      throws Exception {
    PolicySet inForce = PolicyLoader.parse(PolicyFixtures.POLICY, "policy in force");
    Path file = write("policyId: test-policy\nversion: \"8\"\ndefault: {categ", 1);

    PolicyReloader reloader = restarted(file, inForce);

    assertThat(reloader.get()).as("a half-written file does not fail the start").isSameAs(inForce);
    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.SETTLING);
    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(reloader.get()).isSameAs(inForce);
    write(PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\""), 2);
    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
  }

  @Test
  void shouldRefuseAtRestartChangedRulesThatKeepTheVersionInForce() throws Exception {
    PolicySet inForce = PolicyLoader.parse(PolicyFixtures.POLICY, "policy in force");
    Path file =
        write(
            PolicyFixtures.POLICY.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60"),
            1);
    PolicyReloader reloader = restarted(file, inForce);

    PolicyReloader.Result result = reloadOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error()).contains("still says version '7'");
    assertThat(reloader.get()).isSameAs(inForce);
  }

  @Test
  void shouldKeepThePolicyInForceWhenTheFileIsTheSame() throws Exception {
    PolicySet inForce = PolicyLoader.parse(PolicyFixtures.POLICY, "policy in force");
    PolicyReloader reloader = restarted(write(PolicyFixtures.POLICY, 1), inForce);

    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.UNCHANGED);
    assertThat(reloader.get()).isSameAs(inForce);
    assertThat(reloader.reloadIfChanged().outcome())
        .as("read once: the file is not read again until it changes")
        .isEqualTo(PolicyReloader.Outcome.UNCHANGED);
  }

  @Test
  void shouldSeeARewriteThatKeepsTheSizeAndTheModificationTime() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = reloader(file);
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    assertThat(version8).hasSameSizeAs(PolicyFixtures.POLICY);
    // As cp -p or rsync -t would leave it: same length, same modification time.
    write(version8, 1);

    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.UNCHANGED);
  }

  @Test
  void shouldRefuseAnEarlierVersionReusedForOtherRulesButTakeThatVersionBack() throws Exception {
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    String other7 =
        PolicyFixtures.POLICY.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60");
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = reloader(file);
    write(version8, 2);
    assertThat(reloadOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    write(other7, 3);

    PolicyReloader.Result result = reloadOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error())
        .contains("says version '7', which this job already had in force with other rules")
        .contains(PolicyFixtures.policy().sha256())
        .contains("give these rules a new version");
    assertThat(reloader.get().version()).isEqualTo("8");
    write(PolicyFixtures.POLICY, 4);
    assertThat(reloadOnceSettled(reloader).outcome())
        .as("version 7 with the rules it had")
        .isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.versionsSeen())
        .containsExactly(
            Map.entry("8", PolicyLoader.parse(version8, "x").sha256()),
            Map.entry("7", PolicyFixtures.policy().sha256()));
  }

  @Test
  void shouldRememberAtRestartTheVersionsSeenBeforeIt() throws Exception {
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    PolicySet inForce = PolicyLoader.parse(version8, "policy in force");
    Path file =
        write(
            PolicyFixtures.POLICY.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60"),
            1);
    PolicyReloader reloader =
        new PolicyReloader(
            file,
            inForce,
            Map.of("7", PolicyFixtures.policy().sha256()),
            () -> nanos[0],
            PolicyLoader::load);

    PolicyReloader.Result result = reloadOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error()).contains("says version '7', which this job already had in force");
    assertThat(reloader.get()).isSameAs(inForce);
  }

  @Test
  void shouldRememberOnlyTheNewestVersions() throws Exception {
    Map<String, String> many = new LinkedHashMap<>();
    for (int i = 0; i < PolicyReloader.MAX_VERSIONS_REMEMBERED + 10; i++) {
      many.put("old-" + i, "digest-" + i);
    }
    PolicySet inForce = PolicyFixtures.policy();
    PolicyReloader reloader =
        new PolicyReloader(
            write(PolicyFixtures.POLICY, 1), inForce, many, () -> nanos[0], PolicyLoader::load);

    assertThat(reloader.versionsSeen())
        .hasSize(PolicyReloader.MAX_VERSIONS_REMEMBERED)
        .doesNotContainKeys("old-0", "old-10")
        .containsKeys("old-11", "old-" + (PolicyReloader.MAX_VERSIONS_REMEMBERED + 9))
        .containsEntry("7", inForce.sha256());
  }

  @Test
  void shouldTakeAtRestartASettledFileUnderANewVersionBeforeDecidingAnything() throws Exception {
    PolicySet inForce = PolicyFixtures.policy();
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    PolicyReloader reloader = restarted(write(version8, 1), inForce);

    PolicyReloader.Result result = takeFileOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
    assertThat(nanos[0]).as("modified a minute ago: read at once, no wait").isZero();
    assertThat(reloader.versionsSeen()).containsOnlyKeys("7", "8");
    assertThat(reloader.reloadIfChanged().outcome())
        .as("read once: the next check finds it unchanged")
        .isEqualTo(PolicyReloader.Outcome.UNCHANGED);
  }

  @Test
  void shouldWaitAtRestartForAFileJustWrittenToSettleThenTakeIt() throws Exception {
    PolicySet inForce = PolicyFixtures.policy();
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    PolicyReloader reloader = restarted(write(version8, WALL_CLOCK_SECOND), inForce);

    PolicyReloader.Result result = takeFileOnceSettled(reloader);

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
    assertThat(nanos[0])
        .as("waited until it had stayed the same for the settle time, not for the whole wait")
        .isBetween(PolicyReloader.SETTLE.toNanos(), RESTART_WAIT.toNanos() - 1);
  }

  @Test
  void shouldStayAtRestartUnderThePolicyInForceWhileTheFileKeepsChangingThenTakeItOnceSettled()
      throws Exception {
    PolicySet inForce = PolicyFixtures.policy();
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    Path file = write(version8, WALL_CLOCK_SECOND);
    PolicyReloader reloader = restarted(file, inForce);
    int[] writes = {0};

    PolicyReloader.Result result =
        reloader.takeFileOnceSettled(
            RESTART_WAIT,
            WALL_CLOCK,
            pause -> {
              nanos[0] += pause;
              rewrite(version8 + "# still being written " + ++writes[0] + "\n", WALL_CLOCK_SECOND);
            });

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.SETTLING);
    assertThat(reloader.get()).isSameAs(inForce);
    assertThat(nanos[0]).as("a bounded wait").isEqualTo(RESTART_WAIT.toNanos());
    assertThat(reloadOnceSettled(reloader).outcome())
        .as("the writer done: taken as a live reload takes it")
        .isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
  }

  @Test
  void shouldWaitAtRestartForAFileModifiedInTheFutureOfThisHostsClock() throws Exception {
    PolicySet inForce = PolicyFixtures.policy();
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    PolicyReloader reloader = restarted(write(version8, WALL_CLOCK_SECOND + 3600), inForce);

    assertThat(takeFileOnceSettled(reloader).outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(nanos[0]).as("not read as old: watched until settled").isPositive();
  }

  @Test
  void shouldKeepAtRestartThePolicyInForceOverASettledFileThatIsInvalidOrReusesAVersion()
      throws Exception {
    String version8 = PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\"");
    PolicySet inForce = PolicyLoader.parse(version8, "policy in force");
    Map<String, String> seen = Map.of("7", PolicyFixtures.policy().sha256());
    String other7 =
        PolicyFixtures.POLICY.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60");
    String other8 = version8.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60");

    PolicyReloader reusing7 =
        new PolicyReloader(write(other7, 1), inForce, seen, () -> nanos[0], PolicyLoader::load);
    PolicyReloader.Result reused = takeFileOnceSettled(reusing7);
    assertThat(reused.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(reused.error()).contains("says version '7', which this job already had in force");
    assertThat(reusing7.get()).isSameAs(inForce);

    PolicyReloader keeping8 =
        new PolicyReloader(write(other8, 2), inForce, seen, () -> nanos[0], PolicyLoader::load);
    PolicyReloader.Result kept = takeFileOnceSettled(keeping8);
    assertThat(kept.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(kept.error()).contains("still says version '8'");
    assertThat(keeping8.get()).isSameAs(inForce);

    PolicyReloader invalid =
        new PolicyReloader(
            write("policyId: test-policy\nversion: \"9\"\ndefault: {categ", 3),
            inForce,
            seen,
            () -> nanos[0],
            PolicyLoader::load);
    assertThat(takeFileOnceSettled(invalid).outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(invalid.get()).isSameAs(inForce);

    PolicyReloader same = restarted(write(version8, 4), inForce);
    assertThat(takeFileOnceSettled(same).outcome()).isEqualTo(PolicyReloader.Outcome.UNCHANGED);
    assertThat(same.get()).isSameAs(inForce);
    assertThat(nanos[0]).as("each file settled: read at once").isZero();
  }

  /** The wall clock of the restart tests: a minute after the file fixtures' epoch. */
  private static final int WALL_CLOCK_SECOND = 60;

  private static final Clock WALL_CLOCK =
      Clock.fixed(
          Instant.parse("2026-01-01T00:00:00Z").plusSeconds(WALL_CLOCK_SECOND), ZoneOffset.UTC);

  private static final Duration RESTART_WAIT = Duration.ofSeconds(5);

  /** Reads the file as a restored task does before its first batch; a pause advances the clock. */
  private PolicyReloader.Result takeFileOnceSettled(PolicyReloader reloader) {
    return reloader.takeFileOnceSettled(RESTART_WAIT, WALL_CLOCK, pause -> nanos[0] += pause);
  }

  private PolicyReloader restarted(Path file, PolicySet inForce) {
    return new PolicyReloader(file, inForce, () -> nanos[0], PolicyLoader::load);
  }

  private PolicyReloader reloader(Path file) {
    return new PolicyReloader(file, () -> nanos[0], PolicyLoader::load);
  }

  /** Checks the file, lets the settle time pass, and checks it again. */
  private PolicyReloader.Result reloadOnceSettled(PolicyReloader reloader) {
    reloader.reloadIfChanged();
    nanos[0] += PolicyReloader.SETTLE.toNanos();
    return reloader.reloadIfChanged();
  }

  private void rewrite(String yaml, int second) {
    try {
      write(yaml, second);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private Path write(String yaml, int second) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, yaml);
    Files.setLastModifiedTime(
        file, FileTime.from(Instant.parse("2026-01-01T00:00:00Z").plusSeconds(second)));
    return file;
  }
}
