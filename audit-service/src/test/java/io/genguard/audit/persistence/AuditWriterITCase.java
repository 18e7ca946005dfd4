package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.OlderWriterRecords;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ChainVerifier.Verification;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuditWriterITCase {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static AuditDatabase database;
  private static AuditWriter writer;

  @BeforeAll
  static void connect() {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("audit_writer_it");
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @AfterAll
  static void close() {
    database.close();
  }

  static IncomingEvent request(String id, long offset) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("event-" + id)
            .setRequestId(id)
            .setTenantId("acme")
            .setPrompt("prompt " + id)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(10)
                    .setTemperature(1)
                    .setTopK(0)
                    .setTopP(1)
                    .build())
            .setAttributes(Map.of("k", "v"))
            .setSubmittedAt(NOW)
            .build();
    return new IncomingEvent(Topics.GENERATION_REQUESTS.name(), 0, offset, request);
  }

  @Test
  void shouldPersistEachEventOnceWhenRedelivered() throws Exception {
    List<IncomingEvent> batch = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      batch.add(request("dup-" + i, i));
    }
    assertThat(writer.write(batch)).isEqualTo(50);
    assertThat(writer.write(batch)).isZero();
    assertThat(writer.write(List.of(batch.get(3), batch.get(3)))).isZero();
    assertThat(count("select count(*) from audit_log where event_id like 'event-dup-%'"))
        .isEqualTo(50);
    assertThat(count("select count(*) from generation_request where request_id like 'dup-%'"))
        .isEqualTo(50);
  }

  /**
   * Output and verdict ids are derived from the request id: an output forged under the genuine
   * one's event id, read first, used to make the writer skip the genuine output as a redelivery.
   * The first stays on the chain; the other content is kept in event_id_conflict, once; an exact
   * redelivery of either leaves no row.
   */
  @Test
  void shouldKeepOtherContentReadUnderARecordedEventId() throws Exception {
    Scenario s = Scenario.of("conflict-1", "acme", Decision.RELEASE, NOW);
    GenerationOutput genuine = AuditEvents.output(s);
    GenerationOutput forged = GenerationOutput.newBuilder(genuine).setText("forged text").build();
    String eventId = genuine.getEventId();
    long conflictsBefore = writer.eventIdConflicts();
    assertThat(
            writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), forged))))
        .isEqualTo(1);

    assertThat(
            writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine))))
        .isZero();
    assertThat(count("select count(*) from audit_log where event_id = '" + eventId + "'"))
        .isEqualTo(1);
    assertThat(string("select payload from event_id_conflict where event_id = '" + eventId + "'"))
        .isEqualTo(CanonicalJson.of(genuine));
    assertThat(
            count(
                "select count(*) from event_id_conflict c join audit_log a using (event_id)"
                    + " where c.event_id = '"
                    + eventId
                    + "' and c.recorded_payload_sha256 = a.payload_sha256"
                    + " and c.payload_sha256 = sha256(convert_to(c.payload, 'UTF8'))"
                    + " and c.event_type = 'GenerationOutput' and c.request_id = 'conflict-1'"))
        .isEqualTo(1);
    assertThat(writer.eventIdConflicts()).isEqualTo(conflictsBefore + 1);

    // Redeliveries, exact ones of either content: no new record, no new conflict.
    assertThat(
            writer.write(
                List.of(
                    AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine),
                    AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), forged))))
        .isZero();
    assertThat(count("select count(*) from event_id_conflict where event_id = '" + eventId + "'"))
        .isEqualTo(1);
    assertThat(writer.eventIdConflicts()).isEqualTo(conflictsBefore + 1);

    // Both contents in one batch, neither on record: the first is recorded, the other kept.
    Scenario t = Scenario.of("conflict-2", "acme", Decision.RELEASE, NOW);
    ModerationVerdict verdict = AuditEvents.verdict(t);
    ModerationVerdict other =
        ModerationVerdict.newBuilder(verdict).setDecision(Decision.BLOCK).build();
    assertThat(
            writer.write(
                List.of(
                    AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict),
                    AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict),
                    AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), other))))
        .isEqualTo(1);
    assertThat(
            string("select payload from audit_log where event_id = '" + verdict.getEventId() + "'"))
        .isEqualTo(CanonicalJson.of(verdict));
    assertThat(
            string(
                "select payload from event_id_conflict where event_id = '"
                    + verdict.getEventId()
                    + "'"))
        .isEqualTo(CanonicalJson.of(other));
    assertThat(writer.eventIdConflicts()).isEqualTo(conflictsBefore + 2);

    Verification verified = ChainVerifier.verify(database.dataSource());
    assertThat(verified.valid()).as(verified.summary()).isTrue();
  }

  /**
   * An output sent again (UnfinishedFlows, NO_GATE_OUTCOME) is judged again: the same verdict id
   * under the same policy, the same judgement, decided later. That is a redelivery, not a conflict
   * (it used to raise the critical GenGuardEventIdConflict alert for every output sent again).
   */
  @Test
  void shouldTakeAVerdictJudgedAgainLaterAsARedelivery() throws Exception {
    Scenario s = Scenario.of("rejudged", "acme", Decision.RELEASE, NOW);
    ModerationVerdict verdict = AuditEvents.verdict(s);
    ModerationVerdict again =
        ModerationVerdict.newBuilder(verdict)
            .setDecidedAt(verdict.getDecidedAt().plusSeconds(1800))
            .build();
    writer.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
    long before = writer.eventIdConflicts();

    assertThat(
            writer.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), again))))
        .isZero();
    // Also judged again twice within one batch, neither on record yet.
    ModerationVerdict batchFirst =
        AuditEvents.verdict(Scenario.of("rejudged-in-batch", "acme", Decision.RELEASE, NOW));
    assertThat(
            writer.write(
                List.of(
                    AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), batchFirst),
                    AuditEvents.incoming(
                        Topics.MODERATION_VERDICTS.name(),
                        ModerationVerdict.newBuilder(batchFirst)
                            .setDecidedAt(batchFirst.getDecidedAt().plusSeconds(60))
                            .build()))))
        .isEqualTo(1);

    assertThat(
            count(
                "select count(*) from event_id_conflict where event_id in ('"
                    + verdict.getEventId()
                    + "', '"
                    + batchFirst.getEventId()
                    + "')"))
        .as("verdicts judged again")
        .isZero();
    assertThat(writer.eventIdConflicts()).isEqualTo(before);
    assertThat(
            string("select payload from audit_log where event_id = '" + verdict.getEventId() + "'"))
        .as("the first stays the record")
        .isEqualTo(CanonicalJson.of(verdict));
  }

  /**
   * A verdict is recorded with the digest of its judgement, its canonical JSON without decidedAt
   * (migration V35), which a verdict read again is compared with. One recorded before V35 has none:
   * it is still compared by its payload read back (and once retention or an erasure removed that,
   * by its digest only, as before).
   */
  @Test
  void shouldCompareAVerdictByItsJudgementDigestOrWithoutOneByItsPayload() throws Exception {
    ModerationVerdict verdict =
        AuditEvents.verdict(Scenario.of("judgement-digest", "acme", Decision.RELEASE, NOW));
    ModerationVerdict older =
        AuditEvents.verdict(Scenario.of("before-v35", "acme", Decision.RELEASE, NOW));
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), older)));
    assertThat(
            count(
                "select count(*) from audit_log where event_id = '"
                    + verdict.getEventId()
                    + "' and judgement_sha256 = sha256(convert_to('"
                    + CanonicalJson.of(
                            ModerationVerdict.newBuilder(verdict)
                                .setDecidedAt(Instant.EPOCH)
                                .build())
                        .replace("'", "''")
                    + "', 'UTF8'))"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from audit_log where judgement_sha256 is not null"
                    + " and event_type <> 'ModerationVerdict'"))
        .as("other records have none")
        .isZero();
    try (Connection connection = database.dataSource().getConnection();
        Statement st = connection.createStatement()) {
      st.executeUpdate(
          "update audit_log set judgement_sha256 = null where event_id = '"
              + older.getEventId()
              + "'");
    }
    long before = writer.eventIdConflicts();

    for (ModerationVerdict recorded : List.of(verdict, older)) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(recorded)
                      .setDecidedAt(recorded.getDecidedAt().plusSeconds(600))
                      .build()),
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(recorded).setDecision(Decision.BLOCK).build())));
    }

    assertThat(
            count(
                "select count(*) from event_id_conflict where event_id in ('"
                    + verdict.getEventId()
                    + "', '"
                    + older.getEventId()
                    + "')"))
        .as("only the verdicts judged otherwise")
        .isEqualTo(2);
    assertThat(writer.eventIdConflicts()).isEqualTo(before + 2);
  }

  /**
   * A verdict recorded by an older writer, whose schema lacked a field added since as nullable with
   * default null: its payload and judgement digest lack the key, which the same verdict read again
   * now has as null. While the payload is stored it is compared as it was before V35 (read back
   * into the current class), so the same judgement decided later is still a redelivery, and another
   * judgement (another decision, the new field set) still a conflict.
   */
  @Test
  void shouldTakeAVerdictJudgedAgainAsARedeliveryAfterItsSchemaGainedANullableField()
      throws Exception {
    // Its own database: the record is rewritten as an older writer stored it, off the chain, so
    // the chain the other tests verify stays valid.
    AuditDatabase own = ownDatabase("audit_writer_older_schema_it");
    try {
      verdictOfAnOlderSchemaJudgedAgain(
          own, new AuditWriter(own.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC)));
    } finally {
      own.close();
    }
  }

  /** A new, migrated database of the test's own: what it writes leaves the shared chain alone. */
  private static AuditDatabase ownDatabase(String name) {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    return AuditDatabase.connect(
        infra.createDatabase(name), infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  private static void verdictOfAnOlderSchemaJudgedAgain(AuditDatabase db, AuditWriter w)
      throws Exception {
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(
                AuditEvents.verdict(Scenario.of("older-schema", "acme", Decision.RELEASE, NOW)))
            .setModel(null)
            .build();
    w.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
    // What a writer whose schema had no "model" yet stored.
    String olderPayload =
        OlderWriterRecords.storedByAWriterWithout(db.dataSource(), verdict, List.of("model"));
    long before = w.eventIdConflicts();

    ModerationVerdict later =
        ModerationVerdict.newBuilder(verdict)
            .setDecidedAt(verdict.getDecidedAt().plusSeconds(900))
            .build();
    assertThat(w.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), later))))
        .isZero();
    assertThat(
            TestSql.count(
                db.dataSource(),
                "select count(*) from event_id_conflict where event_id = '"
                    + verdict.getEventId()
                    + "'"))
        .as("the same judgement decided later")
        .isZero();
    assertThat(w.eventIdConflicts()).isEqualTo(before);

    w.write(
        List.of(
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                ModerationVerdict.newBuilder(later).setDecision(Decision.BLOCK).build()),
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                ModerationVerdict.newBuilder(later)
                    .setModel(
                        AuditEvents.verdict(Scenario.of("m", "acme", Decision.RELEASE, NOW))
                            .getModel())
                    .build())));
    assertThat(
            TestSql.count(
                db.dataSource(),
                "select count(*) from event_id_conflict where event_id = '"
                    + verdict.getEventId()
                    + "'"))
        .as("another decision, and the new field set")
        .isEqualTo(2);
    assertThat(w.eventIdConflicts()).isEqualTo(before + 2);
    assertThat(
            string(
                db,
                "select payload from audit_log where event_id = '" + verdict.getEventId() + "'"))
        .as("the older record stays")
        .isEqualTo(olderPayload);
  }

  /**
   * The forty-ninth session's report: a verdict recorded by a writer whose schema lacked a field
   * that is not nullable but has a default ({@code policySha256} "", {@code textTruncated} false)
   * has neither key in its payload nor in its digest. Its payload did not read back into the
   * current class (policySha256 "is not a string"), so the payload fallback skipped it and the same
   * judgement decided later was kept as a conflict. Read with the fields' defaults, as Avro's
   * schema resolution reads old bytes, it is the verdict read again now.
   */
  @Test
  void shouldTakeAVerdictJudgedAgainAsARedeliveryAfterItsSchemaGainedAFieldWithADefault()
      throws Exception {
    AuditDatabase own = ownDatabase("audit_writer_older_default_it");
    try {
      AuditWriter w = new AuditWriter(own.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
      ModerationVerdict verdict =
          ModerationVerdict.newBuilder(
                  AuditEvents.verdict(Scenario.of("older-default", "acme", Decision.REVIEW, NOW)))
              .setPolicySha256("")
              .setTextTruncated(false)
              .build();
      w.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
      OlderWriterRecords.storedByAWriterWithout(
          own.dataSource(), verdict, List.of("policySha256", "textTruncated"));
      String conflicts =
          "select count(*) from event_id_conflict where event_id = '" + verdict.getEventId() + "'";

      w.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict)
                      .setDecidedAt(verdict.getDecidedAt().plusSeconds(900))
                      .build())));
      assertThat(TestSql.count(own.dataSource(), conflicts))
          .as("the same judgement decided later")
          .isZero();
      assertThat(w.eventIdConflicts()).isZero();

      w.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict).setDecision(Decision.BLOCK).build()),
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict).setPolicySha256("ab".repeat(32)).build()),
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict).setTextTruncated(true).build())));
      assertThat(TestSql.count(own.dataSource(), conflicts))
          .as("another decision, a policy digest, a truncated text")
          .isEqualTo(3);
    } finally {
      own.close();
    }
  }

  /**
   * The fiftieth session's review: the payload fallback read a verdict recorded by a newer writer,
   * whose schema has a field this class does not know, without that field, so a verdict that
   * differs from it only there was "the same judgement" and no conflict was kept. Such a payload is
   * no longer read back: the verdict is a conflict, as when the digests differ otherwise. The new
   * key at the top level and inside a reason.
   */
  @Test
  void shouldTakeAVerdictDifferingOnlyInAFieldThisVersionDoesNotKnowAsAConflict() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    AuditDatabase own =
        AuditDatabase.connect(
            infra.createDatabase("audit_writer_newer_schema_it"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2);
    try {
      AuditWriter w = new AuditWriter(own.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
      for (String level : List.of("top", "reason")) {
        ModerationVerdict verdict =
            AuditEvents.verdict(Scenario.of("newer-" + level, "acme", Decision.REVIEW, NOW));
        w.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
        // What a writer whose schema has one more field stored: the canonical JSON with its key,
        // and the digest of that JSON without decidedAt.
        ObjectNode newer = CanonicalJson.toTree(verdict);
        ObjectNode holder =
            level.equals("top") ? newer : (ObjectNode) newer.withArray("reasons").get(0);
        holder.put("futureField", "x");
        String newerPayload = CanonicalJson.write(newer);
        assertThat(newerPayload).contains("\"futureField\"");
        try (Connection connection = own.dataSource().getConnection();
            PreparedStatement update =
                connection.prepareStatement(
                    "update audit_log set payload = ?, payload_sha256 = sha256(convert_to(?,"
                        + " 'UTF8')), judgement_sha256 = sha256(convert_to(?, 'UTF8'))"
                        + " where event_id = ?")) {
          update.setString(1, newerPayload);
          update.setString(2, newerPayload);
          update.setString(
              3, CanonicalJson.write(CanonicalJson.withField(newer, "decidedAt", Instant.EPOCH)));
          update.setString(4, verdict.getEventId());
          assertThat(update.executeUpdate()).isEqualTo(1);
        }

        w.write(
            List.of(
                AuditEvents.incoming(
                    Topics.MODERATION_VERDICTS.name(),
                    ModerationVerdict.newBuilder(verdict)
                        .setDecidedAt(verdict.getDecidedAt().plusSeconds(900))
                        .build())));

        assertThat(
                TestSql.count(
                    own.dataSource(),
                    "select count(*) from event_id_conflict where event_id = '"
                        + verdict.getEventId()
                        + "'"))
            .as("a verdict without the newer writer's field, key at the %s level", level)
            .isOne();
        assertThat(
                string(
                    own,
                    "select payload from audit_log where event_id = '"
                        + verdict.getEventId()
                        + "'"))
            .as("the newer record stays")
            .isEqualTo(newerPayload);
      }
      assertThat(w.eventIdConflicts()).isEqualTo(2);
    } finally {
      own.close();
    }
  }

  /**
   * The fiftieth session's reviews: during a rolling upgrade a newer writer stores the verdict an
   * older producer wrote with the key of the field its schema added, as null, and that in its
   * digest; the same verdict read again by an older instance (its class lacks the field) was a
   * conflict, since the payload fallback refused any key this class lacks. A key holding null is
   * what the newer writer reads for bytes without the field: the verdict is a redelivery, at the
   * top level and inside a reason. With a value there, it is still a conflict.
   */
  @Test
  void shouldTakeAVerdictJudgedAgainAsARedeliveryWhenANewerWritersFieldIsNull() throws Exception {
    AuditDatabase own = ownDatabase("audit_writer_newer_null_it");
    try {
      AuditWriter w = new AuditWriter(own.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
      for (String level : List.of("top", "reason")) {
        ModerationVerdict verdict =
            AuditEvents.verdict(Scenario.of("newer-null-" + level, "acme", Decision.REVIEW, NOW));
        w.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
        ObjectNode newer = CanonicalJson.toTree(verdict);
        ObjectNode holder =
            level.equals("top") ? newer : (ObjectNode) newer.withArray("reasons").get(0);
        holder.putNull("futureField");
        storeAsANewerWriter(own, verdict, newer);

        w.write(
            List.of(
                AuditEvents.incoming(
                    Topics.MODERATION_VERDICTS.name(),
                    ModerationVerdict.newBuilder(verdict)
                        .setDecidedAt(verdict.getDecidedAt().plusSeconds(900))
                        .build())));
        String conflicts =
            "select count(*) from event_id_conflict where event_id = '"
                + verdict.getEventId()
                + "'";
        assertThat(TestSql.count(own.dataSource(), conflicts))
            .as("the same judgement decided later, the newer key null at the %s level", level)
            .isZero();

        w.write(
            List.of(
                AuditEvents.incoming(
                    Topics.MODERATION_VERDICTS.name(),
                    ModerationVerdict.newBuilder(verdict).setDecision(Decision.BLOCK).build())));
        assertThat(TestSql.count(own.dataSource(), conflicts))
            .as("another decision, the newer key null at the %s level", level)
            .isOne();
      }
      assertThat(w.eventIdConflicts()).isEqualTo(2);
    } finally {
      own.close();
    }
  }

  /**
   * The fiftieth session's reviews: a verdict whose stored payload lacks a field of this class that
   * has a primitive type and no default ({@code unsafeScore}: a writer whose schema dropped or
   * lacked it) read back with it as 0.0, so a verdict with the score 0.0 was "the same judgement"
   * and no conflict was kept. Such a payload is not readable by this version: the verdict is
   * compared by its digest alone, which differs, and is kept as a conflict.
   */
  @Test
  void shouldNotReadAMissingPrimitiveFieldOfARecordedVerdictAsZero() throws Exception {
    AuditDatabase own = ownDatabase("audit_writer_missing_primitive_it");
    try {
      AuditWriter w = new AuditWriter(own.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
      ModerationVerdict verdict =
          AuditEvents.verdict(Scenario.of("no-score", "acme", Decision.REVIEW, NOW));
      w.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
      OlderWriterRecords.storedByAWriterWithout(own.dataSource(), verdict, List.of("unsafeScore"));

      w.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict)
                      .setUnsafeScore(0.0)
                      .setDecidedAt(verdict.getDecidedAt().plusSeconds(900))
                      .build())));

      assertThat(
              TestSql.count(
                  own.dataSource(),
                  "select count(*) from event_id_conflict where event_id = '"
                      + verdict.getEventId()
                      + "'"))
          .as("a score of 0.0 where the record has none")
          .isOne();
      assertThat(w.eventIdConflicts()).isOne();
    } finally {
      own.close();
    }
  }

  /**
   * Rewrites a verdict's record as a newer writer stored it, with {@code tree} its canonical tree:
   * that JSON, and the digest of it without decidedAt.
   */
  private static void storeAsANewerWriter(
      AuditDatabase db, ModerationVerdict verdict, ObjectNode tree) throws SQLException {
    String payload = CanonicalJson.write(tree);
    assertThat(payload).contains("\"futureField\"");
    try (Connection connection = db.dataSource().getConnection();
        PreparedStatement update =
            connection.prepareStatement(
                "update audit_log set payload = ?, payload_sha256 = sha256(convert_to(?, 'UTF8')),"
                    + " judgement_sha256 = sha256(convert_to(?, 'UTF8')) where event_id = ?")) {
      update.setString(1, payload);
      update.setString(2, payload);
      update.setString(
          3, CanonicalJson.write(CanonicalJson.withField(tree, "decidedAt", Instant.EPOCH)));
      update.setString(4, verdict.getEventId());
      assertThat(update.executeUpdate()).isEqualTo(1);
    }
  }

  /**
   * Only when the verdict was decided is left out: a verdict under a recorded verdict's id with
   * another decision, other reasons or another judged text is still a conflict, decided later or
   * not.
   */
  @Test
  void shouldStillTakeAVerdictWithAnotherJudgementUnderARecordedIdAsAConflict() throws Exception {
    Scenario s = Scenario.of("rejudged-otherwise", "acme", Decision.RELEASE, NOW);
    ModerationVerdict verdict = AuditEvents.verdict(s);
    writer.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
    long before = writer.eventIdConflicts();
    List<ModerationVerdict> others =
        List.of(
            ModerationVerdict.newBuilder(verdict)
                .setDecision(Decision.BLOCK)
                .setDecidedAt(verdict.getDecidedAt().plusSeconds(60))
                .build(),
            ModerationVerdict.newBuilder(verdict).setReasons(List.of()).build(),
            ModerationVerdict.newBuilder(verdict)
                .setOutputSha256("00".repeat(32))
                .setDecidedAt(verdict.getDecidedAt().plusSeconds(60))
                .build());
    for (ModerationVerdict other : others) {
      writer.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), other)));
    }
    assertThat(verdict.getReasons()).as("the fixture's verdict has reasons").isNotEmpty();
    assertThat(
            count(
                "select count(*) from event_id_conflict where not after_resend and event_id = '"
                    + verdict.getEventId()
                    + "'"))
        .isEqualTo(3);
    assertThat(writer.eventIdConflicts()).isEqualTo(before + 3);
  }

  /**
   * A request sent to the generators again (UnfinishedFlows, NO_ANSWER) that a generator had
   * answered after all is answered again: another text under the same output id, and its verdict
   * under the same verdict id. Read after the resend was recorded, they are kept with after_resend
   * and counted apart, not as conflicts (which alert); before it, or after a resend of the output
   * only (which sends the recorded output byte for byte), another output is a conflict.
   */
  @Test
  void shouldKeepAnAnswerGivenAgainAfterAResendApartFromTheConflicts() throws Exception {
    Scenario s = Scenario.of("answered-twice", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(s));
    GenerationOutput output = AuditEvents.output(s);
    ModerationVerdict verdict = AuditEvents.verdict(s);
    GenerationOutput again =
        GenerationOutput.newBuilder(output)
            .setText("another answer")
            .setGeneratedAt(output.getGeneratedAt().plusSeconds(600))
            .build();
    ModerationVerdict judged =
        ModerationVerdict.newBuilder(verdict)
            .setOutputSha256(io.genguard.schemas.ContentHash.sha256Hex("another answer"))
            .setDecidedAt(verdict.getDecidedAt().plusSeconds(601))
            .build();
    long conflicts = writer.eventIdConflicts();
    long afterResend = writer.eventIdConflictsAfterResend();
    // The output's flow sent again: that explains a verdict judged again, not another output.
    flowResent(s, "NO_GATE_OUTCOME");
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), again)));
    assertThat(writer.eventIdConflicts()).isEqualTo(conflicts + 1);
    assertThat(writer.eventIdConflictsAfterResend()).isEqualTo(afterResend);

    flowResent(s, "NO_ANSWER");
    GenerationOutput third = GenerationOutput.newBuilder(again).setText("a third answer").build();
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), third),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), judged)));

    assertThat(writer.eventIdConflicts()).isEqualTo(conflicts + 1);
    assertThat(writer.eventIdConflictsAfterResend()).isEqualTo(afterResend + 2);
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'answered-twice'"
                    + " and after_resend and payload is not null"))
        .isEqualTo(2);
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'answered-twice'"
                    + " and not after_resend and payload like '%another answer%'"))
        .isEqualTo(1);
  }

  /**
   * The forty-sixth session's review (finding 2): after_resend was decided on the request id the
   * incoming content names, which a forger chooses, so a forged verdict naming any resent request
   * was kept quietly. Now the contested record must be of that request (and tenant).
   */
  @Test
  void shouldStillAlertAForgedVerdictNamingAnotherResentRequest() throws Exception {
    Scenario victim = Scenario.of("probe-victim", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(victim));
    Scenario resent = Scenario.of("probe-resent", "other", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(resent));
    flowResent(resent, "NO_ANSWER");
    ModerationVerdict genuine = AuditEvents.verdict(victim);
    ModerationVerdict forged =
        ModerationVerdict.newBuilder(genuine)
            .setRequestId(resent.requestId())
            .setTenantId("other")
            .setDecision(Decision.BLOCK)
            .build();
    long conflicts = writer.eventIdConflicts();
    writer.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), forged)));
    assertThat(
            count(
                "select count(*) from event_id_conflict where event_id = '"
                    + genuine.getEventId()
                    + "' and after_resend"))
        .as("kept marked after_resend although the record's request was never resent")
        .isZero();
    assertThat(writer.eventIdConflicts()).as("alerted conflicts").isEqualTo(conflicts + 1);
  }

  /** Content naming the resent request and its record but another tenant is still alerted. */
  @Test
  void shouldStillAlertAConflictNamingAnotherTenantThanItsResentRecord() throws Exception {
    Scenario s = Scenario.of("resent-tenant", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(s));
    flowResent(s, "NO_ANSWER");
    GenerationOutput other =
        GenerationOutput.newBuilder(AuditEvents.output(s))
            .setTenantId("globex")
            .setText("other tenant")
            .build();
    long conflicts = writer.eventIdConflicts();
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), other)));
    assertThat(writer.eventIdConflicts()).isEqualTo(conflicts + 1);
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'resent-tenant'"
                    + " and after_resend"))
        .isZero();
  }

  /**
   * A resend under way (its marker committed before the send, its count not yet) marks an answer
   * given again as after_resend; a marker older than RESEND_UNDER_WAY (a process stopped mid-send)
   * does not.
   */
  @Test
  void shouldTakeAResendUnderWayForAnHourOnly() throws Exception {
    Scenario fresh = Scenario.of("resend-fresh", "acme", Decision.RELEASE, NOW);
    Scenario stale = Scenario.of("resend-stale", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(fresh));
    writer.write(AuditEvents.story(stale));
    flowResent(fresh, "NO_ANSWER");
    flowResent(stale, "NO_ANSWER");
    try (Connection connection = database.dataSource().getConnection();
        Statement st = connection.createStatement()) {
      st.executeUpdate(
          "update unfinished_flow set resent_count = 0, resent_at = null, resend_started_at = case"
              + " request_id"
              + " when 'resend-fresh' then timestamptz '"
              + NOW.minus(AuditWriter.RESEND_UNDER_WAY).plusSeconds(60)
              + "' else timestamptz '"
              + NOW.minus(AuditWriter.RESEND_UNDER_WAY).minusSeconds(60)
              + "' end");
    }
    long conflicts = writer.eventIdConflicts();
    long afterResend = writer.eventIdConflictsAfterResend();
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(fresh)).setText("again").build()),
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(stale)).setText("again").build())));
    assertThat(writer.eventIdConflictsAfterResend()).isEqualTo(afterResend + 1);
    assertThat(writer.eventIdConflicts()).isEqualTo(conflicts + 1);
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'resend-stale'"
                    + " and not after_resend"))
        .isEqualTo(1);
  }

  /**
   * A conflict is after_resend when the flow's last send (resent_at) or its resend marker
   * (resend_started_at) is at most RESEND_UNDER_WAY old, whichever of them is set: the insert asks
   * greatest(resent_at, resend_started_at) against one cutoff, where it bound the cutoff twice
   * ("or"). Every combination of unset, recent and old, each in its own request.
   */
  @Test
  void shouldMarkAfterResendByEitherTime() throws Exception {
    Instant recent = NOW.minus(AuditWriter.RESEND_UNDER_WAY).plusSeconds(60);
    Instant old = NOW.minus(AuditWriter.RESEND_UNDER_WAY).minusSeconds(60);
    Instant[][] times = {
      {null, null},
      {recent, null},
      {null, recent},
      {old, null},
      {null, old},
      {old, recent},
      {recent, old},
      {old, old},
      {recent, recent}
    };
    Map<String, Boolean> expected = new TreeMap<>();
    List<IncomingEvent> again = new ArrayList<>();
    for (int i = 0; i < times.length; i++) {
      Scenario s = Scenario.of("either-time-" + i, "acme", Decision.RELEASE, NOW);
      writer.write(AuditEvents.story(s));
      flowResent(s, "NO_ANSWER");
      try (Connection connection = database.dataSource().getConnection();
          Statement st = connection.createStatement()) {
        st.executeUpdate(
            "update unfinished_flow set resent_at = "
                + timestamp(times[i][0])
                + ", resend_started_at = "
                + timestamp(times[i][1])
                + " where request_id = '"
                + s.requestId()
                + "'");
      }
      expected.put(s.requestId(), times[i][0] == recent || times[i][1] == recent);
      again.add(
          AuditEvents.incoming(
              Topics.GENERATION_OUTPUTS.name(),
              GenerationOutput.newBuilder(AuditEvents.output(s)).setText("again " + i).build()));
    }
    writer.write(again);

    Map<String, Boolean> marked = new TreeMap<>();
    try (Connection connection = database.dataSource().getConnection();
        Statement st = connection.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select request_id, after_resend from event_id_conflict"
                    + " where request_id like 'either-time-%'")) {
      while (rs.next()) {
        marked.put(rs.getString(1), rs.getBoolean(2));
      }
    }
    assertThat(marked).isEqualTo(expected);
  }

  private static String timestamp(Instant at) {
    return at == null ? "null" : "timestamptz '" + at + "'";
  }

  /**
   * Records a flow of the scenario's request as sent again once, now, as UnfinishedFlows#resend
   * does (the flow's row names the request's record rather than a FlowUnfinished record: the writer
   * reads only its request, kind and count).
   */
  private static void flowResent(Scenario s, String kind) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement st = connection.createStatement()) {
      st.executeUpdate(
          "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
              + " recorded_at, found_at, resent_count, resent_at) select event_id, '"
              + kind
              + "', request_id, tenant_id, seq, recorded_at, recorded_at, 1, timestamptz '"
              + NOW
              + "' from audit_log"
              + " where request_id = '"
              + s.requestId()
              + "' and event_type = '"
              + (kind.equals("NO_ANSWER") ? "GenerationRequest" : "GenerationOutput")
              + "'");
    }
  }

  /**
   * A request id erased for one tenant only (a data subject erasure notes its tenant's scope, V39)
   * keeps another tenant's conflicting content under the id: any note of the request id used to
   * drop it, though nothing of that tenant was erased (reported by the fifty-second session's
   * review). The conflict's own tenant's note, or one of every tenant, still drops it.
   */
  @Test
  void shouldKeepAConflictsPayloadWhenOnlyAnotherTenantsErasureOfTheIdWasNoted() throws Exception {
    Map<String, String> notes = Map.of("scoped-other", "beta", "scoped-own", "acme");
    Map<String, String> payloads = new TreeMap<>();
    for (Map.Entry<String, String> note : notes.entrySet()) {
      Scenario s = Scenario.of(note.getKey(), "acme", Decision.RELEASE, NOW);
      GenerationOutput genuine = AuditEvents.output(s);
      GenerationOutput forged = GenerationOutput.newBuilder(genuine).setText("forged text").build();
      writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), forged)));
      try (Connection connection = database.dataSource().getConnection();
          PreparedStatement insert =
              connection.prepareStatement(
                  "insert into request_erasure (request_id, tenant_id, erased_at)"
                      + " values (?, ?, now())")) {
        insert.setString(1, note.getKey());
        insert.setString(2, note.getValue());
        insert.executeUpdate();
      }
      writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine)));
      payloads.put(
          note.getKey(),
          string(
              "select coalesce(payload, 'none') from event_id_conflict where event_id = '"
                  + genuine.getEventId()
                  + "'"));
    }
    assertThat(payloads.get("scoped-other"))
        .as("acme's conflict under an id only beta's erasure noted")
        .isNotEqualTo("none");
    assertThat(payloads.get("scoped-own")).as("acme's own erasure noted").isEqualTo("none");
  }

  /**
   * An erasure tombstones a record and empties event_id_conflict's payloads under the chain lock;
   * other content under that record's id read meanwhile used to be checked against the record
   * before the erasure committed, and kept with its payload, which then stayed after the erasure.
   * The writer waits for the chain lock and decides on what the erasure left: no payload.
   */
  @Test
  void shouldKeepNoPayloadOfAConflictReadWhileAnErasureTombstonesItsRecord() throws Exception {
    // A database of its own: the tombstone below is justified by no erasure record, so the chain
    // the other tests verify would not be valid.
    AuditDatabase own = ownDatabase("audit_writer_erased_race_it");
    try {
      conflictReadWhileAnErasureTombstonesItsRecord(own);
    } finally {
      own.close();
    }
  }

  private static void conflictReadWhileAnErasureTombstonesItsRecord(AuditDatabase database)
      throws Exception {
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    Scenario s = Scenario.of("erased-race", "acme", Decision.RELEASE, NOW);
    GenerationOutput genuine = AuditEvents.output(s);
    GenerationOutput forged = GenerationOutput.newBuilder(genuine).setText("forged text").build();
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), forged)));
    String id = genuine.getEventId();
    ExecutorService ex = Executors.newSingleThreadExecutor();
    boolean blocked = false;
    try (Connection erasure = database.dataSource().getConnection()) {
      erasure.setAutoCommit(false);
      try (Statement st = erasure.createStatement()) {
        st.execute("select pg_advisory_xact_lock(" + ChainAppender.CHAIN_LOCK + ")");
        st.executeUpdate(
            "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = seq"
                + " where event_id = '"
                + id
                + "'");
        st.executeUpdate(
            "update event_id_conflict set payload = null where event_id = '" + id + "'");
      }
      Future<Integer> w =
          ex.submit(
              () ->
                  writer.write(
                      List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine))));
      try {
        w.get(3, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        blocked = true;
      }
      erasure.commit();
      w.get(30, TimeUnit.SECONDS);
    } finally {
      ex.shutdownNow();
    }
    assertThat(blocked).as("the writer waited for the erasure").isTrue();
    String conflicts = "select count(*) from event_id_conflict where event_id = '" + id + "'";
    assertThat(TestSql.count(database.dataSource(), conflicts)).isEqualTo(1);
    assertThat(TestSql.count(database.dataSource(), conflicts + " and payload is not null"))
        .as("erased content kept in event_id_conflict")
        .isZero();
  }

  @Test
  void shouldTakeARestatementWrittenAgainWithAnotherRestatedAtAsARedelivery() throws Exception {
    // The gate restates a decision under one event id each time an output is sent to it again,
    // with the time of that restatement: a second one is no conflict, only outputs and verdicts
    // are compared.
    Scenario s = Scenario.of("restated-twice", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(s));
    long conflictsBefore = writer.eventIdConflicts();
    for (int i = 1; i <= 2; i++) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.GATE_RESTATEMENTS.name(),
                  AuditEvents.restatedRelease(s, NOW, NOW.plusSeconds(i), null, null))));
    }
    assertThat(count("select count(*) from audit_log where event_id = 'restated-restated-twice'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from event_id_conflict where event_id = 'restated-restated-twice'"))
        .isZero();
    assertThat(writer.eventIdConflicts()).isEqualTo(conflictsBefore);
  }

  @Test
  void shouldKeepThePolicyFileEachVerdictNamesAndNoneForOlderVerdicts() throws Exception {
    writer.write(AuditEvents.story(Scenario.of("digest-1", "acme", Decision.RELEASE, NOW)));
    Scenario older = Scenario.of("digest-2", "acme", Decision.RELEASE, NOW);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                ModerationVerdict.newBuilder(AuditEvents.verdict(older))
                    .setPolicySha256("")
                    .build())));
    assertThat(
            count(
                "select count(*) from moderation_verdict where request_id = 'digest-1'"
                    + " and policy_sha256 = '"
                    + AuditEvents.POLICY_SHA256
                    + "'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from moderation_verdict where request_id = 'digest-2'"
                    + " and policy_sha256 = ''"))
        .isEqualTo(1);
  }

  @Test
  void shouldChainEveryRecordToItsPredecessor() throws Exception {
    writer.write(List.of(request("chain-1", 100), request("chain-2", 101)));
    writer.write(List.of(request("chain-3", 102)));
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select seq, event_id, event_type, tenant_id, request_id,"
                    + " source_topic, source_partition, source_offset, payload, recorded_at, chain_version, entry_digest,"
                    + " prev_hash, hash, payload_sha256 from audit_log order by seq")) {
      byte[] previous = AuditChain.GENESIS;
      long expectedSeq = 1;
      while (rs.next()) {
        assertThat(rs.getLong("seq")).isEqualTo(expectedSeq++);
        assertThat(rs.getBytes("prev_hash")).isEqualTo(previous);
        assertThat(rs.getInt("chain_version")).isEqualTo(AuditChain.CURRENT_VERSION);
        AuditChain.Entry entry = AuditChain.Entry.read(rs);
        assertThat(rs.getBytes("entry_digest")).isEqualTo(AuditChain.digest(entry));
        assertThat(AuditChain.hash(previous, entry)).isEqualTo(rs.getBytes("hash"));
        previous = rs.getBytes("hash");
      }
      assertThat(expectedSeq).isGreaterThan(3);
    }
  }

  @Test
  void shouldQueueAHeldOutputAndCloseItWhenTheGateDecidesWhateverTheOrderOfTopics()
      throws Exception {
    Scenario held = Scenario.of("held-1", "acme", Decision.REVIEW, NOW);
    writer.write(AuditEvents.story(held));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'held-1' and state = 'PENDING'"))
        .isEqualTo(1);

    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    held,
                    GateOutcome.RELEASED,
                    GateBasis.REVIEW,
                    "review-1",
                    NOW.plusSeconds(5)))));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'held-1' and state = 'RELEASED'"))
        .isEqualTo(1);

    // The final outcome read before the held one (different topics): the item is born closed.
    Scenario late = Scenario.of("held-2", "acme", Decision.REVIEW, NOW);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                AuditEvents.gateOutcome(
                    late,
                    GateOutcome.QUARANTINED,
                    GateBasis.REVIEW,
                    "review-2",
                    NOW.plusSeconds(5)))));
    writer.write(AuditEvents.story(late));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'held-2' and state = 'QUARANTINED'"))
        .isEqualTo(1);
  }

  @Test
  void shouldCloseEachItemByItsRequestsFirstFinalOutcomeInABatch() throws Exception {
    Scenario pending = Scenario.of("finals-pending", "acme", Decision.REVIEW, NOW);
    Scenario decided = Scenario.of("finals-decided", "acme", Decision.REVIEW, NOW);
    Scenario closed = Scenario.of("finals-closed", "acme", Decision.REVIEW, NOW);
    Scenario heldNow = Scenario.of("finals-held-now", "acme", Decision.REVIEW, NOW);
    Scenario released = Scenario.of("finals-released", "acme", Decision.RELEASE, NOW);
    Scenario blocked = Scenario.of("finals-blocked", "beta", Decision.BLOCK, NOW);
    Scenario heldLater = Scenario.of("finals-held-later", "acme", Decision.REVIEW, NOW);
    for (Scenario held : List.of(pending, decided, closed)) {
      writer.write(AuditEvents.story(held));
    }
    writer.write(List.of(decision(decided, "finals-review")));
    writer.write(List.of(finalOutcome(closed, GateOutcome.RELEASED, "finals-first")));

    // One batch: two finals for one request (the first closes its item, the second finds it
    // closed), finals for items decided, closed, held in this very batch or written later, and
    // for requests never held.
    List<IncomingEvent> batch = new ArrayList<>();
    batch.add(finalOutcome(pending, GateOutcome.RELEASED, "finals-a"));
    batch.addAll(AuditEvents.story(heldNow));
    batch.addAll(AuditEvents.story(released));
    batch.add(finalOutcome(decided, GateOutcome.QUARANTINED, "finals-review"));
    batch.add(finalOutcome(heldNow, GateOutcome.QUARANTINED, "finals-b"));
    batch.add(finalOutcome(closed, GateOutcome.QUARANTINED, "finals-second"));
    batch.addAll(AuditEvents.story(blocked));
    batch.add(finalOutcome(pending, GateOutcome.QUARANTINED, "finals-c"));
    batch.add(finalOutcome(heldNow, GateOutcome.RELEASED, "finals-d"));
    batch.add(finalOutcome(heldLater, GateOutcome.RELEASED, "finals-e"));
    writer.write(batch);
    writer.write(AuditEvents.story(heldLater));

    Map<String, String> states = new TreeMap<>();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select request_id, state from review_item where request_id like 'finals-%'")) {
      while (rs.next()) {
        states.put(rs.getString(1), rs.getString(2));
      }
    }
    assertThat(states)
        .isEqualTo(
            Map.of(
                "finals-pending", "RELEASED",
                "finals-decided", "QUARANTINED",
                "finals-closed", "RELEASED",
                "finals-held-now", "QUARANTINED",
                "finals-held-later", "RELEASED"));
  }

  /**
   * Another tenant's gate outcome under an item's request id, read before or after the hold or
   * restated, used to close the item; only the item's own tenant's outcome closes it now.
   */
  @Test
  void shouldCloseAReviewItemOnlyByAnOutcomeOfItsOwnTenant() throws Exception {
    Scenario held = Scenario.of("tenants-held", "acme", Decision.REVIEW, NOW);
    Scenario heldOther = Scenario.of("tenants-held", "beta", Decision.REVIEW, NOW);
    Scenario later = Scenario.of("tenants-later", "acme", Decision.REVIEW, NOW);
    Scenario laterOther = Scenario.of("tenants-later", "beta", Decision.REVIEW, NOW);
    Scenario restated = Scenario.of("tenants-restated", "acme", Decision.REVIEW, NOW);
    Scenario restatedOther = Scenario.of("tenants-restated", "beta", Decision.REVIEW, NOW);
    writer.write(AuditEvents.story(held));
    writer.write(AuditEvents.story(restated));

    // Another tenant's finals: before the hold is read, after it, and restated.
    writer.write(List.of(finalOutcome(laterOther, GateOutcome.RELEASED, "tenants-other-1")));
    writer.write(AuditEvents.story(later));
    writer.write(
        List.of(
            finalOutcome(heldOther, GateOutcome.RELEASED, "tenants-other-2"),
            AuditEvents.incoming(
                Topics.GATE_RESTATEMENTS.name(),
                AuditEvents.restatedRelease(
                    restatedOther, NOW.plusSeconds(5), NOW.plusSeconds(6), null, null))));
    assertThat(tenantsStates())
        .as("items after another tenant's final outcomes")
        .isEqualTo(
            Map.of(
                "tenants-held", "PENDING",
                "tenants-later", "PENDING",
                "tenants-restated", "PENDING"));

    // The own tenant's final closes the item, also read after another tenant's in one batch.
    writer.write(
        List.of(
            finalOutcome(heldOther, GateOutcome.QUARANTINED, "tenants-other-3"),
            finalOutcome(held, GateOutcome.RELEASED, "tenants-own-1"),
            finalOutcome(later, GateOutcome.QUARANTINED, "tenants-own-2")));
    assertThat(tenantsStates())
        .as("items after their own tenant's final outcomes")
        .isEqualTo(
            Map.of(
                "tenants-held", "RELEASED",
                "tenants-later", "QUARANTINED",
                "tenants-restated", "PENDING"));
  }

  /**
   * Two tenants may use one request id: another tenant's hold under it (on a verdict, naming a
   * review) or decision of it leaves an item alone (its verdict, its late verdict, its decision,
   * whether it is open), as a hold or decision of the item's own tenant would not.
   */
  @Test
  void shouldChangeAReviewItemOnlyByAHoldOrDecisionOfItsOwnTenant() throws Exception {
    Scenario waiting = Scenario.of("tenancy-wait", "acme", Decision.REVIEW, NOW);
    Scenario closed = Scenario.of("tenancy-closed", "acme", Decision.REVIEW, NOW);
    Scenario decided = Scenario.of("tenancy-decided", "acme", Decision.REVIEW, NOW);
    writer.write(AuditEvents.heldWithoutVerdict(waiting));
    writer.write(AuditEvents.heldWithoutVerdict(closed));
    writer.write(List.of(finalOutcome(closed, GateOutcome.RELEASED, "tenancy-closed-review")));
    writer.write(AuditEvents.story(decided));
    writer.write(List.of(decision(decided, "tenancy-decided-review")));
    Map<String, String> before = tenancyItems("acme");

    // Tenant beta's holds under the same request ids: on a verdict of its own, and one naming the
    // review id of acme's decision. Each is an item of beta's own (keyed by tenant and request id
    // since V37): acme's are left as they were.
    writer.write(
        List.of(
            otherTenantsHold(waiting, null),
            otherTenantsHold(closed, null),
            otherTenantsHold(decided, "tenancy-decided-review")));
    assertThat(tenancyItems("acme")).as("items after another tenant's holds").isEqualTo(before);
    assertThat(tenancyItems("beta"))
        .as("the other tenant's items")
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "tenancy-wait", betaPending(waiting),
                "tenancy-closed", betaPending(closed),
                "tenancy-decided", betaPending(decided)));

    // Tenant beta's decision under the request id of acme's item waiting for a person.
    writer.write(List.of(otherTenantsDecision(waiting, "tenancy-wait-beta-review")));
    assertThat(tenancyItems("acme")).as("items after another tenant's decision").isEqualTo(before);
    assertThat(tenancyItems("beta"))
        .as("the other tenant's decision decides its own item")
        .containsEntry(
            "tenancy-wait",
            "DECIDED verdict=verdict-beta-tenancy-wait late=null review=tenancy-wait-beta-review");
    assertThat(before)
        .containsEntry("tenancy-wait", "PENDING verdict= late=null review=null")
        .containsEntry("tenancy-closed", "RELEASED verdict= late=null review=null")
        .containsEntry(
            "tenancy-decided",
            "DECIDED verdict=" + decided.verdictId() + " late=null review=tenancy-decided-review");

    // Acme's hold for want of a verdict and beta's hold on a verdict of its own read in one batch:
    // acme's new item does not take beta's verdict (the forty-eighth session's third review).
    Scenario sameBatch = Scenario.of("tenancy-same-batch", "acme", Decision.REVIEW, NOW);
    List<IncomingEvent> both = new ArrayList<>(AuditEvents.heldWithoutVerdict(sameBatch));
    both.add(otherTenantsHold(sameBatch, null));
    writer.write(both);
    assertThat(tenancyItems("acme"))
        .containsEntry("tenancy-same-batch", "PENDING verdict= late=null review=null");
    assertThat(tenancyItems("beta")).containsEntry("tenancy-same-batch", betaPending(sameBatch));

    // Acme's final outcome closes acme's item only.
    writer.write(List.of(finalOutcome(waiting, GateOutcome.QUARANTINED, null)));
    assertThat(tenancyItems("acme"))
        .containsEntry("tenancy-wait", "QUARANTINED verdict= late=null review=null");
    assertThat(tenancyItems("beta"))
        .containsEntry(
            "tenancy-wait",
            "DECIDED verdict=verdict-beta-tenancy-wait late=null review=tenancy-wait-beta-review");
  }

  @Test
  void shouldKeepAReviewIdToOneItemWhenTwoTenantsShareARequestId() throws Exception {
    Scenario shared = Scenario.of("tenancy-reuse", "acme", Decision.REVIEW, NOW);
    writer.write(AuditEvents.story(shared));
    writer.write(List.of(otherTenantsHold(shared, null)));
    writer.write(List.of(decision(shared, "tenancy-reuse-review")));

    // Beta's decision reuses the review id of acme's (a tool's bug), under the same request id: its
    // own item is decided without the id, and the batch is not refused.
    IncomingEvent betaDecision = otherTenantsDecision(shared, "tenancy-reuse-review");
    assertThat(writer.write(List.of(betaDecision))).isEqualTo(1);
    assertThat(tenancyItems("acme"))
        .containsEntry(
            "tenancy-reuse",
            "DECIDED verdict=" + shared.verdictId() + " late=null review=tenancy-reuse-review");
    assertThat(tenancyItems("beta"))
        .containsEntry(
            "tenancy-reuse", "DECIDED verdict=verdict-beta-tenancy-reuse late=null review=null");
  }

  /** Tenant beta's item as {@link #otherTenantsHold} leaves it, waiting for a person. */
  private static String betaPending(Scenario s) {
    return "PENDING verdict=verdict-beta-" + s.requestId() + " late=null review=null";
  }

  /** Tenant beta's hold on a verdict of its own under the scenario's request id. */
  private static IncomingEvent otherTenantsHold(Scenario s, String reviewId) {
    return AuditEvents.incoming(
        Topics.REVIEW_PENDING.name(),
        AuditEvents.otherTenantsOutcome(
            s, GateOutcome.HELD_FOR_REVIEW, GateBasis.VERDICT, reviewId, NOW.plusSeconds(60)));
  }

  /** The tenant's tenancy-* items, each as "state verdict= late= review=". */
  private static Map<String, String> tenancyItems(String tenant) throws SQLException {
    Map<String, String> items = new TreeMap<>();
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "select request_id, state, verdict_id, late_verdict_id, review_id"
                    + " from review_item where request_id like 'tenancy-%' and tenant_id = ?")) {
      statement.setString(1, tenant);
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          items.put(
              rs.getString(1),
              rs.getString(2)
                  + " verdict="
                  + rs.getString(3)
                  + " late="
                  + rs.getString(4)
                  + " review="
                  + rs.getString(5));
        }
      }
    }
    return items;
  }

  private static Map<String, String> tenantsStates() throws SQLException {
    Map<String, String> states = new TreeMap<>();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select request_id, state from review_item where request_id like 'tenants-%'")) {
      while (rs.next()) {
        states.put(rs.getString(1), rs.getString(2));
      }
    }
    return states;
  }

  private static IncomingEvent finalOutcome(Scenario s, GateOutcome outcome, String reviewId) {
    return AuditEvents.incoming(
        outcome == GateOutcome.RELEASED
            ? Topics.CONTENT_RELEASED.name()
            : Topics.CONTENT_QUARANTINED.name(),
        AuditEvents.gateOutcome(s, outcome, GateBasis.REVIEW, reviewId, NOW.plusSeconds(5)));
  }

  @Test
  void shouldRecordADecisionThatReusesAnotherItemsReviewIdAndGoOn() throws Exception {
    Scenario first = Scenario.of("reused-1", "acme", Decision.REVIEW, NOW);
    Scenario second = Scenario.of("reused-2", "acme", Decision.REVIEW, NOW);
    Scenario third = Scenario.of("reused-3", "acme", Decision.REVIEW, NOW);
    Scenario fourth = Scenario.of("reused-4", "acme", Decision.REVIEW, NOW);
    for (Scenario held : List.of(first, second, third, fourth)) {
      writer.write(AuditEvents.story(held));
    }
    writer.write(List.of(decision(first, "reused-review")));

    // A tool that reuses a review id: in a batch of its own, and twice in one batch.
    assertThat(writer.write(List.of(decision(second, "reused-review")))).isEqualTo(1);
    assertThat(
            writer.write(
                List.of(decision(third, "reused-twice"), decision(fourth, "reused-twice"))))
        .isEqualTo(2);

    assertThat(
            count(
                "select count(*) from audit_log where event_type = 'ReviewDecision'"
                    + " and request_id like 'reused-%'"))
        .as("every decision is on record")
        .isEqualTo(4);
    assertThat(
            count(
                "select count(*) from review_item where request_id like 'reused-%'"
                    + " and state = 'DECIDED' and action = 'APPROVE'"))
        .as("every item is decided")
        .isEqualTo(4);
    assertThat(
            count(
                "select count(*) from review_item where (request_id = 'reused-1'"
                    + " and review_id = 'reused-review') or (request_id = 'reused-3'"
                    + " and review_id = 'reused-twice')"))
        .as("the id stays with the first decision's item")
        .isEqualTo(2);
    assertThat(
            count(
                "select count(*) from review_item where request_id in ('reused-2', 'reused-4')"
                    + " and review_id is null"))
        .isEqualTo(2);
    assertThat(writer.write(List.of(request("after-reused-1", 400)))).isEqualTo(1);
  }

  @Test
  void shouldGiveAnItemHeldForItsMissingVerdictTheVerdictThatHoldsItLater() throws Exception {
    Scenario held = Scenario.of("overdue-1", "acme", Decision.REVIEW, NOW);
    writer.write(AuditEvents.heldWithoutVerdict(held));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'overdue-1'"
                    + " and state = 'PENDING' and verdict_id = ''"))
        .isEqualTo(1);

    // The late verdict says REVIEW: the gate holds the output again, now on the verdict.
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(held)),
            AuditEvents.incoming(
                Topics.REVIEW_PENDING.name(),
                AuditEvents.gateOutcome(
                    held,
                    GateOutcome.HELD_FOR_REVIEW,
                    GateBasis.VERDICT,
                    null,
                    NOW.plusSeconds(900)))));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'overdue-1'"
                    + " and state = 'PENDING' and verdict_id = '"
                    + held.verdictId()
                    + "' and held_at = '"
                    + NOW
                    + "'"))
        .as("the verdict joined, the first hold's time kept")
        .isEqualTo(1);
    assertThat(count("select count(*) from gate_outcome where request_id = 'overdue-1'"))
        .isEqualTo(2);
  }

  @Test
  void shouldQueueBothHoldsOfOneRequestReadInOneBatchAsItemWithTheLaterHoldsVerdict()
      throws Exception {
    // The ingestor fell behind (a restart, a slow database): the gate's timeout hold and its hold
    // on the late verdict come in one poll, so in one write.
    Scenario held = Scenario.of("overdue-2", "acme", Decision.REVIEW, NOW);
    ReleaseGateOutcome timedOut = AuditEvents.heldForWantOfVerdict(held);
    ReleaseGateOutcome heldOnVerdict =
        AuditEvents.gateOutcome(
            held, GateOutcome.HELD_FOR_REVIEW, GateBasis.VERDICT, null, NOW.plusSeconds(900));

    int written =
        writer.write(
            List.of(
                AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(held)),
                AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(held)),
                AuditEvents.incoming(Topics.REVIEW_PENDING.name(), timedOut),
                AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(held)),
                AuditEvents.incoming(Topics.REVIEW_PENDING.name(), heldOnVerdict)));

    assertThat(written).isEqualTo(5);
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'overdue-2'"
                    + " and state = 'PENDING' and verdict_id = '"
                    + held.verdictId()
                    + "' and gate_event_id = '"
                    + heldOnVerdict.getEventId()
                    + "' and held_at = '"
                    + NOW
                    + "'"))
        .as("one item, with the later hold's verdict and event, the first hold's time kept")
        .isEqualTo(1);
    assertThat(count("select count(*) from gate_outcome where request_id = 'overdue-2'"))
        .isEqualTo(2);
  }

  @Test
  void shouldBuildOneChainWithConcurrentWritersEvenWhenTheyAreHandedTheSameEvents()
      throws Exception {
    // Two writers (two ingestors during a rebalance) get the same 100 events plus 100 of their own.
    List<IncomingEvent> shared = new ArrayList<>();
    List<IncomingEvent> first = new ArrayList<>();
    List<IncomingEvent> second = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      shared.add(request("clash-shared-" + i, 10_000 + i));
      first.add(request("clash-first-" + i, 20_000 + i));
      second.add(request("clash-second-" + i, 30_000 + i));
    }
    AuditWriter other = new AuditWriter(database.dataSource(), Clock.systemUTC());
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Integer> a = pool.submit(() -> writeInChunks(writer, shared, first));
      Future<Integer> b = pool.submit(() -> writeInChunks(other, shared, second));
      assertThat(a.get(2, TimeUnit.MINUTES) + b.get(2, TimeUnit.MINUTES)).isEqualTo(300);
    } finally {
      pool.shutdownNow();
    }
    assertThat(count("select count(*) from audit_log where event_id like 'event-clash-%'"))
        .isEqualTo(300);
    assertThat(count("select count(*) from generation_request where request_id like 'clash-%'"))
        .isEqualTo(300);
    ChainVerifier.Verification chain = ChainVerifier.verify(database.dataSource());
    assertThat(chain.valid()).as(chain.summary()).isTrue();
  }

  @Test
  void shouldCloseEveryReviewItemWhenHeldAndFinalOutcomesArriveThroughConcurrentWriters()
      throws Exception {
    List<IncomingEvent> heldStories = new ArrayList<>();
    List<IncomingEvent> finals = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Scenario held = Scenario.of("race-held-" + i, "acme", Decision.REVIEW, NOW);
      heldStories.addAll(AuditEvents.story(held));
      finals.add(
          AuditEvents.incoming(
              Topics.CONTENT_RELEASED.name(),
              AuditEvents.gateOutcome(
                  held, GateOutcome.RELEASED, GateBasis.REVIEW, "review-" + i, NOW)));
    }
    AuditWriter other = new AuditWriter(database.dataSource(), Clock.systemUTC());
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Integer> a = pool.submit(() -> writeInChunks(writer, heldStories, List.of()));
      Future<Integer> b = pool.submit(() -> writeInChunks(other, finals, List.of()));
      assertThat(a.get(2, TimeUnit.MINUTES) + b.get(2, TimeUnit.MINUTES)).isEqualTo(1000);
    } finally {
      pool.shutdownNow();
    }
    assertThat(count("select count(*) from review_item where request_id like 'race-held-%'"))
        .isEqualTo(200);
    assertThat(
            count(
                "select count(*) from review_item where request_id like 'race-held-%'"
                    + " and state <> 'RELEASED'"))
        .as("items left open although their final outcome is stored")
        .isZero();
  }

  private static IncomingEvent decision(Scenario held, String reviewId) {
    return approval("decision-" + held.requestId(), held, held.tenantId(), reviewId, 5);
  }

  /** Tenant beta's approval under the request id of {@code held}, 70 s after it. */
  private static IncomingEvent otherTenantsDecision(Scenario held, String reviewId) {
    return approval("decision-beta-" + held.requestId(), held, "beta", reviewId, 70);
  }

  private static IncomingEvent approval(
      String eventId, Scenario held, String tenantId, String reviewId, long afterSeconds) {
    return AuditEvents.incoming(
        Topics.REVIEW_DECISIONS.name(),
        ReviewDecision.newBuilder()
            .setEventId(eventId)
            .setReviewId(reviewId)
            .setRequestId(held.requestId())
            .setOutputId(held.outputId())
            .setTenantId(tenantId)
            .setAction(ReviewAction.APPROVE)
            .setReviewer("review-tool")
            .setNote("")
            .setDecidedAt(NOW.plusSeconds(afterSeconds))
            .build());
  }

  /** Writes {@code a} and {@code b} interleaved in chunks of 20, retrying as the ingestor does. */
  private static int writeInChunks(AuditWriter target, List<IncomingEvent> a, List<IncomingEvent> b)
      throws InterruptedException {
    int written = 0;
    for (int from = 0; from < Math.max(a.size(), b.size()); from += 20) {
      List<IncomingEvent> chunk = new ArrayList<>();
      chunk.addAll(a.subList(Math.min(from, a.size()), Math.min(from + 20, a.size())));
      chunk.addAll(b.subList(Math.min(from, b.size()), Math.min(from + 20, b.size())));
      for (int attempt = 1; ; attempt++) {
        try {
          written += target.write(chunk);
          break;
        } catch (SQLException e) {
          if (attempt == 20) {
            throw new IllegalStateException("still failing after 20 attempts", e);
          }
          Thread.sleep(10);
        }
      }
    }
    return written;
  }

  private static String string(String sql) throws SQLException {
    return string(database, sql);
  }

  private static String string(AuditDatabase database, String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      assertThat(rs.next()).as(sql).isTrue();
      return rs.getString(1);
    }
  }

  private static long count(String sql) throws SQLException {
    return TestSql.count(database.dataSource(), sql);
  }
}
