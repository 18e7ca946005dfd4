package io.genguard.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Flink job on an in-process MiniCluster. Checkpoints (retained on cancellation) and
 * savepoints go under the job's state directory; on start the job resumes from the newest of them,
 * so a restart, clean or after a crash, continues where the last run stopped.
 */
final class FlinkJobRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FlinkJobRunner.class);

  private final String name;
  private final Path stateDir;
  private final JobClient client;

  private FlinkJobRunner(String name, Path stateDir, JobClient client) {
    this.name = name;
    this.stateDir = stateDir;
    this.client = client;
  }

  /** Ports the Prometheus reporter of one MiniCluster may try, from the configured first port. */
  static final int REPORTER_PORT_RANGE = 10;

  /**
   * Builds the job with {@code pipeline} on a local environment and submits it, without a metrics
   * reporter.
   *
   * @param slots task slots (at least the job's parallelism)
   */
  static FlinkJobRunner start(
      String name,
      Path stateDir,
      int slots,
      BiConsumer<StreamExecutionEnvironment, Configuration> pipeline)
      throws Exception {
    return start(name, stateDir, slots, 0, pipeline);
  }

  /**
   * Builds the job with {@code pipeline} on a local environment and submits it.
   *
   * @param slots task slots (at least the job's parallelism)
   * @param prometheusPort first port for Flink's Prometheus reporter (the first free one of this
   *     port to this port + 9 is used, so several MiniClusters can report), 0 for no reporter
   */
  static FlinkJobRunner start(
      String name,
      Path stateDir,
      int slots,
      int prometheusPort,
      BiConsumer<StreamExecutionEnvironment, Configuration> pipeline)
      throws Exception {
    return start(name, stateDir, slots, prometheusPort, false, pipeline);
  }

  /**
   * Builds the job with {@code pipeline} on a local environment and submits it.
   *
   * @param ignoreRetiredState whether a snapshot's state of operators the job no longer has is left
   *     behind ({@code --allowNonRestoredState}) instead of failing the start: only for a job whose
   *     retired operators' state is also kept elsewhere, and whose other operators' ids a test pins
   */
  static FlinkJobRunner start(
      String name,
      Path stateDir,
      int slots,
      int prometheusPort,
      boolean ignoreRetiredState,
      BiConsumer<StreamExecutionEnvironment, Configuration> pipeline)
      throws Exception {
    Files.createDirectories(stateDir);
    Configuration conf = new Configuration();
    if (prometheusPort > 0) {
      // The same reporter a Flink cluster runs (flink-metrics-prometheus), found on the classpath;
      // a port it cannot bind is logged by Flink and the job runs on without it.
      conf.setString(
          "metrics.reporter.prom.factory.class",
          "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
      conf.setString(
          "metrics.reporter.prom.port",
          prometheusPort + "-" + Math.min(65535, prometheusPort + REPORTER_PORT_RANGE - 1));
    }
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
    // The jobs keep their state on the heap; managed memory would only be reserved, never used.
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse("32m"));
    conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse("32m"));
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(
        CheckpointingOptions.CHECKPOINTS_DIRECTORY,
        stateDir.resolve("checkpoints").toUri().toString());
    conf.set(
        CheckpointingOptions.SAVEPOINT_DIRECTORY,
        stateDir.resolve("savepoints").toUri().toString());
    conf.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        org.apache.flink.configuration.ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 2);
    Optional<Path> restore = newestSnapshot(stateDir);
    restore.ifPresent(
        path -> {
          LOG.info("{}: resuming from {}", name, path);
          conf.set(StateRecoveryOptions.SAVEPOINT_PATH, path.toUri().toString());
          conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, ignoreRetiredState);
        });
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
    pipeline.accept(env, conf);
    JobClient client = env.executeAsync(name);
    LOG.info("{}: submitted as job {}", name, client.getJobID());
    return new FlinkJobRunner(name, stateDir, client);
  }

  /** The running job, for tests. */
  JobClient client() {
    return client;
  }

  /** The newest complete savepoint or retained checkpoint (one with a _metadata file). */
  static Optional<Path> newestSnapshot(Path stateDir) {
    try (Stream<Path> files = Files.exists(stateDir) ? Files.walk(stateDir, 4) : Stream.empty()) {
      return files
          .filter(path -> path.getFileName().toString().equals("_metadata"))
          .map(Path::getParent)
          .max(Comparator.comparingLong(FlinkJobRunner::modified));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot look for snapshots in " + stateDir, e);
    }
  }

  private static long modified(Path path) {
    try {
      return Files.getLastModifiedTime(path.resolve("_metadata")).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * Stops the job with a savepoint: sources stop, in-flight records drain, the sink commits its
   * last transaction. Falls back to cancel (the retained checkpoint then covers the restart).
   */
  @Override
  public void close() {
    try {
      String savepoint =
          client
              .stopWithSavepoint(
                  false,
                  stateDir.resolve("savepoints").toUri().toString(),
                  SavepointFormatType.CANONICAL)
              .get(Duration.ofSeconds(20).toSeconds(), TimeUnit.SECONDS);
      LOG.info("{}: stopped with savepoint {}", name, savepoint);
    } catch (Exception e) {
      LOG.warn("{}: stop with savepoint failed ({}); cancelling", name, e.toString());
      try {
        client.cancel().get(10, TimeUnit.SECONDS);
      } catch (Exception cancelError) {
        LOG.warn("{}: cancel failed: {}", name, cancelError.toString());
      }
    }
  }
}
