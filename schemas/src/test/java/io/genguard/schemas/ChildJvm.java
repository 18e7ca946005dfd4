package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A class's {@code main} run in a child JVM on the tests' class path and stopped with SIGTERM, for
 * the tests of what a command leaves behind when it is stopped: {@link ReplacingFilesTest} here,
 * and moderation-stream's BatchScorerTest, which takes it from this module's test-jar.
 */
public final class ChildJvm {
  /** When the child may be stopped, given what it has said so far. */
  @FunctionalInterface
  public interface Ready {
    boolean test(String said) throws IOException;
  }

  private ChildJvm() {}

  /**
   * Starts {@code main} with {@code args}, its output and errors to {@code log}; once {@code
   * ready}, sends it SIGTERM, and returns what it said. Fails unless it is ready within {@code
   * within} (and still running until then), exits within 60 s of the SIGTERM, and exits with 143,
   * the status of a JVM stopped by SIGTERM.
   */
  public static String stopWhen(
      Ready ready, Duration within, Path log, Class<?> main, String... args) throws Exception {
    Process child = startReady(ready, within, log, main, args);
    try {
      child.destroy(); // SIGTERM
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
    } finally {
      child.destroyForcibly();
    }
    String said = Files.readString(log);
    assertThat(child.exitValue()).as(said).isEqualTo(143);
    return said;
  }

  /**
   * Starts {@code main} with {@code args}, its output and errors to {@code log}, and returns it,
   * still running, once {@code ready}. Fails (the child killed) unless it is ready within {@code
   * within} and still running until then; the caller stops it.
   */
  public static Process startReady(
      Ready ready, Duration within, Path log, Class<?> main, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    command.add(main.getName());
    command.addAll(List.of(args));
    Process child =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean started = false;
    try {
      long deadline = System.nanoTime() + within.toNanos();
      while (!ready.test(Files.readString(log))) {
        assertThat(child.isAlive()).as("still running: " + Files.readString(log)).isTrue();
        assertThat(System.nanoTime())
            .as("ready in time: " + Files.readString(log))
            .isLessThan(deadline);
        Thread.sleep(20);
      }
      started = true;
      return child;
    } finally {
      if (!started) {
        child.destroyForcibly();
      }
    }
  }
}
