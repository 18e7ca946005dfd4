package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.stack.cli.GenGuardCli;
import java.io.IOException;
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
    Process run = startRun(log);
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

      stopAndExpectPostgresGone(run);
    } finally {
      run.destroyForcibly();
    }
  }

  /**
   * The same while PostgreSQL itself starts: its postmaster runs (it wrote its pid file), but the
   * start that launched it has not returned, so the stack did not know it yet.
   */
  @Test
  void shouldStopPostgresWhenTheJvmExitsWhilePostgresStarts() throws Exception {
    Path log = dataDir.resolveSibling(dataDir.getFileName() + "-run.log");
    Process run = startRun(log);
    try {
      Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> postmasterPid(pidFile) != null || !run.isAlive());
      postgresPid = postmasterPid(pidFile);
      assertThat(run.isAlive()).as(Files.readString(log)).isTrue();

      stopAndExpectPostgresGone(run);
      assertThat(Files.readString(log))
          .as("stopped before PostgreSQL's start returned")
          .doesNotContain("PostgreSQL listening");
    } finally {
      run.destroyForcibly();
    }
  }

  private void stopAndExpectPostgresGone(Process run) throws InterruptedException {
    run.destroy();
    assertThat(run.waitFor(2, TimeUnit.MINUTES)).as("the JVM exits").isTrue();

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(ProcessHandle.of(postgresPid).filter(ProcessHandle::isAlive))
                    .as("PostgreSQL (pid %d) after the JVM exited", postgresPid)
                    .isEmpty());
  }

  /** The pid in the first line of PostgreSQL's pid file, once there is one. */
  private static Long postmasterPid(Path pidFile) {
    try {
      String first = Files.readAllLines(pidFile).get(0).trim();
      return first.matches("[1-9][0-9]*") ? Long.parseLong(first) : null;
    } catch (IOException | IndexOutOfBoundsException e) {
      return null;
    }
  }

  private Process startRun(Path log) throws IOException {
    return new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "-Dai.djl.offline=true",
            "-cp",
            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
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
