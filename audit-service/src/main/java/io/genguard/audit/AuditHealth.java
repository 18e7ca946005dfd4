package io.genguard.audit;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the audit service can do its work, for its {@code /health} (the container's health
 * check): every ingestor still reads, and the connection pool gives a working connection. The pool
 * is asked on a thread of its own at most once every {@link #CACHED_FOR}, and a health request
 * waits for the answer at most {@link #WAIT}: a database that hangs makes the service unhealthy
 * within that, not after the pool's own 30-second timeout. A change of the reason is logged.
 */
public final class AuditHealth implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditHealth.class);

  /** How long one answer of the pool is used for. */
  public static final Duration CACHED_FOR = Duration.ofSeconds(5);

  /** How long a health request waits for the pool. */
  public static final Duration WAIT = Duration.ofSeconds(2);

  /** Seconds the driver is given to confirm a connection works. */
  private static final int VALID_SECONDS = 2;

  private final DataSource dataSource;
  private final Supplier<List<String>> stoppedIngestors;
  private final Clock clock;
  private ExecutorService prober;
  private Future<Optional<String>> probe;
  private Instant probeStarted = Instant.MIN;
  private String lastReason = "";
  private boolean closed;

  /**
   * @param stoppedIngestors the names of the ingestors whose reading ended without being asked to
   */
  public AuditHealth(DataSource dataSource, Supplier<List<String>> stoppedIngestors, Clock clock) {
    this.dataSource = dataSource;
    this.stoppedIngestors = stoppedIngestors;
    this.clock = clock;
  }

  /** Why the service cannot do its work now; empty while it can. */
  public Optional<String> whyUnhealthy() {
    Optional<String> reason = reason();
    String now = reason.orElse("");
    synchronized (this) {
      if (!now.equals(lastReason)) {
        if (now.isEmpty()) {
          LOG.info("Healthy again (was: {})", lastReason);
        } else {
          LOG.warn("Unhealthy: {}", now);
        }
        lastReason = now;
      }
    }
    return reason;
  }

  private Optional<String> reason() {
    List<String> stopped = stoppedIngestors.get();
    if (!stopped.isEmpty()) {
      return Optional.of(
          "audit ingestion stopped ("
              + String.join(", ", stopped)
              + "); the log says why, and a restart reads on");
    }
    Future<Optional<String>> current = currentProbe();
    if (current == null) {
      return Optional.of("stopped");
    }
    try {
      return current.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return Optional.of("the database pool gave no connection within " + WAIT.toSeconds() + " s");
    } catch (ExecutionException e) {
      return Optional.of("the database check failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    }
  }

  /** The probe in progress, or the last one if it is recent enough, else a new one. */
  private synchronized Future<Optional<String>> currentProbe() {
    if (closed) {
      return null;
    }
    Instant now = clock.instant();
    boolean stale =
        probe == null || (probe.isDone() && !now.isBefore(probeStarted.plus(CACHED_FOR)));
    if (stale) {
      if (prober == null) {
        prober =
            Executors.newSingleThreadExecutor(
                runnable -> {
                  Thread thread = new Thread(runnable, "audit-health");
                  thread.setDaemon(true);
                  return thread;
                });
      }
      probe = prober.submit(this::askThePool);
      probeStarted = now;
    }
    return probe;
  }

  private Optional<String> askThePool() {
    try (Connection connection = dataSource.getConnection()) {
      return connection.isValid(VALID_SECONDS)
          ? Optional.empty()
          : Optional.of("the database pool gave a connection that does not work");
    } catch (SQLException e) {
      return Optional.of("the database pool gave no connection: " + e.getMessage());
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (prober != null) {
      prober.shutdownNow();
    }
  }
}
