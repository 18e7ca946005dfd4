package io.genguard.services.gate;

import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.moderation.gate.UnreadableBatchClients;
import io.genguard.services.runtime.ServiceEnvironment;
import io.genguard.services.runtime.ServiceProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The release gate on its own: the Kafka Streams topology (exactly_once_v2) that releases,
 * quarantines or holds each output, with Kafka Streams' client meters on /metrics.
 */
public final class ReleaseGateMain {
  private static final Logger LOG = LoggerFactory.getLogger(ReleaseGateMain.class);

  private ReleaseGateMain() {}

  public static void main(String[] args) throws Exception {
    start(System.getenv()).runUntilStopped();
  }

  /** Starts the gate from {@code env} and returns without blocking. */
  public static ServiceProcess start(Map<String, String> env) {
    ServiceEnvironment environment = ServiceEnvironment.fromEnvironment(env);
    ReleaseGateSettings settings = ReleaseGateSettings.fromEnvironment(env, environment.dataDir());
    ServiceProcess process = ServiceProcess.start("release-gate", environment);
    try {
      UnreadableBatchClients clients = ReleaseGateTopology.clients(Clock.systemUTC());
      KafkaStreams gate =
          new KafkaStreams(
              ReleaseGateTopology.buildTopology(
                  Clock.systemUTC(), settings.timings(), settings.stateFormat()),
              ReleaseGateTopology.streamsConfig(
                  environment.kafkaBootstrapServers(),
                  settings.stateDir().toString(),
                  settings.replicationFactor(),
                  settings.commitIntervalMs()),
              clients);
      FunctionCounter.builder(
              UnreadableBatchClients.METER, clients, UnreadableBatchClients::unreadableRecords)
          .description(
              "Records of input batches that failed Kafka's CRC check, copied without it and"
                  + " handed on to be dead-lettered")
          .register(process.registry());
      gate.setUncaughtExceptionHandler(
          error -> {
            LOG.error("Release gate thread failed; replacing it", error);
            return StreamThreadExceptionResponse.REPLACE_THREAD;
          });
      process.manage(() -> gate.close(Duration.ofSeconds(10)));
      KafkaStreamsMetrics metrics = process.manage(new KafkaStreamsMetrics(gate));
      metrics.bindTo(process.registry());
      gate.start();
      // Unhealthy once the client is in ERROR or shutting down (not while a thread is replaced).
      process.serveMetrics(() -> gate.state().isRunningOrRebalancing(), Optional::empty);
      return process;
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }
}
