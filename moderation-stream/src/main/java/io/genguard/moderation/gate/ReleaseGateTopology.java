package io.genguard.moderation.gate;

import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The release gate as a Kafka Streams topology (exactly_once_v2): outputs, verdicts, review
 * decisions and erasure notices in, and requests for their tenant; content.released,
 * content.quarantined and review.pending out, and gate.restatements for copies of outputs it
 * decided already. All inputs are keyed by request id and co-partitioned, so one task sees
 * everything about a request.
 */
public final class ReleaseGateTopology {
  public static final String APPLICATION_ID = "genguard-release-gate";
  public static final String STATE_STORE = "gate-state";

  /** The state store's changelog topic, as Kafka Streams names it. */
  public static final String CHANGELOG_TOPIC = APPLICATION_ID + "-" + STATE_STORE + "-changelog";

  /**
   * Longest time an entry the store replaced (a held output's text, after its decision or an
   * erasure) stays in the changelog topic: the broker compacts, and rolls the active segment for
   * it, within this lag (KIP-354), instead of whenever the segment is full or a week old. Set when
   * Kafka Streams creates the topic; a topic created before keeps its own configuration.
   */
  public static final Duration CHANGELOG_MAX_COMPACTION_LAG = Duration.ofDays(1);

  private static final String PROCESSOR = "release-gate";

  private ReleaseGateTopology() {}

  /**
   * The format of the gate's state-store entries to write, 1, 2, 3 (default) or 4: 4 keys them by
   * request id and tenant (3 by request id alone, one tenant's request a request id); 2 lacks the
   * request's tenant, so the gate ignores gen.requests and an output or verdict under another
   * tenant than its request's is not told apart (it decides as before the forty-third session), but
   * a gate from before the forty-third session can read it; 1 also lacks the outcome's event id and
   * basis, so restatements name no outcome, but a gate from before the thirty-third session can
   * read it (write the older one until the upgrade is known good, to keep a rollback possible). All
   * are always read.
   */
  public static final String STATE_FORMAT = "GENGUARD_GATE_STATE_FORMAT";

  /** The entry format a gate writes unless {@link #STATE_FORMAT} says otherwise. */
  public static final int LATEST_STATE_FORMAT = GateEntry.FORMAT;

  /**
   * The format that keys the store by request id and tenant, its entries written as in format 3, so
   * that two tenants' requests under one request id are each decided (an entry written under the
   * request id alone is still found and used): chosen with {@link #STATE_FORMAT}, not yet the
   * default, since a gate that writes it cannot be rolled back to one that writes an older format
   * without losing the entries it keyed so (docs/OPERATIONS.md).
   */
  public static final int TENANT_KEYED_STATE_FORMAT = ReleaseGateProcessor.TENANT_KEYED_FORMAT;

  /** The highest format {@link #STATE_FORMAT} may name. */
  public static final int HIGHEST_STATE_FORMAT = TENANT_KEYED_STATE_FORMAT;

  /**
   * How often the gate commits, in milliseconds: under exactly-once each commit ends one Kafka
   * transaction (its markers on every partition written, its offsets committed), and the gate's
   * outcomes become visible to read-committed consumers (audit, clients) only then. Longer costs up
   * to that much release latency and saves the per-transaction work.
   */
  public static final String COMMIT_INTERVAL_MS = "GENGUARD_GATE_COMMIT_INTERVAL_MS";

  /** {@link #COMMIT_INTERVAL_MS} unless set. */
  public static final int DEFAULT_COMMIT_INTERVAL_MS = 1000;

  /** The least and most {@link #COMMIT_INTERVAL_MS} may be (below the transaction timeout). */
  static final int MIN_COMMIT_INTERVAL_MS = 10;

  static final int MAX_COMMIT_INTERVAL_MS = 5000;

  /**
   * {@link #COMMIT_INTERVAL_MS} from {@code env}, or the default.
   *
   * @throws IllegalArgumentException naming the key where it is not a whole number from {@value
   *     #MIN_COMMIT_INTERVAL_MS} to {@value #MAX_COMMIT_INTERVAL_MS}
   */
  public static int commitIntervalMs(Map<String, String> env) {
    String value = env.get(COMMIT_INTERVAL_MS);
    if (value == null || value.isBlank()) {
      return DEFAULT_COMMIT_INTERVAL_MS;
    }
    int interval;
    try {
      interval = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          COMMIT_INTERVAL_MS + "='" + value + "' is not a whole number", e);
    }
    if (interval < MIN_COMMIT_INTERVAL_MS || interval > MAX_COMMIT_INTERVAL_MS) {
      throw new IllegalArgumentException(
          COMMIT_INTERVAL_MS
              + " must be from "
              + MIN_COMMIT_INTERVAL_MS
              + " to "
              + MAX_COMMIT_INTERVAL_MS
              + ", was "
              + interval);
    }
    return interval;
  }

  public static Topology buildTopology(Clock clock, GateTimings timings) {
    return buildTopology(clock, timings, LATEST_STATE_FORMAT);
  }

  /** With the state-store entries written in {@code stateFormat} ({@link #STATE_FORMAT}). */
  public static Topology buildTopology(Clock clock, GateTimings timings, int stateFormat) {
    return buildTopology(clock, timings, ReleaseGateProcessor.MAX_HOLDS_PER_SWEEP, stateFormat);
  }

  /** With another bound on the outputs one sweep holds (tests). */
  static Topology buildTopology(
      Clock clock, GateTimings timings, int maxHoldsPerSweep, int stateFormat) {
    return buildTopology(
        clock, timings, maxHoldsPerSweep, stateFormat, ReleaseGateProcessor.SWEEP_PIECE);
  }

  /**
   * With another bound on the time one piece of a sweep reads for (tests: on a loaded machine the
   * half-second bound stops a piece early, which is its purpose but not what a test of the count
   * bound is about).
   */
  static Topology buildTopology(
      Clock clock,
      GateTimings timings,
      int maxHoldsPerSweep,
      int stateFormat,
      Duration sweepPiece) {
    if (stateFormat < 1 || stateFormat > HIGHEST_STATE_FORMAT) {
      throw new IllegalArgumentException(
          "gate state format must be 1, 2, 3 or " + HIGHEST_STATE_FORMAT + ", was " + stateFormat);
    }
    Topology topology = new Topology();
    // Read raw bytes so undecodable records reach the processor, which dead-letters them.
    String[] sources = {
      "outputs-source", "verdicts-source", "reviews-source", "erasures-source", "requests-source"
    };
    topology.addSource(
        sources[0],
        Serdes.ByteArray().deserializer(),
        Serdes.ByteArray().deserializer(),
        Topics.GENERATION_OUTPUTS.name());
    topology.addSource(
        sources[1],
        Serdes.ByteArray().deserializer(),
        Serdes.ByteArray().deserializer(),
        Topics.MODERATION_VERDICTS.name());
    topology.addSource(
        sources[2],
        Serdes.ByteArray().deserializer(),
        Serdes.ByteArray().deserializer(),
        Topics.REVIEW_DECISIONS.name());
    topology.addSource(
        sources[3],
        Serdes.ByteArray().deserializer(),
        Serdes.ByteArray().deserializer(),
        Topics.AUDIT_ERASURES.name());
    // The requests only for their tenant: an output or verdict under another is not the request's.
    topology.addSource(
        sources[4],
        Serdes.ByteArray().deserializer(),
        Serdes.ByteArray().deserializer(),
        Topics.GENERATION_REQUESTS.name());
    // One processor joins the five inputs per request id in its store.
    topology.addProcessor(
        PROCESSOR,
        () -> new ReleaseGateProcessor(clock, timings, maxHoldsPerSweep, sweepPiece, stateFormat),
        sources);
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STATE_STORE),
                Serdes.String(),
                GateEntry.serde(Math.min(stateFormat, GateEntry.FORMAT)))
            .withLoggingEnabled(
                Map.of(
                    TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG,
                    Long.toString(CHANGELOG_MAX_COMPACTION_LAG.toMillis()))),
        PROCESSOR);
    // Outcomes go out already encoded.
    for (Topic<String, ?> out :
        java.util.List.of(
            Topics.CONTENT_RELEASED,
            Topics.CONTENT_QUARANTINED,
            Topics.REVIEW_PENDING,
            Topics.GATE_RESTATEMENTS)) {
      topology.addSink(
          sinkName(out),
          out.name(),
          Serdes.String().serializer(),
          Serdes.ByteArray().serializer(),
          PROCESSOR);
    }
    for (Topic<String, ?> in :
        java.util.List.of(
            Topics.GENERATION_OUTPUTS,
            Topics.MODERATION_VERDICTS,
            Topics.REVIEW_DECISIONS,
            Topics.AUDIT_ERASURES)) {
      String deadLetters = in.requireDeadLetterTopic();
      topology.addSink(
          deadLetterSinkName(deadLetters),
          deadLetters,
          Serdes.String().serializer(),
          Serdes.ByteArray().serializer(),
          PROCESSOR);
    }
    return topology;
  }

  /**
   * The gate's Kafka clients: its main consumer gets past a record batch that fails Kafka's checks
   * ({@link UnreadableBatchClients}). Pass to every {@code new KafkaStreams} of this topology.
   */
  public static UnreadableBatchClients clients(Clock clock) {
    return new UnreadableBatchClients(clock);
  }

  public static Properties streamsConfig(
      String bootstrapServers, String stateDir, int replication) {
    return streamsConfig(bootstrapServers, stateDir, replication, DEFAULT_COMMIT_INTERVAL_MS);
  }

  /**
   * @param commitIntervalMs how often to commit ({@link #COMMIT_INTERVAL_MS}; read it with {@link
   *     #commitIntervalMs})
   */
  public static Properties streamsConfig(
      String bootstrapServers, String stateDir, int replication, int commitIntervalMs) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, APPLICATION_ID);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, replication);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 10 * 1024 * 1024);
    return props;
  }

  static String sinkName(Topic<String, ?> topic) {
    return "sink-" + topic.name();
  }

  static String deadLetterSinkName(String topic) {
    return "sink-" + topic;
  }
}
