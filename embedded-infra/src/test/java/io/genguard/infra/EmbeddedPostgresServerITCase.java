package io.genguard.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start of the embedded PostgreSQL uses only a server on its own data directory: not another
 * PostgreSQL that already answers on its port, not a directory another owner is using; and a server
 * an owner that is gone left running on the directory does not block the next start.
 */
class EmbeddedPostgresServerITCase {
  @TempDir Path root;
  private Long leftoverPid;

  @Test
  void shouldRefuseAPortAnotherPostgresServes() throws Exception {
    try (EmbeddedPostgresServer first =
        EmbeddedPostgresServer.start(root.resolve("a"), 0, "genguard", false)) {
      int port = first.port();
      Path second = root.resolve("b");

      long begin = System.nanoTime();
      assertThatThrownBy(() -> startAndClose(second, port))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(String.valueOf(port))
          .hasMessageContaining("in use by another process");
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - begin)).isLessThan(20);
      assertThat(dataDirectoryOn(first.jdbcUrl()))
          .as("the first server is untouched")
          .isEqualTo(root.resolve("a").toRealPath().toString());
    }
  }

  @Test
  void shouldRefuseAServerOfAnotherDataDirectoryOnItsPort() throws Exception {
    try (EmbeddedPostgresServer first =
        EmbeddedPostgresServer.start(root.resolve("a"), 0, "genguard", false)) {
      EmbeddedPostgresServer.requireServes(first.port(), root.resolve("a"));

      assertThatThrownBy(
              () -> EmbeddedPostgresServer.requireServes(first.port(), root.resolve("b")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Port " + first.port() + " is served by another PostgreSQL")
          .hasMessageContaining(root.resolve("a").toRealPath().toString());
    }
  }

  @Test
  void shouldSayADataDirectoryInUseIsInUseAndByWhom() {
    Path dir = root.resolve("pg");
    try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dir, 0, "genguard", false)) {
      long begin = System.nanoTime();
      assertThatThrownBy(() -> startAndClose(dir, 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "is in use by another GenGuard stack (pid " + ProcessHandle.current().pid() + ")");
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - begin)).isLessThan(20);
      assertThat(EmbeddedPostgresServer.postmasterOf(dir)).as("the first still runs").isPresent();
    }
  }

  /**
   * The owner of a PostgreSQL is killed (kill -9): the postmaster, in a session of its own, keeps
   * running on the directory. The next start stops it and starts; it used to wait 60 s and fail
   * with "Gave up waiting for server to start".
   */
  @Test
  void shouldStopAServerAnOwnerThatIsGoneLeftOnItsDataDirectory() throws Exception {
    Path dir = root.resolve("pg");
    Process owner =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty(
                    "surefire.test.class.path", System.getProperty("java.class.path")),
                Owner.class.getName(),
                dir.toString())
            .redirectErrorStream(true)
            .start();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      StringBuilder output = new StringBuilder();
      while ((line = lines.readLine()) != null && !line.equals("started")) {
        output.append(line).append('\n');
      }
      assertThat(line).as(output.toString()).isEqualTo("started");
      leftoverPid = Long.parseLong(Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim());
      owner.destroyForcibly();
      assertThat(owner.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      owner.destroyForcibly();
    }
    assertThat(ProcessHandle.of(leftoverPid).filter(ProcessHandle::isAlive))
        .as("the postmaster outlives its owner")
        .isPresent();

    long begin = System.nanoTime();
    try (EmbeddedPostgresServer next = EmbeddedPostgresServer.start(dir, 0, "genguard", false)) {
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - begin)).isLessThan(30);
      assertThat(ProcessHandle.of(leftoverPid).filter(ProcessHandle::isAlive))
          .as("the leftover (pid %d)", leftoverPid)
          .isEmpty();
      assertThat(dataDirectoryOn(next.jdbcUrl())).isEqualTo(dir.toRealPath().toString());
    }
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

  private static void startAndClose(Path dir, int port) {
    EmbeddedPostgresServer.start(dir, port, "genguard", false).close();
  }

  private static String dataDirectoryOn(String jdbcUrl) throws Exception {
    try (Connection connection = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("show data_directory")) {
      rs.next();
      return Path.of(rs.getString(1)).toRealPath().toString();
    }
  }

  /** Starts PostgreSQL on the directory given, says "started", and waits to be killed. */
  public static final class Owner {
    public static void main(String[] args) throws Exception {
      EmbeddedPostgresServer.start(Path.of(args[0]), 0, "genguard", false);
      System.out.println("started");
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
