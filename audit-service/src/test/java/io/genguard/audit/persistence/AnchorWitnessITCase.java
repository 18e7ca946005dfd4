package io.genguard.audit.persistence;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The anchor witness on a real broker: every anchor line reaches the topic, a witness that was away
 * catches up, and a file cut or rewritten together with the chain fails verification.
 */
class AnchorWitnessITCase {
  private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @TempDir Path dir;

  private static Map<String, Object> kafka() {
    return IntegrationInfrastructure.get().kafkaClientProperties();
  }

  private static List<String> witnessed(String topic) {
    return AnchorWitness.read(kafka(), topic, TIMEOUT).stream()
        .map(AnchorWitness.Witnessed::text)
        .toList();
  }

  private static List<String> fileLines(Path file) throws Exception {
    return AnchorLog.read(file).lines().stream().map(AnchorLog.AnchorLine::text).toList();
  }

  @Test
  void shouldSendLinesWrittenWhileTheWitnessWasAwayOnceInOrder() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("witness_catch_up");
    Path file = dir.resolve("anchors.jsonl");
    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
      AnchorLog anchors = new AnchorLog(file, Clock.systemUTC());
      for (int i = 0; i < 3; i++) {
        writer.write(AuditEvents.story(Scenario.of("away-" + i, "acme", Decision.RELEASE, NOW)));
        anchors.publish(database.dataSource());
      }
      assertThat(fileLines(file)).hasSize(3);

      try (AnchorWitness witness =
          new AnchorWitness(kafka(), "it.witness.catchup", file, TIMEOUT)) {
        witness.ensureTopic();
        witness.ensureTopic(); // an existing one-partition topic is fine
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        witness.bindTo(registry);
        assertThat(witness.catchUp(anchors.anchoredSeq())).isEqualTo(3);
        assertThat(witness.catchUp()).as("nothing new").isZero();
        long witnessedThrough = anchors.anchoredSeq();
        writer.write(AuditEvents.story(Scenario.of("back-1", "acme", Decision.RELEASE, NOW)));
        anchors.publish(database.dataSource());
        assertThat(witness.catchUp(witnessedThrough))
            .as("told that nothing is past what it holds, it does not read the file")
            .isZero();
        assertThat(witness.catchUp(anchors.anchoredSeq())).isEqualTo(1);
        assertThat(registry.get(AnchorWitness.SEQ_METRIC).gauge().value())
            .isEqualTo(AnchorLog.read(file).lines().get(3).anchor().seq());
      }
      assertThat(witnessed("it.witness.catchup")).isEqualTo(fileLines(file));

      // A restarted service reads where the witness stands instead of sending everything again.
      writer.write(AuditEvents.story(Scenario.of("back-2", "acme", Decision.RELEASE, NOW)));
      anchors.publish(database.dataSource());
      try (AnchorWitness restarted =
          new AnchorWitness(kafka(), "it.witness.catchup", file, TIMEOUT)) {
        assertThat(restarted.catchUp()).isEqualTo(1);
      }
      assertThat(witnessed("it.witness.catchup")).isEqualTo(fileLines(file)).hasSize(5);
      AnchorWitness.WitnessCheck check =
          AnchorWitness.check(
              "it.witness.catchup",
              AnchorLog.read(file),
              AnchorWitness.read(kafka(), "it.witness.catchup", TIMEOUT));
      assertThat(check.valid()).as(check.summary()).isTrue();
      assertThat(check.matched()).isEqualTo(5);
    }
  }

  @Test
  void shouldRefuseATopicWithMoreThanOnePartitionAndSayWhenTheTopicIsMissing() throws Exception {
    try (Admin admin = Admin.create(kafka())) {
      admin.createTopics(List.of(new NewTopic("it.witness.two", 2, (short) 1))).all().get();
    }
    try (AnchorWitness witness =
        new AnchorWitness(kafka(), "it.witness.two", dir.resolve("a.jsonl"), TIMEOUT)) {
      assertThatThrownBy(witness::ensureTopic)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage(
              "The anchor witness topic it.witness.two has 2 partitions; it needs exactly one,"
                  + " since the order of its lines is part of the evidence");
    }
    assertThatThrownBy(() -> AnchorWitness.read(kafka(), "it.witness.never", Duration.ofSeconds(3)))
        .isInstanceOf(RuntimeException.class);
  }

  @Test
  void shouldFailVerificationOfAFileCutTogetherWithTheChain() throws Exception {
    Path file = dir.resolve("service-anchors.jsonl");
    String topic = "it.witness.service";
    String url;
    long firstHead;
    try (RunningAuditService audit =
        RunningAuditService.start(
            "witness_service_it",
            Clock.systemUTC(),
            config -> config.withAnchorFile(file, 1).withAnchorWitnessTopic(topic))) {
      String compliance = audit.token(Role.COMPLIANCE, null, "carl");
      audit.seed(AuditEvents.story(Scenario.of("witnessed-1", "acme", Decision.RELEASE, NOW)));
      await().atMost(Duration.ofSeconds(30)).until(() -> witnessed(topic).size() >= 1);
      firstHead = AnchorLog.read(file).lines().get(0).anchor().seq();
      audit.seed(AuditEvents.story(Scenario.of("witnessed-2", "acme", Decision.RELEASE, NOW)));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  witnessed(topic).size() >= 2
                      && witnessed(topic).equals(fileLines(file))
                      && AnchorLog.read(file).lines().get(1).anchor().seq() > firstHead);

      JsonNode intact = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(intact.path("valid").asBoolean()).as(intact.toString()).isTrue();
      assertThat(intact.path("anchorWitness").path("topic").asText()).isEqualTo(topic);
      assertThat(intact.path("anchorWitness").path("matched").asInt())
          .isEqualTo(intact.path("anchorWitness").path("witnessed").asInt())
          .isGreaterThanOrEqualTo(2);
      assertThat(intact.path("anchorWitness").path("problems")).isEmpty();

      // Someone who can write the database and the anchor file removes the second story: its
      // records from the chain and every anchor line after the first. Chain and file agree again.
      String records = "(select event_id from audit_log where seq > " + firstHead + ")";
      audit.execute("delete from review_item where gate_event_id in " + records);
      for (String table :
          List.of(
              "generation_request",
              "generation_output",
              "moderation_verdict",
              "gate_outcome",
              "api_action")) {
        audit.execute("delete from " + table + " where event_id in " + records);
      }
      audit.execute("delete from audit_log where seq > " + firstHead);
      Files.writeString(file, fileLines(file).get(0) + "\n");

      JsonNode cut = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(cut.path("valid").asBoolean()).as(cut.toString()).isFalse();
      assertThat(cut.path("summary").asText())
          .contains("the anchor file does not agree with its witness");
      assertThat(cut.path("anchorWitness").path("problems").get(0).asText())
          .endsWith("is not in the anchor file: lines were removed from it");
      assertThat(cut.path("firstBreak").path("problem").asText()).isEqualTo("ANCHOR_MISMATCH");
      url = audit.jdbcUrl();
    }
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      ChainVerifier.Verification alone =
          ChainVerifier.verify(database.dataSource(), AnchorLog.read(file).anchors());
      assertThat(alone.valid()).as("the cut file and the cut chain agree").isTrue();

      List<AnchorWitness.Witnessed> lines = AnchorWitness.read(kafka(), topic, TIMEOUT);
      AnchorWitness.WitnessCheck check = AnchorWitness.check(topic, AnchorLog.read(file), lines);
      assertThat(check.valid()).isFalse();
      assertThat(check.problems())
          .anySatisfy(
              problem ->
                  assertThat(problem)
                      .endsWith("is not in the anchor file: lines were removed from it"));
      ChainVerifier.Verification witnessedHeads =
          ChainVerifier.verify(database.dataSource(), AnchorWitness.anchors(topic, lines));
      assertThat(witnessedHeads.valid()).isFalse();
      assertThat(witnessedHeads.firstBreak().problem())
          .isEqualTo(ChainVerifier.Problem.ANCHOR_MISMATCH);
      // The cut chain plus the record of the verification that found the cut.
      assertThat(witnessedHeads.firstBreak().detail())
          .contains("chain ends at seq " + (firstHead + 1));
    }
  }
}
