package io.genguard.infra;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker in KRaft combined mode (broker and controller), running in this
 * JVM from the Kafka artifacts on Maven Central. The log directory is formatted on first use and
 * reused afterwards, so a restart with the same directory keeps every topic and offset.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
  private static final String CONTROLLER_LISTENER = "CONTROLLER";

  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final Path logDir;

  private EmbeddedKafkaBroker(KafkaRaftServer server, String bootstrapServers, Path logDir) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.logDir = logDir;
  }

  /**
   * Formats {@code logDir} if it is new and starts the broker.
   *
   * @param port client port, or 0 for a free one
   */
  public static EmbeddedKafkaBroker start(Path logDir, int port) {
    return start(logDir, port, MetadataVersion.LATEST_PRODUCTION);
  }

  /**
   * Formats {@code logDir} if it is new, with {@code release} as the finalized metadata.version (a
   * cluster of an older release, or one upgraded but not finalized yet), and starts the broker.
   *
   * @param port client port, or 0 for a free one
   */
  public static EmbeddedKafkaBroker start(Path logDir, int port, MetadataVersion release) {
    int clientPort = port == 0 ? freePort() : port;
    int controllerPort = freePort();
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the Kafka log directory " + logDir, e);
    }
    Properties props = brokerProperties(logDir, clientPort, controllerPort);
    format(logDir, release);
    KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
    server.startup();
    String bootstrap = "127.0.0.1:" + clientPort;
    LOG.info("Kafka broker (KRaft) listening on {}, log dir {}", bootstrap, logDir);
    return new EmbeddedKafkaBroker(server, bootstrap, logDir);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public Path logDir() {
    return logDir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    LOG.info("Kafka broker stopped");
  }

  private static Properties brokerProperties(Path logDir, int clientPort, int controllerPort) {
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    props.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:"
            + clientPort
            + ","
            + CONTROLLER_LISTENER
            + "://127.0.0.1:"
            + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
    props.put("controller.listener.names", CONTROLLER_LISTENER);
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("log.dirs", logDir.toAbsolutePath().toString());
    // One node: internal topics cannot have more than one replica. Fewer internal partitions make
    // start-up and group coordination cheaper on a laptop.
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "4");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("auto.create.topics.enable", "false");
    props.put("num.partitions", "4");
    props.put("log.segment.bytes", Integer.toString(64 * 1024 * 1024));
    return props;
  }

  private static void format(Path logDir, MetadataVersion release) {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      // Already formatted: it keeps its cluster id, which is what makes a restart continue where
      // the last run stopped.
      return;
    }
    String dir = logDir.toAbsolutePath().toString();
    try (PrintStream quiet = new PrintStream(OutputStream.nullOutputStream())) {
      new Formatter()
          .setPrintStream(quiet)
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(dir))
          .setMetadataLogDirectory(dir)
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setReleaseVersion(release)
          .setIgnoreFormatted(false)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException(
          "Cannot format the Kafka log directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A currently free local port. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("No free local port", e);
    }
  }
}
