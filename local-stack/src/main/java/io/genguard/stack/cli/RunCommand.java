package io.genguard.stack.cli;

import io.genguard.stack.GenGuardStack;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code genguard run}: the embedded stack, serving until Ctrl-C. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Start the embedded stack and serve until Ctrl-C (no demo workload).")
final class RunCommand implements Callable<Integer> {
  @Mixin StackOptions stack;

  @Override
  public Integer call() throws Exception {
    GenGuardStack genguard = GenGuardStack.start(stack.toConfig());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  Progress.say("Stopping GenGuard...");
                  genguard.close();
                  stopped.countDown();
                },
                "genguard-shutdown"));
    Progress.say(
        "GenGuard is running. Audit API: http://127.0.0.1:"
            + genguard.httpPort()
            + "  Kafka: "
            + genguard.bootstrapServers()
            + "  state: "
            + genguard.stateDir());
    DemoCommand.sayHowToUse(genguard);
    Progress.say("Press Ctrl-C to stop.");
    stopped.await();
    return 0;
  }
}
