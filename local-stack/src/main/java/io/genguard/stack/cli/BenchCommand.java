package io.genguard.stack.cli;

import io.genguard.stack.bench.ModerationBenchmark;
import io.genguard.stack.bench.PlumbingBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code genguard bench plumbing}: throughput and latency of the embedded pipeline. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks; each prints one JSON line. 'plumbing': outputs/s from gen.outputs to"
            + " persisted verdict and gate outcome, with the trivial benchmark scorer. 'moderation': the"
            + " Flink job's outputs/s with a real scorer against the bare scorer's texts/s (with --rate:"
            + " latency at that rate).")
final class BenchCommand implements Callable<Integer> {
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
    // Before anything starts: these would fail deep inside a run (or measure nothing).
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
    if (!what.equals("plumbing")) {
      throw new IllegalArgumentException(
          "Unknown benchmark '" + what + "'; use plumbing or moderation");
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
}
