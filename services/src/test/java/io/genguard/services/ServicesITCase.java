package io.genguard.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.moderation.gate.GateTimings;
import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.services.audit.AuditMain;
import io.genguard.services.gate.ReleaseGateMain;
import io.genguard.services.generator.GeneratorMain;
import io.genguard.services.runtime.ServiceProcess;
import io.genguard.services.topics.ProvisionTopicsMain;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service mains the images run, configured only through environment maps as docker compose
 * configures them, against real Kafka and PostgreSQL: topics are provisioned, a request becomes an
 * output the audit service persists, and each process serves its own metrics. No moderation job
 * runs here, so the output's verdict never comes: the release gate holds it for review once its
 * verdict timeout passes, the audit service queues it, and a verdict sent late still releases it.
 */
class ServicesITCase {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldRunEachServiceFromItsEnvironmentAgainstExternalKafkaAndPostgres(@TempDir Path data)
      throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String jdbcUrl = infra.createDatabase("services_it");
    SigningKey signing = SigningKey.generate("sign-it");
    Map<String, String> common =
        Map.of(
            "GENGUARD_KAFKA_BOOTSTRAP_SERVERS", infra.kafkaBootstrapServers(),
            "GENGUARD_DATA_DIR", data.toString(),
            "GENGUARD_METRICS_HOST", "127.0.0.1",
            "GENGUARD_METRICS_PORT", "0",
            "GENGUARD_METRICS_AUDIT_INTERVAL_MS", "500",
            "GENGUARD_METRICS_LAG_INTERVAL_MS", "500");
    ProvisionTopicsMain.provision(with(common, Map.of("GENGUARD_PARTITIONS", "2")));

    try (ServiceProcess audit =
            AuditMain.start(
                with(
                    common,
                    Map.of(
                        "GENGUARD_AUDIT_JDBC_URL", jdbcUrl,
                        "GENGUARD_AUDIT_JDBC_USER", infra.jdbcUser(),
                        "GENGUARD_AUDIT_JDBC_PASSWORD", infra.jdbcPassword(),
                        "GENGUARD_AUDIT_HTTP_PORT", "0",
                        "GENGUARD_AUDIT_ADMIN_TOKEN_FILE",
                            data.resolve("admin-token").toString())));
        ServiceProcess gate =
            ReleaseGateMain.start(with(common, Map.of(GateTimings.VERDICT_TIMEOUT_SECONDS, "2")));
        ServiceProcess generator =
            GeneratorMain.start(
                with(
                    common,
                    Map.of(
                        "GENGUARD_GENERATOR_WORKERS",
                        "1",
                        "GENGUARD_GENERATOR_INSTANCE_ID",
                        "services-it",
                        "GENGUARD_WATERMARK_KEYS",
                        WatermarkKey.generate("wm-it").toConfigEntry(),
                        "GENGUARD_SIGNING_KEYS",
                        signing.toConfigEntry())))) {
      String requestId = send(infra.kafkaBootstrapServers());

      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> outputsAudited(jdbcUrl, infra, requestId) == 1);

      assertThat(Files.exists(data.resolve("admin-token")))
          .as("first admin token written")
          .isTrue();
      assertThat(scrape(generator.metricsPort()))
          .contains(
              "genguard_generator_requests_total{code=\"ok\",outcome=\"output\",service=\"generator\"} 1.0")
          .contains("genguard_generator_workers_running{service=\"generator\"} 1.0")
          .contains("jvm_memory_used_bytes");
      assertThat(get(generator.metricsPort(), "/ready"))
          .as("the generator's readiness reads its warm-up")
          .isEqualTo("200 ready\n");
      assertThat(scrape(gate.metricsPort()))
          .contains("kafka_stream_thread_process_total")
          .contains("genguard_gate_unreadable_records_total{service=\"release-gate\"} 0.0")
          .contains("service=\"release-gate\"");
      // What the gate's store replaced (a held text, after its decision or an erasure) leaves the
      // changelog within a day, not whenever its segment is full.
      assertThat(changelogConfig(infra, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG))
          .isEqualTo(Long.toString(ReleaseGateTopology.CHANGELOG_MAX_COMPACTION_LAG.toMillis()));
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(scrape(audit.metricsPort()))
                      .contains(
                          "genguard_audit_events_total{event_type=\"GenerationOutput\",service=\"audit\"} 1.0")
                      .contains(
                          "genguard_audit_submissions_rate_limited_total{service=\"audit\"} 0.0")
                      .contains(
                          "genguard_audit_submit_rate_local_fallbacks_total{service=\"audit\"} 0.0")
                      .contains(
                          "genguard_kafka_consumer_group_lag{group=\"genguard-generator\",service=\"audit\",topic=\"gen.requests\"} 0.0"));

      // No verdict within the gate's timeout: held for review, with the basis saying why.
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !gateOutcomes(jdbcUrl, infra, requestId).isEmpty());
      assertThat(gateOutcomes(jdbcUrl, infra, requestId))
          .containsExactly("HELD_FOR_REVIEW VERDICT_TIMEOUT REVIEW verdict=");
      assertThat(reviewItem(jdbcUrl, infra, requestId)).isEqualTo("PENDING verdict=");

      // A verdict that comes late still decides the output, and the queue item closes.
      StoredOutput output = output(jdbcUrl, infra, requestId);
      sendReleaseVerdict(infra.kafkaBootstrapServers(), output);
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> gateOutcomes(jdbcUrl, infra, requestId).size() == 2);
      assertThat(gateOutcomes(jdbcUrl, infra, requestId))
          .containsExactly(
              "HELD_FOR_REVIEW VERDICT_TIMEOUT REVIEW verdict=",
              "RELEASED VERDICT RELEASE verdict=late-" + output.outputId());
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> reviewItem(jdbcUrl, infra, requestId).equals("RELEASED verdict="));

      // An output generated before the gate's memory of decisions reaches (eight days ago; it
      // remembers them for 168 h): the gate may have decided it and forgotten, so it quarantines
      // it on integrity, with no verdict, and never decides it.
      GenerationOutput old = output(Instant.now().minus(Duration.ofDays(8)));
      sendTo(infra.kafkaBootstrapServers(), Topics.GENERATION_OUTPUTS, old.getRequestId(), old);
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !gateOutcomes(jdbcUrl, infra, old.getRequestId()).isEmpty());
      assertThat(gateOutcomes(jdbcUrl, infra, old.getRequestId()))
          .containsExactly("QUARANTINED INTEGRITY REVIEW verdict=");

      // A copy of an output the gate decided (the audit service sending it again, having found
      // no outcome): never decided twice, but restated, naming the outcome it wrote, and the
      // restatement reaches the audit store.
      sendTo(infra.kafkaBootstrapServers(), Topics.GENERATION_OUTPUTS, old.getRequestId(), old);
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  rows(
                          jdbcUrl,
                          infra,
                          "select r.decision, r.outcome_basis, r.outcome_event_id = g.event_id"
                              + " from gate_restatement r join audit_log a on a.event_id ="
                              + " r.event_id join gate_outcome g on g.request_id = r.request_id"
                              + " where r.request_id = ?",
                          old.getRequestId())
                      .equals(List.of(List.of("QUARANTINED", "INTEGRITY", "t"))));
      assertThat(gateOutcomes(jdbcUrl, infra, old.getRequestId())).hasSize(1);
    }
  }

  /** An output of a request of its own, generated at {@code generatedAt}. */
  private static GenerationOutput output(Instant generatedAt) {
    String requestId = EventIds.random();
    return GenerationOutput.newBuilder()
        .setEventId(EventIds.random())
        .setOutputId(EventIds.nameBased("output", requestId))
        .setRequestId(requestId)
        .setTenantId("services-it")
        .setText("A note about the weather, read again a week late.")
        .setModel(ModelRef.newBuilder().setName("echo").setVersion("1").setBackend("echo").build())
        .setParameters(PARAMETERS)
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(6)
                .setOutputTokens(10)
                .setComputeMillis(1)
                .setDevice("cpu")
                .setEnergyJoules(0)
                .build())
        .setGeneratedAt(generatedAt)
        .build();
  }

  /** The sampling parameters of this test's requests and outputs. */
  private static final SamplingParameters PARAMETERS =
      SamplingParameters.newBuilder()
          .setMaxTokens(8)
          .setTemperature(0)
          .setTopK(0)
          .setTopP(1)
          .build();

  /** Writes one event, keyed by its request, and waits until Kafka has it. */
  private static <V extends org.apache.avro.specific.SpecificRecord> void sendTo(
      String bootstrapServers, io.genguard.schemas.Topic<String, V> topic, String key, V value) {
    TestInput.sendAll(
        bootstrapServers,
        List.of(
            new ProducerRecord<>(
                topic.name(), key.getBytes(StandardCharsets.UTF_8), topic.codec().encode(value))));
  }

  /** The output as the audit service stored it: what a verdict must match. */
  private record StoredOutput(String requestId, String outputId, String tenantId, String text) {}

  private static StoredOutput output(
      String jdbcUrl, IntegrationInfrastructure infra, String requestId) throws Exception {
    List<String> row =
        rows(
                jdbcUrl,
                infra,
                "select output_id, tenant_id, text from generation_output where request_id = ?",
                requestId)
            .get(0);
    return new StoredOutput(requestId, row.get(0), row.get(1), row.get(2));
  }

  private static void sendReleaseVerdict(String bootstrapServers, StoredOutput output) {
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder()
            .setEventId(EventIds.random())
            .setVerdictId("late-" + output.outputId())
            .setOutputId(output.outputId())
            .setRequestId(output.requestId())
            .setTenantId(output.tenantId())
            .setOutputSha256(ContentHash.sha256Hex(output.text()))
            .setDecision(Decision.RELEASE)
            .setReasons(List.of())
            .setUnsafeScore(0.01)
            .setCategoryScores(Map.of())
            .setPolicyId("services-it")
            .setPolicyVersion("1")
            .setScorerVersions(Map.of("services-it", "1"))
            .setDecidedAt(Instant.now())
            .build();
    sendTo(bootstrapServers, Topics.MODERATION_VERDICTS, verdict.getRequestId(), verdict);
  }

  /** A configuration value of the gate's changelog topic, as the broker has it. */
  private static String changelogConfig(IntegrationInfrastructure infra, String key)
      throws Exception {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    ConfigResource topic =
        new ConfigResource(ConfigResource.Type.TOPIC, ReleaseGateTopology.CHANGELOG_TOPIC);
    try (Admin admin = Admin.create(props)) {
      return admin
          .describeConfigs(List.of(topic))
          .all()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .get(key)
          .value();
    }
  }

  /**
   * Each persisted gate outcome of the request, oldest first: outcome, basis, decision, verdict.
   */
  private static List<String> gateOutcomes(
      String jdbcUrl, IntegrationInfrastructure infra, String requestId) throws Exception {
    return rows(
            jdbcUrl,
            infra,
            "select g.outcome, g.basis, g.decision, 'verdict=' || g.verdict_id from gate_outcome g"
                + " join audit_log a on a.event_id = g.event_id"
                + " where g.request_id = ? order by a.seq",
            requestId)
        .stream()
        .map(row -> String.join(" ", row))
        .toList();
  }

  /** The request's review queue item: its state and the verdict it was held on. */
  private static String reviewItem(
      String jdbcUrl, IntegrationInfrastructure infra, String requestId) throws Exception {
    List<List<String>> found =
        rows(
            jdbcUrl,
            infra,
            "select state, 'verdict=' || verdict_id from review_item where request_id = ?",
            requestId);
    return found.isEmpty() ? "none" : String.join(" ", found.get(0));
  }

  private static String send(String bootstrapServers) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId(EventIds.random())
            .setRequestId(EventIds.random())
            .setTenantId("services-it")
            .setPrompt("A short note about the weather")
            .setBackend("echo")
            .setParameters(PARAMETERS)
            .setSubmittedAt(Instant.now())
            .build();
    sendTo(bootstrapServers, Topics.GENERATION_REQUESTS, request.getRequestId(), request);
    return request.getRequestId();
  }

  private static long outputsAudited(
      String jdbcUrl, IntegrationInfrastructure infra, String requestId) throws Exception {
    return Long.parseLong(
        rows(
                jdbcUrl,
                infra,
                "select count(*) from generation_output where request_id = ?",
                requestId)
            .get(0)
            .get(0));
  }

  /** What the query finds for the request: each row's columns as text. */
  private static List<List<String>> rows(
      String jdbcUrl, IntegrationInfrastructure infra, String sql, String requestId)
      throws Exception {
    try (Connection connection =
            DriverManager.getConnection(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword());
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, requestId);
      List<List<String>> found = new ArrayList<>();
      try (ResultSet rows = statement.executeQuery()) {
        int columns = rows.getMetaData().getColumnCount();
        while (rows.next()) {
          List<String> row = new ArrayList<>();
          for (int i = 1; i <= columns; i++) {
            row.add(rows.getString(i));
          }
          found.add(row);
        }
      }
      return found;
    }
  }

  private String get(int port, String path) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  private String scrape(int port) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  private static Map<String, String> with(Map<String, String> common, Map<String, String> own) {
    Map<String, String> env = new HashMap<>(common);
    env.putAll(own);
    return env;
  }
}
