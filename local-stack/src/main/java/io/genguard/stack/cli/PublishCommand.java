package io.genguard.stack.cli;

import io.genguard.stack.ReferencePublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code genguard publish}: {@link ReferencePublisher} from the command line. */
@Command(
    name = "publish",
    mixinStandardHelpOptions = true,
    description = {
      "A reference platform: publishes what content.released releases as one JSON file per"
          + " request (DIR/TENANT/REQUEST.json) and removes what content.retractions takes down,"
          + " whichever comes first; goes on where the last run of the same --group stopped.",
      "Both topics carry every tenant's records: a platform of one tenant passes --tenant (and"
          + " its own --group), and the others' are skipped.",
      "Prints one JSON object of counts when it stops (--once: when caught up; else on Ctrl-C).",
      "A retraction that does not decode stops it (exit 1, its position in stopped_at), and every"
          + " run stops there until a build that decodes it runs: skipped, the output it takes"
          + " down would stay published. A release that does not decode is counted and skipped."
    })
final class PublishCommand implements Callable<Integer> {
  /** How long a stop waits for a run that gets no further (a hung broker or disk). */
  static final Duration STALLED = Duration.ofSeconds(10);

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Where the published outputs are kept.")
  Path out;

  @Option(
      names = "--group",
      paramLabel = "GROUP",
      defaultValue = ReferencePublisher.DEFAULT_GROUP,
      description = "Consumer group that remembers how far runs got (default ${DEFAULT-VALUE}).")
  String group;

  @Option(
      names = "--tenant",
      paramLabel = "TENANT",
      description =
          "Publish and take down only this tenant's outputs; other tenants' records are counted"
              + " (other_tenants) and skipped. Default: every tenant's.")
  String tenant;

  @Option(names = "--once", description = "Stop once caught up with both topics.")
  boolean once;

  @Option(
      names = "--from-beginning",
      description =
          "Read both topics from their first record, not from where the last run stopped.")
  boolean fromBeginning;

  @Override
  public Integer call() throws Exception {
    ReferencePublisher publisher =
        new ReferencePublisher(
            ReferencePublisher.Settings.of(
                    kafka.clientProperties(), out, group, once, fromBeginning)
                .onlyTenant(tenant));
    // Ctrl-C stops the run after the batch it applies, and waits for its counts to be printed:
    // as long as the batch takes while it gets on, so a slow disk does not cut it (and its counts)
    // short.
    CountDownLatch printed = new CountDownLatch(1);
    Thread stopper =
        new Thread(
            () -> {
              publisher.stop();
              try {
                awaitWhileProgressing(printed, publisher::progress, STALLED);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "publish-stop");
    Runtime.getRuntime().addShutdownHook(stopper);
    try {
      System.out.println(publisher.run().json());
    } catch (ReferencePublisher.UndecodableRetractionException e) {
      // What it applied before it stopped, then the reason (exit 1).
      System.out.println(e.result().json().put("stopped_at", e.position()));
      throw e;
    } finally {
      printed.countDown();
    }
    return 0;
  }

  /**
   * Waits for {@code done} as long as {@code progress} moves, giving up once it has not moved for
   * {@code stalled}.
   *
   * @return whether {@code done} came
   */
  static boolean awaitWhileProgressing(CountDownLatch done, LongSupplier progress, Duration stalled)
      throws InterruptedException {
    long seen = progress.getAsLong();
    long since = System.nanoTime();
    while (!done.await(50, TimeUnit.MILLISECONDS)) {
      long now = progress.getAsLong();
      if (now != seen) {
        seen = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= stalled.toNanos()) {
        return false;
      }
    }
    return true;
  }
}
