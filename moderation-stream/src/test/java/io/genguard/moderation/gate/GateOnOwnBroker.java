package io.genguard.moderation.gate;

import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.OwnBroker;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.server.common.MetadataVersion;
import org.apache.kafka.streams.KafkaClientSupplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

/**
 * A broker of the test's own with every topic, and the release gates a test starts on it, each on
 * the same state directory (as after a restart): the set-up of the gate's ITCases that need a
 * broker of their own. {@link #close} stops the last gate started, then the broker.
 */
final class GateOnOwnBroker implements AutoCloseable {
  private final EmbeddedKafkaBroker broker;
  private final Path stateDir;
  private KafkaStreams gate;

  /** Starts the broker under {@code brokerDir}; the gates keep their state in {@code stateDir}. */
  GateOnOwnBroker(Path brokerDir, Path stateDir) {
    this(brokerDir, stateDir, MetadataVersion.LATEST_PRODUCTION);
  }

  /** As above, on a cluster that finalizes {@code release} as its metadata.version. */
  GateOnOwnBroker(Path brokerDir, Path stateDir, MetadataVersion release) {
    this.broker =
        OwnBroker.start(brokerDir, Topics.all().stream().map(Topic::name).toList(), release);
    this.stateDir = stateDir;
  }

  EmbeddedKafkaBroker broker() {
    return broker;
  }

  String servers() {
    return broker.bootstrapServers();
  }

  /** A gate with the production clients and Kafka Streams' own handling of a failed thread. */
  KafkaStreams startGate() {
    return start(gate(ReleaseGateTopology.clients(Clock.systemUTC())));
  }

  /**
   * Starts the gate as ReleaseGateMain runs it (the production clients; a failed thread is
   * replaced) and returns its clients, which count the batches they could not read.
   */
  UnreadableBatchClients startGateAsMain() {
    UnreadableBatchClients clients = ReleaseGateTopology.clients(Clock.systemUTC());
    KafkaStreams streams = gate(clients);
    streams.setUncaughtExceptionHandler(error -> StreamThreadExceptionResponse.REPLACE_THREAD);
    start(streams);
    return clients;
  }

  private KafkaStreams gate(KafkaClientSupplier clients) {
    return new KafkaStreams(
        ReleaseGateTopology.buildTopology(Clock.systemUTC(), GateTimings.DEFAULTS),
        ReleaseGateTopology.streamsConfig(servers(), stateDir.toString(), 1),
        clients);
  }

  private KafkaStreams start(KafkaStreams streams) {
    gate = streams;
    streams.start();
    return streams;
  }

  @Override
  public void close() {
    if (gate != null) {
      gate.close(Duration.ofSeconds(10));
    }
    broker.close();
  }
}
