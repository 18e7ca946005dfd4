package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.LiveAlert;
import io.genguard.bias.persistence.LiveAlertRepository;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live-alert writer on real PostgreSQL, in Flink's operator test harness: an alert reaches
 * {@code bias_audit.live_alert} only when its checkpoint completes, so an alert of a checkpoint
 * that fails is never stored; a restore stores it once. An outage of the database (its port closed,
 * then opened again through a relay to the real server) keeps the alerts in the operator's
 * checkpoints, across a restore, until the database answers, and fails the job only once it has
 * lasted the outage limit.
 */
class JdbcAlertSinkITCase {
  private static final Duration OUTAGE_LIMIT = Duration.ofMinutes(10);

  private static IntegrationInfrastructure infra;
  private static BiasAuditDatabase database;
  private static String jdbcUrl;

  private final List<OneInputStreamOperatorTestHarness<BiasAlert, Void>> harnesses =
      new ArrayList<>();

  @BeforeAll
  static void servers() {
    infra = IntegrationInfrastructure.get();
    jdbcUrl = infra.createDatabase("bias_alert_sink_it");
    database = BiasAuditDatabase.connect(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @AfterEach
  void closeHarnesses() throws Exception {
    for (var harness : harnesses) {
      harness.close();
    }
  }

  @Test
  void shouldStoreAnAlertOnlyOnceItsCheckpointCompletes() throws Exception {
    var first = open(jdbcUrl, OUTAGE_LIMIT, null);
    OperatorSubtaskState before = first.snapshot(0, 0);
    BiasAlert failed = alert("of a checkpoint that fails");
    first.processElement(failed, 1);
    first.snapshot(1, 1);
    assertThat(stored(failed.alertId)).as("not written at the checkpoint's barrier").isEmpty();

    // Checkpoint 1 fails: the job restarts from checkpoint 0, without the alert.
    var restarted = open(jdbcUrl, OUTAGE_LIMIT, before);
    BiasAlert kept = alert("of a checkpoint that completes");
    restarted.processElement(kept, 2);
    OperatorSubtaskState checkpoint = restarted.snapshot(2, 2);
    assertThat(stored(kept.alertId)).as("not yet: its checkpoint has not completed").isEmpty();
    restarted.notifyOfCompletedCheckpoint(2);
    assertThat(stored(kept.alertId)).hasSize(1);

    // A failover right after: the restored checkpoint still holds the alert, stored once.
    var again = open(jdbcUrl, OUTAGE_LIMIT, checkpoint);
    again.snapshot(3, 3);
    again.notifyOfCompletedCheckpoint(3);

    assertThat(stored(kept.alertId))
        .singleElement()
        .satisfies(
            alert -> {
              assertThat(alert.model()).isEqualTo("builtin-kn");
              assertThat(alert.findings()).contains("of a checkpoint that completes");
              assertThat(alert.windowEnd().toEpochMilli()).isEqualTo(kept.windowEnd);
            });
    assertThat(stored(failed.alertId)).isEmpty();
  }

  /**
   * Before the forty-first session the committer threw at the first failed insert, and the whole
   * job restarted, again and again while the database was down.
   */
  @Test
  void shouldKeepAlertsThroughADatabaseOutageAndStoreThemWhenItAnswers() throws Exception {
    URI database = URI.create(jdbcUrl.substring("jdbc:".length()));
    int port = freePort();
    String relayedUrl = jdbcUrl.replace(":" + database.getPort() + "/", ":" + port + "/");
    var harness = open(relayedUrl, OUTAGE_LIMIT, null);
    BiasAlert alert = alert("raised while the database is down");
    harness.processElement(alert, 1);
    harness.snapshot(1, 1);
    harness.setProcessingTime(1_000);
    harness.notifyOfCompletedCheckpoint(1); // the database's port is closed: kept, not thrown
    harness.setProcessingTime(3_000);
    OperatorSubtaskState checkpoint = harness.snapshot(2, 2);
    harness.notifyOfCompletedCheckpoint(2);
    assertThat(writer(harness).awaiting()).isOne();

    // The job restarts meanwhile (for another reason): the checkpoint holds the alert.
    var restored = open(relayedUrl, OUTAGE_LIMIT, checkpoint);
    restored.setProcessingTime(5_000);
    restored.snapshot(3, 3);
    restored.notifyOfCompletedCheckpoint(3);
    assertThat(writer(restored).awaiting()).isOne();
    assertThat(stored(alert.alertId)).isEmpty();

    try (Relay relay = new Relay(port, database.getHost(), database.getPort())) {
      restored.setProcessingTime(5_500);
      restored.snapshot(4, 4);
      restored.notifyOfCompletedCheckpoint(4);
      assertThat(stored(alert.alertId)).as("within the backoff: not tried yet").isEmpty();

      restored.setProcessingTime(7_000);
      restored.snapshot(5, 5);
      restored.notifyOfCompletedCheckpoint(5);
      assertThat(stored(alert.alertId)).as("the database answers again").hasSize(1);
      assertThat(writer(restored).awaiting()).isZero();
      assertThat(relay.connections()).isPositive();
    }
  }

  /**
   * Before the forty-first session an alert PostgreSQL refused for what it holds failed the whole
   * batch as if the database were away: the good alert with it waited, and the job failed after the
   * outage limit and restored the same alert, again every limit.
   */
  @Test
  void shouldDropAnAlertTheDatabaseRefusesAndStoreTheOthers() throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "create or replace function bias_audit.refuse_test_alert() returns trigger"
              + " language plpgsql as $$ begin if new.alert_id like 'refused-%' then raise"
              + " exception 'alert % refused by the test', new.alert_id using errcode = '23514';"
              + " end if; return new; end $$");
      statement.execute(
          "drop trigger if exists refuse_test_alert on bias_audit.live_alert; create trigger"
              + " refuse_test_alert before insert on bias_audit.live_alert for each row execute"
              + " function bias_audit.refuse_test_alert()");
    }
    var harness = open(jdbcUrl, Duration.ofMinutes(1), null);
    BiasAlert bad = alert("refused for good");
    bad.alertId = "refused-" + UUID.randomUUID();
    BiasAlert good = alert("raised with a refused one");
    harness.processElement(bad, 1);
    harness.processElement(good, 2);
    harness.snapshot(1, 1);
    harness.notifyOfCompletedCheckpoint(1);

    assertThat(stored(good.alertId)).hasSize(1);
    assertThat(stored(bad.alertId)).isEmpty();
    assertThat(writer(harness).awaiting()).as("the refused alert is dropped").isZero();
    assertThat(writer(harness).refused()).isOne();

    // Past the outage limit: nothing is waiting, so the job does not fail.
    harness.setProcessingTime(61_000);
    OperatorSubtaskState checkpoint = harness.snapshot(2, 2);
    harness.notifyOfCompletedCheckpoint(2);
    var restored = open(jdbcUrl, Duration.ofMinutes(1), checkpoint);
    assertThat(writer(restored).awaiting()).as("not in the checkpoint either").isZero();
  }

  @Test
  void shouldFailTheJobOnlyOnceTheOutageHasLastedTheLimit() throws Exception {
    String closedUrl = jdbcUrl.replaceFirst(":\\d+/", ":" + freePort() + "/");
    var harness = open(closedUrl, Duration.ofMinutes(1), null);
    harness.processElement(alert("raised while the database is down"), 1);
    harness.snapshot(1, 1);
    harness.notifyOfCompletedCheckpoint(1);
    for (long at = 1_000; at < 60_000; at += 1_000) {
      harness.setProcessingTime(at);
      harness.snapshot(at, at);
      harness.notifyOfCompletedCheckpoint(at);
    }
    harness.setProcessingTime(61_000);
    harness.snapshot(61_000, 61_000);

    assertThatThrownBy(() -> harness.notifyOfCompletedCheckpoint(61_000))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("GENGUARD_BIAS_ALERT_OUTAGE_MINUTES")
        .hasMessageContaining("1 live bias alert(s) not yet stored");
  }

  private OneInputStreamOperatorTestHarness<BiasAlert, Void> open(
      String url, Duration outageLimit, OperatorSubtaskState state) throws Exception {
    var harness =
        new OneInputStreamOperatorTestHarness<>(
            new LiveAlertWriter(url, infra.jdbcUser(), infra.jdbcPassword(), outageLimit));
    harnesses.add(harness);
    harness.setProcessingTime(0);
    if (state != null) {
      harness.initializeState(state);
    }
    harness.open();
    return harness;
  }

  private static LiveAlertWriter writer(OneInputStreamOperatorTestHarness<BiasAlert, Void> h) {
    return (LiveAlertWriter) h.getOneInputOperator();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static List<LiveAlert> stored(String alertId) {
    return LiveAlertRepository.newest(JdbcAlertSinkITCase.database.dataSource(), 1_000).stream()
        .filter(alert -> alert.alertId().equals(alertId))
        .toList();
  }

  private static BiasAlert alert(String note) {
    BiasAlert alert = new BiasAlert();
    alert.alertId = "alert-" + UUID.randomUUID();
    alert.model = "builtin-kn";
    alert.windowStart = 1_764_000_000_000L;
    alert.windowEnd = alert.windowStart + 60_000;
    alert.groupsCompared = 3;
    alert.tests = 6;
    alert.correction = "holm";
    alert.alpha = 0.05;
    alert.findings = "[{\"note\":\"" + note + "\",\"group\":\"religion:muslim\"}]";
    alert.detectedAt = alert.windowEnd + 1_000;
    return alert;
  }

  /** Relays a local port to the real database: the database "comes back" when it opens. */
  private static final class Relay implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    Relay(int port, String host, int targetPort) throws IOException {
      server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
      acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket client = server.accept();
                    Socket target = new Socket(host, targetPort);
                    sockets.add(client);
                    sockets.add(target);
                    pump(client.getInputStream(), target.getOutputStream());
                    pump(target.getInputStream(), client.getOutputStream());
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "alert-db-relay");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int connections() {
      return sockets.size() / 2;
    }

    private void pump(InputStream in, OutputStream out) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  in.transferTo(out);
                } catch (IOException ignored) {
                  // a side closed
                }
              },
              "alert-db-relay-pump");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws Exception {
      server.close();
      for (Socket socket : sockets) {
        socket.close();
      }
      acceptor.join(5_000);
    }
  }
}
