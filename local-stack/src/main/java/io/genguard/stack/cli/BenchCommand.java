package io.genguard.stack.cli;

import io.genguard.stack.bench.ModerationBenchmark;
import io.genguard.stack.bench.PlumbingBenchmark;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/** {@code genguard bench plumbing}: throughput and latency of the embedded pipeline. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks; each prints one JSON line. 'plumbing': outputs/s from gen.outputs to"
            + " persisted verdict and gate outcome, with the trivial benchmark scorer. 'moderation': the"
            + " Flink job's outputs/s with a real scorer against the bare scorer's texts/s (with --rate:"
            + " latency at that rate). The stack flags apply to plumbing, except --scorer, which"
            + " applies to moderation only; a flag the benchmark does not read is refused.")
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin StackOptions stack;

  @Option(
      names = "--outputs",
      defaultValue = "50000",
      description = "Outputs per run (default ${DEFAULT-VALUE}).")
  int outputs;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "Offered outputs/s; 0 = as fast as possible (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--warmup",
      defaultValue = "5000",
      description =
          "Warm-up outputs (plumbing: per round; rounds repeat until the rate is steady)"
              + " (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--rounds",
      defaultValue = "1",
      description =
          "moderation: job rounds, each between two bare-scorer runs; the ratio reported is the"
              + " median over rounds (default ${DEFAULT-VALUE}).")
  int rounds;

  @Parameters(
      index = "0",
      defaultValue = "plumbing",
      paramLabel = "WHAT",
      description =
          "plumbing (default): the whole stack with the trivial benchmark scorer;"
              + " moderation: the Flink job with a real scorer (--scorer) against the bare scorer.")
  String what;

  @Override
  public Integer call() throws Exception {
    if (!what.equals("plumbing") && !what.equals("moderation")) {
      throw new IllegalArgumentException(
          "Unknown benchmark '" + what + "'; use plumbing or moderation");
    }
    // Before anything starts: a flag the benchmark would ignore, then values that would fail deep
    // inside a run (or measure nothing).
    refuseFlagsNotRead();
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException(
          "--rate must be a number of outputs/s, 0 or more (0 = as fast as possible), was " + rate);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("--warmup must not be negative, was " + warmup);
    }
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be at least 1, was " + rounds);
    }
    if (outputs < 1) {
      throw new IllegalArgumentException("--outputs must be at least 1, was " + outputs);
    }
    if (what.equals("moderation")) {
      String scorer = stack.scorer == null ? "default" : stack.scorer;
      Progress.say(
          "Moderation benchmark: "
              + outputs
              + " outputs of ~100 words, scorer "
              + scorer
              + "; bare scorer and Flink job alternately, "
              + rounds
              + " job round(s)");
      System.out.println(ModerationBenchmark.run(scorer, outputs, warmup, rate, rounds).json());
      return 0;
    }
    Progress.say(
        "Plumbing benchmark: "
            + outputs
            + " outputs"
            + (rate > 0 ? " at " + rate + "/s" : " as fast as possible")
            + ", trivial benchmark scorer");
    PlumbingBenchmark.Result result =
        PlumbingBenchmark.run(stack.toConfig(), outputs, rate, warmup);
    System.out.println(result.json());
    return 0;
  }

  /**
   * Refuses the flags given that the benchmark named does not read, rather than run without them:
   * the moderation benchmark starts no stack (of the stack flags it reads only --scorer), and the
   * plumbing benchmark always runs the trivial benchmark scorer and no job rounds.
   */
  private void refuseFlagsNotRead() {
    ParseResult parsed = spec.commandLine().getParseResult();
    List<String> notRead = new ArrayList<>();
    String reason;
    if (what.equals("moderation")) {
      for (OptionSpec option : spec.mixins().get("stack").options()) {
        if (!option.longestName().equals("--scorer") && parsed.hasMatchedOption(option)) {
          notRead.add(option.longestName());
        }
      }
      reason =
          " apply to bench moderation, which starts no stack (it runs the Flink job and the bare"
              + " scorer on their own) and takes only --scorer, --outputs, --rate, --warmup and"
              + " --rounds";
    } else {
      for (String flag : List.of("--scorer", "--rounds")) {
        if (parsed.hasMatchedOption(flag)) {
          notRead.add(flag);
        }
      }
      reason =
          " apply to bench plumbing, which always judges with the trivial benchmark scorer and"
              + " repeats warm-up rounds until the rate is steady (bench moderation --scorer NAME"
              + " [--rounds N] measures a scorer)";
    }
    if (!notRead.isEmpty()) {
      throw new IllegalArgumentException(
          String.join(", ", notRead)
              + (notRead.size() == 1 ? " does not" : " do not")
              + reason
              + "; leave "
              + (notRead.size() == 1 ? "it" : "them")
              + " out");
    }
  }
}
