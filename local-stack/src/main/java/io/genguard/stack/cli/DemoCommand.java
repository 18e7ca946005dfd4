package io.genguard.stack.cli;

import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.query.AuditQueries.Completeness;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topics;
import io.genguard.stack.DemoWorkload;
import io.genguard.stack.GenGuardStack;
import io.genguard.stack.StackConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code genguard demo}: the embedded stack plus a demo workload, with live progress. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Start the embedded stack, send a demo workload (some of it unsafe) and show each"
            + " request become released, quarantined or held for review.")
final class DemoCommand implements Callable<Integer> {
  @Mixin StackOptions stack;

  /** Most requests one demo sends: a million takes this machine hours already. */
  static final int MAX_REQUESTS = 1_000_000;

  @Option(
      names = "--requests",
      paramLabel = "N",
      defaultValue = "40",
      description = "How many requests to send (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(
      names = "--exit",
      description = "Exit when every request is settled, printing one JSON summary line.")
  boolean exit;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "600",
      description = "With --exit: give up after this long (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    // Checked before the stack starts: each request's id is kept until the end, and two billion
    // of them ran out of memory with the stack already up.
    if (requests < 0 || requests > MAX_REQUESTS) {
      throw new IllegalArgumentException(
          "--requests must be from 0 to " + MAX_REQUESTS + ", was " + requests);
    }
    if (timeoutSeconds < 1) {
      throw new IllegalArgumentException(
          "--timeout must be at least 1 second, was " + timeoutSeconds);
    }
    // The stack's options and settings are checked first: a refused one is the only line.
    StackConfig config = stack.toConfig();
    Progress.say("Starting GenGuard (Kafka, PostgreSQL, Flink, Kafka Streams, services)...");
    GenGuardStack genguard = GenGuardStack.start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              Progress.say("Stopping GenGuard...");
              genguard.close();
              stopped.countDown();
            },
            "genguard-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    Progress.say(
        "Audit API: http://127.0.0.1:"
            + genguard.httpPort()
            + "/api/v1/summary"
            + "  Kafka: "
            + genguard.bootstrapServers()
            + "  state: "
            + genguard.stateDir());

    long begin = System.nanoTime();
    DemoWorkload workload = DemoWorkload.builtIn();
    List<String> ids = new ArrayList<>(requests);
    sendMalformedRecord(genguard);
    for (int i = 0; i < requests; i++) {
      GenerationRequest request = workload.request(i, "demo");
      genguard.audit().submitter().send(request);
      ids.add(request.getRequestId());
    }
    Progress.say(
        "Sent " + requests + " requests and 1 malformed record (to show the dead-letter path).");

    Completeness done = waitUntilSettled(genguard, ids, Duration.ofSeconds(timeoutSeconds));
    double seconds = (System.nanoTime() - begin) / 1e9;
    long deadLetters = genguard.audit().queries().summary().get("dead_letters");
    if (exit) {
      System.out.println(summaryJson(done, deadLetters, seconds));
      Runtime.getRuntime().removeShutdownHook(hook);
      genguard.close();
      return ok(done) ? 0 : 1;
    }
    Progress.say(demoOutcome(done, seconds) + " Still serving:");
    sayHowToUse(genguard);
    Progress.say("Press Ctrl-C to stop.");
    stopped.await();
    return 0;
  }

  /** How to reach a running stack: UI, API token, submit, summary, metrics. */
  static void sayHowToUse(GenGuardStack genguard) {
    String api = "http://127.0.0.1:" + genguard.httpPort();
    String token = "$(cat " + genguard.adminTokenFile() + ")";
    Progress.say(
        "  UI:      "
            + api
            + "/ui/ (sign in with the admin token in "
            + genguard.adminTokenFile()
            + ")");
    Progress.say(
        "  submit:  GENGUARD_API_TOKEN="
            + token
            + " ./genguard submit \"your prompt\" --api "
            + api);
    Progress.say(
        "  summary: curl -H \"Authorization: Bearer " + token + "\" " + api + "/api/v1/summary");
    Progress.say("  metrics: http://127.0.0.1:" + genguard.metricsPort() + "/metrics");
    Progress.say(
        "  audit:   ./genguard audit verify --stack-dir "
            + genguard.stateDir()
            + " (checks the chain and the heads anchored in "
            + genguard.anchorFile()
            + ")");
    Progress.say(
        "  proof:   curl -H \"Authorization: Bearer "
            + token
            + "\" -o evidence.json "
            + api
            + "/api/v1/requests/REQUEST_ID/evidence && ./genguard audit verify-evidence --in"
            + " evidence.json --anchor-keys "
            + AnchorLog.publicKeyFile(genguard.anchorFile())
            + " (one request's records, proven without the database)");
  }

  /**
   * What the workload came to, for a demo that keeps serving: settled only when it settled, and the
   * invariant's breach said when {@link #ok} does not hold (the JSON of {@code --exit} says it
   * too).
   */
  static String demoOutcome(Completeness done, double seconds) {
    String took = String.format(java.util.Locale.ROOT, "%.1f", seconds);
    if (!done.settled()) {
      return "Demo workload not settled after " + took + " s (see the line above).";
    }
    if (!ok(done)) {
      return "Demo workload settled in "
          + took
          + " s, but NOT every request has exactly one output or failure, one verdict per output"
          + " and one gate outcome per verdict: "
          + summaryJson(done, 0, seconds)
          + ".";
    }
    return "Demo workload settled in " + took + " s; every request checked.";
  }

  static boolean ok(Completeness done) {
    return done.audited() == done.requested()
        && done.withOneOutput() + done.failures() == done.requested()
        && done.outputs() == done.withOneOutput()
        && done.verdicts() == done.withOneVerdict()
        && done.withOneVerdict() == done.withOneOutput()
        && done.gated() == done.withOneVerdict()
        && done.releasedTwice() == 0
        && done.releasedWithoutReleaseVerdict() == 0;
  }

  static String summaryJson(Completeness done, long deadLetters, double seconds) {
    return String.format(
        java.util.Locale.ROOT,
        "{\"requests\":%d,\"outputs\":%d,\"verdicts\":%d,\"audited\":%d,\"released\":%d,"
            + "\"quarantined\":%d,\"review\":%d,\"failed\":%d,\"dead_letters\":%d,\"seconds\":%.1f}",
        done.requested(),
        done.outputs(),
        done.verdicts(),
        done.audited(),
        done.released(),
        done.quarantined(),
        done.awaitingReview(),
        done.failures(),
        deadLetters,
        seconds);
  }

  private static Completeness waitUntilSettled(
      GenGuardStack genguard, List<String> ids, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Completeness done = genguard.audit().queries().completeness(ids);
    String last = "";
    while (!done.settled() && System.nanoTime() < deadline) {
      Thread.sleep(500);
      done = genguard.audit().queries().completeness(ids);
      String line =
          String.format(
              "progress: %d/%d gated  released=%d quarantined=%d review=%d failed=%d",
              done.gated() + done.failures(),
              done.requested(),
              done.released(),
              done.quarantined(),
              done.awaitingReview(),
              done.failures());
      if (!line.equals(last)) {
        Progress.say(line);
        last = line;
      }
    }
    if (!done.settled()) {
      Progress.say(
          "Timed out after "
              + timeout.toSeconds()
              + " s with "
              + (done.requested() - done.gated() - done.failures())
              + " requests not yet gated.");
    }
    return done;
  }

  /** One record of garbage on gen.requests: it must end up as a dead letter, nothing else. */
  private static void sendMalformedRecord(GenGuardStack genguard) throws Exception {
    Properties props = new Properties();
    props.putAll(genguard.kafkaProperties());
    try (var producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer
          .send(
              new ProducerRecord<>(
                  Topics.GENERATION_REQUESTS.name(),
                  "malformed".getBytes(StandardCharsets.UTF_8),
                  "{\"prompt\": \"this is JSON, not an Avro event\"}"
                      .getBytes(StandardCharsets.UTF_8)))
          .get();
    }
  }
}
