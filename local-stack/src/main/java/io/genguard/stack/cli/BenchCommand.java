package io.genguard.stack.cli;

import io.genguard.stack.bench.PlumbingBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code genguard bench plumbing}: throughput and latency of the embedded pipeline. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks. 'plumbing': outputs/s from gen.outputs to persisted verdict and gate"
        + " outcome, with the trivial benchmark scorer; prints one JSON line per run.")
final class BenchCommand implements Callable<Integer> {
  @Mixin StackOptions stack;

  @Option(names = "--outputs", defaultValue = "50000", description = "Outputs per run (default ${DEFAULT-VALUE}).")
  int outputs;

  @Option(names = "--rate", defaultValue = "0",
      description = "Offered outputs/s; 0 = as fast as possible (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--warmup", defaultValue = "5000", description = "Warm-up outputs (default ${DEFAULT-VALUE}).")
  int warmup;

  @Override
  public Integer call() throws Exception {
    Progress.say("Plumbing benchmark: " + outputs + " outputs"
        + (rate > 0 ? " at " + rate + "/s" : " as fast as possible") + ", trivial benchmark scorer");
    PlumbingBenchmark.Result result = PlumbingBenchmark.run(stack.toConfig(), outputs, rate, warmup);
    System.out.println(result.json());
    return 0;
  }
}
