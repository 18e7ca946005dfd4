package io.genguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The audit service's health: a stopped ingestor, a pool that refuses or hangs, each makes it
 * unhealthy, and the pool is asked at most once per {@link AuditHealth#CACHED_FOR}.
 */
class AuditHealthTest {
  /** What the stub pool does when asked for a connection. */
  private interface Pool {
    Connection get() throws SQLException;
  }

  private final AtomicInteger asked = new AtomicInteger();
  private final MovableClock clock = new MovableClock();

  @Test
  void shouldBeHealthyWhileThePoolGivesAWorkingConnectionAskingItOncePerInterval() {
    try (AuditHealth health = new AuditHealth(pool(() -> connection(true)), List::of, clock)) {
      assertThat(health.whyUnhealthy()).isEmpty();
      assertThat(health.whyUnhealthy()).isEmpty();
      assertThat(asked).as("the second request used the first answer").hasValue(1);

      clock.advance(AuditHealth.CACHED_FOR);
      assertThat(health.whyUnhealthy()).isEmpty();
      assertThat(asked).hasValue(2);
    }
  }

  @Test
  void shouldBeUnhealthyWhileThePoolGivesNoConnection() {
    AtomicReference<Pool> behaviour =
        new AtomicReference<>(
            () -> {
              throw new SQLException("Connection refused");
            });
    try (AuditHealth health = new AuditHealth(pool(() -> behaviour.get().get()), List::of, clock)) {
      assertThat(health.whyUnhealthy())
          .hasValueSatisfying(
              why -> assertThat(why).contains("gave no connection").contains("Connection refused"));

      // Back: healthy again at the next ask, not before.
      behaviour.set(() -> connection(true));
      assertThat(health.whyUnhealthy()).isPresent();
      clock.advance(AuditHealth.CACHED_FOR);
      assertThat(health.whyUnhealthy()).isEmpty();
    }
  }

  @Test
  void shouldBeUnhealthyForAConnectionThatDoesNotWork() {
    try (AuditHealth health = new AuditHealth(pool(() -> connection(false)), List::of, clock)) {
      assertThat(health.whyUnhealthy())
          .hasValueSatisfying(why -> assertThat(why).contains("not work"));
    }
  }

  @Test
  void shouldAnswerWithinItsWaitWhenThePoolHangs() {
    CountDownLatch release = new CountDownLatch(1);
    Pool hanging =
        () -> {
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return connection(true);
        };
    try (AuditHealth health = new AuditHealth(pool(hanging), List::of, clock)) {
      long started = System.nanoTime();
      assertThat(health.whyUnhealthy())
          .hasValueSatisfying(why -> assertThat(why).contains("no connection within 2 s"));
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isLessThan(AuditHealth.WAIT.plusSeconds(2));
      // Still hanging: no second ask is started beside the first.
      clock.advance(AuditHealth.CACHED_FOR);
      assertThat(health.whyUnhealthy()).isPresent();
      assertThat(asked).hasValue(1);

      release.countDown();
      assertThat(health.whyUnhealthy()).as("healthy once the pool answers").isEmpty();
    }
  }

  @Test
  void shouldBeUnhealthyOnceAnIngestorHasStoppedNamingIt() {
    try (AuditHealth health =
        new AuditHealth(pool(() -> connection(true)), () -> List.of("audit-ingestor-1"), clock)) {
      assertThat(health.whyUnhealthy())
          .hasValueSatisfying(
              why -> assertThat(why).contains("ingestion stopped").contains("audit-ingestor-1"));
    }
  }

  @Test
  void shouldBeUnhealthyOnceClosed() {
    AuditHealth health = new AuditHealth(pool(() -> connection(true)), List::of, clock);
    health.close();
    assertThat(health.whyUnhealthy()).contains("stopped");
  }

  private DataSource pool(Pool pool) {
    return (DataSource)
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection")) {
                asked.incrementAndGet();
                return pool.get();
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }

  private static Connection connection(boolean valid) {
    return (Connection)
        Proxy.newProxyInstance(
            AuditHealthTest.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "isValid":
                  return valid;
                case "close":
                  return null;
                default:
                  throw new UnsupportedOperationException(method.getName());
              }
            });
  }

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    private Instant now = Instant.parse("2026-12-06T10:00:00Z");

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
