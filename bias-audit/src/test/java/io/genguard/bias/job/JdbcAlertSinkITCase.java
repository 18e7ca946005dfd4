package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.LiveAlert;
import io.genguard.bias.persistence.LiveAlertRepository;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live-alert sink on real PostgreSQL: an alert reaches {@code bias_audit.live_alert} only when
 * its checkpoint completes (the committer), never at the flush before it, so an alert of a
 * checkpoint that fails is never stored; a commit repeated after a failover stores it once.
 */
class JdbcAlertSinkITCase {
  private static IntegrationInfrastructure infra;
  private static BiasAuditDatabase database;
  private static String jdbcUrl;

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

  @Test
  @SuppressWarnings("unchecked")
  void shouldStoreAnAlertOnlyOnceItsCheckpointCompletes() throws Exception {
    JdbcAlertSink sink = new JdbcAlertSink(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword());
    CommittingSinkWriter<BiasAlert, LiveAlert> writer =
        (CommittingSinkWriter<BiasAlert, LiveAlert>) sink.createWriter(null);
    BiasAlert failed = alert("of a checkpoint that fails");
    BiasAlert kept = alert("of a checkpoint that completes");

    writer.write(failed, null);
    writer.flush(false);
    assertThat(stored(failed.alertId)).as("not written at the flush before the barrier").isEmpty();
    writer.prepareCommit(); // that checkpoint fails: its committables are never committed

    writer.write(kept, null);
    writer.flush(false);
    List<LiveAlert> committables = new ArrayList<>(writer.prepareCommit());
    assertThat(committables).extracting(LiveAlert::alertId).containsExactly(kept.alertId);
    assertThat(stored(kept.alertId)).as("not yet: its checkpoint has not completed").isEmpty();

    // Through the checkpoint, as Flink keeps committables, then committed; a failover commits the
    // same committables again.
    SimpleVersionedSerializer<LiveAlert> serializer = sink.getCommittableSerializer();
    LiveAlert restored =
        serializer.deserialize(serializer.getVersion(), serializer.serialize(committables.get(0)));
    assertThat(restored).isEqualTo(committables.get(0));
    try (Committer<LiveAlert> committer = sink.createCommitter(null)) {
      committer.commit(List.of(new Request(restored)));
      committer.commit(List.of(new Request(restored)));
    }

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

  private static List<LiveAlert> stored(String alertId) {
    return LiveAlertRepository.newest(database.dataSource(), 1_000).stream()
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

  /** A commit request as Flink's committer operator hands one over. */
  private record Request(LiveAlert committable) implements Committer.CommitRequest<LiveAlert> {
    @Override
    public LiveAlert getCommittable() {
      return committable;
    }

    @Override
    public int getNumberOfRetries() {
      return 0;
    }

    @Override
    public void signalFailedWithKnownReason(Throwable t) {
      throw new AssertionError("commit failed", t);
    }

    @Override
    public void signalFailedWithUnknownReason(Throwable t) {
      throw new AssertionError("commit failed", t);
    }

    @Override
    public void retryLater() {
      throw new AssertionError("commit deferred");
    }

    @Override
    public void updateAndRetryLater(LiveAlert committable) {
      throw new AssertionError("commit deferred");
    }

    @Override
    public void signalAlreadyCommitted() {}
  }
}
