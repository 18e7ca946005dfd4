package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Option values that cannot work are refused before anything starts, with the option's name: none
 * of these runs starts a server.
 */
class CommandOptionsTest {
  @Test
  void shouldNameTheFlagOfAPortThatIsNoPort() {
    CommandRun run = CommandRun.of(new RunCommand(), "--http-port", "70000");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--http-port 70000").contains("0-65535");
    for (String flag :
        new String[] {
          "--kafka-port", "--postgres-port", "--metrics-port", "--flink-metrics-port"
        }) {
      assertThat(CommandRun.of(new RunCommand(), flag, "-1").err()).as(flag).contains(flag + " -1");
    }
  }

  @Test
  void shouldRefuseAnEmptyDataDirectoryInsteadOfWritingTheStateHere() {
    // --data-dir "$DIR" with DIR unset: the state would go into the current directory.
    CommandRun run = CommandRun.of(new RunCommand(), "--data-dir", "", "--http-port", "70000");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--data-dir");
  }

  @Test
  void shouldRefuseADemoTimeoutBelowOneSecond() {
    // The bad port would stop the start too; the timeout is checked first.
    for (String timeout : new String[] {"0", "-1"}) {
      CommandRun run =
          CommandRun.of(new DemoCommand(), "--timeout", timeout, "--http-port", "70000");

      assertThat(run.code()).isEqualTo(2);
      assertThat(run.err()).as(timeout).contains("--timeout");
    }
    for (String requests : new String[] {"-1", "1000001", "2000000000"}) {
      CommandRun run =
          CommandRun.of(new DemoCommand(), "--requests", requests, "--http-port", "70000");

      assertThat(run.code()).isEqualTo(2);
      assertThat(run.err())
          .as(requests)
          .contains("--requests must be from 0 to 1000000, was " + requests);
    }
  }

  @Test
  void shouldRefuseBenchmarkCountsAndRatesThatCannotBeMeasured() {
    String[][] refused = {
      {"moderation", "--outputs", "-5", "--warmup", "0"},
      {"moderation", "--outputs", "0"},
      {"plumbing", "--outputs", "0"},
      {"moderation", "--warmup", "-1", "--outputs", "-5"},
      {"plumbing", "--warmup", "-1", "--outputs", "-5"},
      {"moderation", "--rate", "-1", "--outputs", "-5", "--warmup", "0"},
      {"plumbing", "--rate", "NaN", "--outputs", "-5"},
      {"moderation", "--rate", "Infinity", "--outputs", "-5", "--warmup", "0"},
      {"moderation", "--rounds", "0", "--outputs", "-5", "--warmup", "0"},
    };
    for (String[] args : refused) {
      String option = args[1];
      CommandRun run = CommandRun.of(new BenchCommand(), args);

      assertThat(run.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(run.err()).as(String.join(" ", args)).contains(option);
    }
  }

  @Test
  void shouldRefuseStackFlagsTheModerationBenchmarkDoesNotRead() {
    // It starts no stack: only --scorer of the stack flags applies. The bad --outputs would stop
    // the run too; the flag is refused first.
    String[][] refused = {
      {"--data-dir", "/tmp/genguard-bench"},
      {"--http-port", "8081"},
      {"--kafka-port", "9092"},
      {"--postgres-port", "5432"},
      {"--metrics-port", "9464"},
      {"--flink-metrics-port", "9249"},
      {"--policy", "policy.yaml"},
    };
    for (String[] flag : refused) {
      CommandRun run =
          CommandRun.of(new BenchCommand(), "moderation", flag[0], flag[1], "--outputs", "-5");

      assertThat(run.code()).as(flag[0]).isEqualTo(2);
      assertThat(run.err()).as(flag[0]).contains(flag[0]).contains("bench moderation");
    }
    CommandRun scorer =
        CommandRun.of(
            new BenchCommand(), "moderation", "--scorer", "sentence-max", "--outputs", "-5");
    assertThat(scorer.err()).contains("--outputs").doesNotContain("--scorer");
  }

  @Test
  void shouldRefuseFlagsThePlumbingBenchmarkDoesNotRead() {
    // It always runs the trivial benchmark scorer, and repeats warm-up rounds until steady.
    for (String[] args :
        new String[][] {
          {"plumbing", "--scorer", "sentence-max", "--outputs", "-5"},
          {"--scorer", "sentence-max", "--outputs", "-5"},
          {"plumbing", "--rounds", "3", "--outputs", "-5"},
        }) {
      String flag = args[0].equals("plumbing") ? args[1] : args[0];
      CommandRun run = CommandRun.of(new BenchCommand(), args);

      assertThat(run.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(run.err()).as(String.join(" ", args)).contains(flag).contains("bench plumbing");
    }
  }

  @Test
  void shouldRefuseTheBenchmarkScorerForAStackThatServes() {
    for (Object command : new Object[] {new RunCommand(), new DemoCommand()}) {
      CommandRun run = CommandRun.of(command, "--scorer", "trivial-benchmark");

      assertThat(run.code()).as(command.getClass().getSimpleName()).isEqualTo(2);
      assertThat(run.err()).contains("--scorer is 'trivial-benchmark'", "release everything");
    }
  }

  @Test
  void shouldRefuseTheBenchmarkScorerForABatchScore(@TempDir Path dir) throws Exception {
    Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"id\": 1, \"text\": \"hello\"}\n");
    Path out = dir.resolve("out.jsonl");

    CommandRun run =
        CommandRun.of(
            new PassThroughCommands.Score(),
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--scorer",
            "trivial-benchmark");

    assertThat(run.code()).isEqualTo(2);
    assertThat(out).as("nothing scored with it").doesNotExist();
  }

  @Test
  void shouldRefuseResubmitFlagsWithoutResume() {
    for (String flag : new String[] {"--resubmit-pending", "--resubmit-unscored"}) {
      CommandRun run = CommandRun.of(new AuditCampaignCommand(), "--file", "campaign.yaml", flag);

      assertThat(run.code()).as(flag).isEqualTo(2);
      assertThat(run.err()).as(flag).contains(flag).contains("--resume");
    }
  }

  @Test
  void shouldRefuseANegativeWaitBeforeSubmittingAnything() {
    // Port 1: were the flag not checked first, the request would go nowhere rather than to a stack.
    CommandRun submit =
        CommandRun.of(
            new SubmitCommand(),
            "a prompt",
            "--token",
            "t",
            "--api",
            "http://127.0.0.1:1",
            "--wait",
            "-1");

    assertThat(submit.code()).isEqualTo(2);
    assertThat(submit.err()).contains("--wait -1");

    // Checked before the campaign file is read or the audit store is reached.
    CommandRun campaign =
        CommandRun.of(
            new AuditCampaignCommand(), "--file", "no-such-campaign.yaml", "--wait", "-1");

    assertThat(campaign.code()).isEqualTo(2);
    assertThat(campaign.err()).contains("--wait -1");
  }

  @Test
  void shouldRefuseAnAuditBenchmarkWithoutLookupsToTime() {
    CommandRun run =
        CommandRun.of(
            new AuditBenchCommand(),
            "--lookups",
            "0",
            "--outputs",
            "1",
            "--events",
            "0",
            "--held-new-records",
            "0");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--lookups");
    assertThat(CommandRun.of(new AuditBenchCommand(), "--events", "-1").err()).contains("--events");
  }

  @Test
  void shouldNameTheApiFlagWhenItIsNoHttpUrl() {
    for (String api : new String[] {"localhost:8080", "ftp://127.0.0.1:8080", "http://a b"}) {
      CommandRun run = CommandRun.of(new SubmitCommand(), "a prompt", "--token", "t", "--api", api);

      assertThat(run.code()).as(api).isEqualTo(2);
      assertThat(run.err()).as(api).contains("--api");
    }
  }

  @Test
  void shouldRefuseAReportOutThatIsADirectoryBeforeBuildingTheReport(@TempDir Path dir) {
    // No database named: before, the report was built, stored and published first, and only its
    // write failed, without the report's id; now nothing is built, nor a database asked.
    CommandRun run = CommandRun.of(new AuditReportCommand(), "campaign-1", "--out", dir.toString());

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--out " + dir + " is a directory").doesNotContain("database");
  }
}
