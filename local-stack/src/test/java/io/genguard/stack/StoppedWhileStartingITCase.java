package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.stack.cli.GenGuardCli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C (SIGTERM) while {@code genguard run} is still starting: the embedded PostgreSQL, a process
 * of its own, must stop with the JVM, not stay behind holding the data directory (the next start on
 * it then waited 60 s and failed with "Gave up waiting for server to start").
 */
class StoppedWhileStartingITCase {
  @TempDir Path dataDir;
  private Long postgresPid;

  @Test
  void shouldStopPostgresWhenTheJvmExitsWhileTheStackStarts() throws Exception {
    Path log = dataDir.resolveSibling(dataDir.getFileName() + "-run.log");
    Process run =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty(
                    "surefire.test.class.path", System.getProperty("java.class.path")),
                GenGuardCli.class.getName(),
                "run",
                "--data-dir",
                dataDir.toString(),
                "--http-port",
                "0",
                "--metrics-port",
                "0",
                "--flink-metrics-port",
                "0")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  Files.readString(log, StandardCharsets.UTF_8).contains("PostgreSQL listening")
                      || !run.isAlive());
      assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
      postgresPid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
      assertThat(Files.readString(log))
          .as("still starting when it is stopped")
          .doesNotContain("GenGuard is running");

      run.destroy();
      assertThat(run.waitFor(2, TimeUnit.MINUTES)).as("the JVM exits").isTrue();

      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(ProcessHandle.of(postgresPid).filter(ProcessHandle::isAlive))
                      .as("PostgreSQL (pid %d) after the JVM exited", postgresPid)
                      .isEmpty());
    } finally {
      run.destroyForcibly();
    }
  }

  /** Stops a PostgreSQL left behind (the failure this test is about), by its own pid. */
  @AfterEach
  void stopLeftoverPostgres() {
    if (postgresPid != null) {
      Optional<ProcessHandle> leftover = ProcessHandle.of(postgresPid);
      leftover.ifPresent(ProcessHandle::destroy);
      leftover.ifPresent(
          handle -> handle.onExit().completeOnTimeout(handle, 30, TimeUnit.SECONDS).join());
    }
  }
}
