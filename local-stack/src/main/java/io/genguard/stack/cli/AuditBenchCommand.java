package io.genguard.stack.cli;

import io.genguard.audit.bench.AuditBenchmark;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.infra.EmbeddedPostgresServer;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.stack.TemporaryStateDirs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit bench}: the audit store's benchmarks on a fresh embedded Kafka broker and
 * PostgreSQL: ingestion events/s from Kafka into PostgreSQL, the p99 latency of a request-by-id
 * lookup over the API with N audited requests stored, and on that store the background explainer's
 * search for held verdicts and the unfinished-flow watch. Prints one JSON line per benchmark.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmark audit ingestion (events/s, Kafka to PostgreSQL) and request-by-id lookups (p99 ms"
            + " with N audited outputs stored), and on that store the background explainer's search"
            + " and the unfinished-flow watch, on fresh embedded servers.")
final class AuditBenchCommand implements Callable<Integer> {
  @Option(
      names = "--events",
      defaultValue = "200000",
      description = "Events to ingest (default ${DEFAULT-VALUE}); 0 skips the ingestion benchmark.")
  int events;

  @Option(
      names = "--outputs",
      defaultValue = "1000000",
      description =
          "Audited requests with an output in the store for the lookup benchmark (default ${DEFAULT-VALUE});"
              + " 0 skips it.")
  long outputs;

  @Option(
      names = "--lookups",
      defaultValue = "20000",
      description = "Timed lookups (default ${DEFAULT-VALUE}).")
  int lookups;

  @Option(
      names = "--held-new-records",
      defaultValue = "30000",
      description =
          "After the lookups: the background explainer's search on that store, 10%% of its verdicts"
              + " held and all but 20 of those explained, over the whole chain and over this many"
              + " newest records (default ${DEFAULT-VALUE}, a 5 s round at 2,000 outputs/s); 0 skips"
              + " it.")
  int heldNewRecords;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Keep the servers' data here (a second run reuses the filled store). Default: a temporary"
              + " directory removed at exit.")
  Path dataDir;

  @Override
  public Integer call() throws Exception {
    // Before the servers start and the store is filled.
    notNegative("--events", events);
    notNegative("--outputs", outputs);
    notNegative("--held-new-records", heldNewRecords);
    if (outputs > 0 && lookups < 1) {
      throw new IllegalArgumentException(
          "--lookups must be at least 1 (or --outputs 0 to skip the lookup benchmark), was "
              + lookups);
    }
    boolean temporary = dataDir == null;
    Path dir =
        temporary
            ? temporaryDirectory(Path.of(System.getProperty("java.io.tmpdir")))
            : dataDir.toAbsolutePath();
    Progress.say("Starting embedded Kafka and PostgreSQL in " + dir);
    try (EmbeddedPostgresServer postgres =
            EmbeddedPostgresServer.start(dir.resolve("postgres"), 0, "audit_bench");
        EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(dir.resolve("kafka"), 0)) {
      Map<String, Object> kafkaProperties = Map.of("bootstrap.servers", kafka.bootstrapServers());
      TopicProvisioner.provisionCatalogue(kafkaProperties, 4, (short) 1);
      AuditBenchmark.Servers servers =
          new AuditBenchmark.Servers(
              kafkaProperties, postgres.jdbcUrl(), postgres.user(), postgres.password());
      if (events > 0) {
        Progress.say(
            "Ingestion: producing "
                + events
                + " events, then persisting them with one ingestor...");
        System.out.println(
            AuditBenchmark.ingest(servers, events, "bench" + System.currentTimeMillis()).json());
        Progress.say("Verification: recomputing the chain just written...");
        System.out.println(AuditBenchmark.verify(servers).json());
      }
      if (outputs > 0) {
        Progress.say(
            "Lookup: filling the store to "
                + outputs
                + " audited requests (set-based SQL), then "
                + lookups
                + " timed GET /api/v1/requests/{id}, then up to 1,000 timed data subjects' searches"
                + " (GET /api/v1/outputs?attribute=userId:...)...");
        System.out.println(AuditBenchmark.lookups(servers, outputs, lookups).json());
        if (heldNewRecords > 0) {
          Progress.say(
              "Held-verdict search: every tenth verdict held, all but 20 explained, then the"
                  + " background explainer's search over the whole chain and over the newest "
                  + heldNewRecords
                  + " records...");
          System.out.println(AuditBenchmark.heldSearch(servers, heldNewRecords).json());
        }
        Progress.say(
            "Unfinished-flow watch: checking the whole store as after an upgrade, rounds back to"
                + " back, then rounds with nothing new...");
        System.out.println(AuditBenchmark.unfinishedWatch(servers).json());
      }
    } finally {
      if (temporary) {
        TemporaryStateDirs.deleteTree(dir);
      }
    }
    return 0;
  }

  /**
   * A temporary directory that names this process as its owner: a bench killed with -9 leaves its
   * PostgreSQL (a session of its own) running, and the next bench or stack on a temporary directory
   * stops it and removes the directory, as for a stack's.
   */
  static Path temporaryDirectory(Path root) throws IOException {
    return TemporaryStateDirs.create(root, "audit-bench-");
  }

  private static void notNegative(String option, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(
          option + " must not be negative (0 skips that benchmark), was " + value);
    }
  }
}
