package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.infra.EmbeddedPostgresServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stack on the default temporary directory killed with -9 left its PostgreSQL running (in a
 * session of its own) on a directory no later start looked at. The next temporary directory's
 * creation stops it and removes the directory, and leaves alone the directories of live stacks and
 * those that are not a temporary stack's.
 */
class TemporaryStateDirsITCase {
  @TempDir Path root;
  private Long leftoverPid;

  @Test
  void shouldStopThePostgresOfAKilledTemporaryStackAndRemoveItsDirectory() throws Exception {
    Process owner =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty(
                    "surefire.test.class.path", System.getProperty("java.class.path")),
                Owner.class.getName(),
                root.toString())
            .redirectErrorStream(true)
            .start();
    Path killed;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      StringBuilder output = new StringBuilder();
      while ((line = lines.readLine()) != null && !line.startsWith("started ")) {
        output.append(line).append('\n');
      }
      assertThat(line).as(output.toString()).startsWith("started ");
      killed = Path.of(line.substring("started ".length()));
      leftoverPid =
          Long.parseLong(
              Files.readAllLines(killed.resolve("postgres/postmaster.pid")).get(0).trim());
      owner.destroyForcibly();
      assertThat(owner.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      owner.destroyForcibly();
    }
    assertThat(alive(leftoverPid)).as("the postmaster outlives its owner").isPresent();
    // A live stack's directory (this JVM's), and a --data-dir that happens to share the prefix.
    Path live = TemporaryStateDirs.create(root);
    Path dataDir = Files.createDirectories(root.resolve("genguard-mine/postgres"));

    Path next = TemporaryStateDirs.create(root);

    assertThat(alive(leftoverPid)).as("the leftover (pid %d)", leftoverPid).isEmpty();
    assertThat(killed).doesNotExist();
    assertThat(live).isDirectory();
    assertThat(dataDir).isDirectory();
    assertThat(next).isDirectory().isNotEqualTo(live);
    assertThat(TemporaryStateDirs.removeLeftovers(root)).as("nothing else to remove").isEmpty();
  }

  private static Optional<ProcessHandle> alive(long pid) {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
  }

  /** A PostgreSQL left behind by a failure of the above, stopped by its own pid. */
  @AfterEach
  void stopLeftover() {
    if (leftoverPid != null) {
      Optional<ProcessHandle> leftover = ProcessHandle.of(leftoverPid);
      leftover.ifPresent(ProcessHandle::destroy);
      leftover.ifPresent(
          handle -> handle.onExit().completeOnTimeout(handle, 30, TimeUnit.SECONDS).join());
    }
  }

  /**
   * Creates a temporary directory as a stack does, starts PostgreSQL in it, says "started DIR", and
   * waits to be killed.
   */
  public static final class Owner {
    public static void main(String[] args) throws Exception {
      Path dir = TemporaryStateDirs.create(Path.of(args[0]));
      EmbeddedPostgresServer.start(dir.resolve("postgres"), 0, "genguard", false);
      System.out.println("started " + dir);
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
