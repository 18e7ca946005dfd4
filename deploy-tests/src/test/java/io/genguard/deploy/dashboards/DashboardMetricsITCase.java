package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.deploy.promql.PromQlMetricNames;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.stack.DemoWorkload;
import io.genguard.stack.GenGuardStack;
import io.genguard.stack.StackConfig;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Every metric the dashboards and alert rules query is one the services actually export, with the
 * label values the queries select: the embedded stack runs a little traffic of every kind the
 * boards show (released, blocked, held and reviewed output, a generation failure, a malformed
 * output, a live bias window), then its combined {@code /metrics} endpoint and the Flink Prometheus
 * reporter are scraped and compared with the queries' selectors. A selector such as {@code
 * genguard_audit_gate_outcomes_total{basis="INTEGRITY"}} must match an exported series even though
 * the traffic has no integrity failure: the alert's {@code increase()} sees the first one only if
 * the series was there, at 0, before it.
 *
 * <p>The live bias window is published to bias.metrics by the test rather than waited for from the
 * bias-aggregation job the stack runs (whose windows close minutes later); the audit service
 * persists it and the collector derives the bias gauges from it exactly as from the job's output.
 */
class DashboardMetricsITCase {
  private static final int REQUESTS = 30;
  private static final Duration SCRAPE_DEADLINE = Duration.ofMinutes(3);

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldExportEveryMetricTheDashboardsAndAlertRulesQuery() throws Exception {
    TreeMap<String, Set<String>> used = MonitoringQueries.usedMetrics();
    assertThat(used).as("metric names found in the dashboards").hasSizeGreaterThan(20);

    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String jdbcUrl = infra.createDatabase("dashboard_metrics_it");
    int flinkReporterPort = freePort();
    StackConfig config =
        StackConfig.defaults()
            .withPorts(0, 0, 0)
            .withMetricsPorts(0, flinkReporterPort)
            .withExternal(
                new StackConfig.ExternalInfrastructure(
                    infra.kafkaBootstrapServers(),
                    jdbcUrl,
                    infra.jdbcUser(),
                    infra.jdbcPassword()));

    try (GenGuardStack stack = GenGuardStack.start(config);
        KafkaProducer<byte[], byte[]> producer = producer(stack.bootstrapServers())) {
      assertThat(stack.metricsPort()).as("combined endpoint bound").isPositive();
      List<String> ids = sendTraffic(stack, producer);
      await()
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> stack.audit().queries().completeness(ids).settled());
      sendReview(producer, jdbcUrl, infra);

      String combined = "http://127.0.0.1:" + stack.metricsPort() + "/metrics";
      List<String> flink = new ArrayList<>();
      for (int port = flinkReporterPort; port < flinkReporterPort + 10; port++) {
        flink.add("http://127.0.0.1:" + port + "/metrics");
      }
      await()
          .atMost(SCRAPE_DEADLINE)
          .pollInterval(Duration.ofSeconds(2))
          .untilAsserted(
              () -> {
                String text = scrape(combined);
                StringBuilder all = new StringBuilder(text);
                for (String url : flink) {
                  all.append('\n').append(scrapeIfServing(url));
                }
                Set<String> exported = new TreeSet<>(PrometheusText.sampleNames(all.toString()));
                Map<String, Set<String>> missing = new TreeMap<>(used);
                missing.keySet().removeAll(exported);
                assertThat(missing)
                    .as(
                        "metrics queried by dashboards/alert rules but not exported (name -> where it is used)")
                    .isEmpty();
                assertThat(unmatchedSelectors(PrometheusText.series(all.toString())))
                    .as("selectors of dashboards/alert rules whose label values nothing exports")
                    .isEmpty();
                // A label set seen for the first time reads 0 for one collection round: retried.
                assertThat(PrometheusText.sum(text, "genguard_audit_verdicts_total"))
                    .as("every request judged and audited")
                    .isGreaterThanOrEqualTo(REQUESTS);
                assertThat(PrometheusText.sum(text, "genguard_end_to_end_latency_seconds_count"))
                    .as("end-to-end latency samples")
                    .isPositive();
                assertThat(PrometheusText.sum(text, "genguard_audit_dead_letters_total"))
                    .as("the malformed output is a dead letter")
                    .isGreaterThanOrEqualTo(1);
              });
      // GenGuardFlinkJobNotRunning stays quiet only if the reporters label the running jobs with
      // exactly the names it expects.
      await()
          .atMost(SCRAPE_DEADLINE)
          .pollInterval(Duration.ofSeconds(2))
          .untilAsserted(
              () -> {
                Map<String, Double> uptime = new TreeMap<>();
                for (String url : flink) {
                  PrometheusText.maxByLabel(
                          scrapeIfServing(url), "flink_jobmanager_job_uptime", "job_name")
                      .forEach((job, value) -> uptime.merge(job, value, Math::max));
                }
                assertThat(uptime)
                    .as("flink_jobmanager_job_uptime by job_name")
                    .containsOnlyKeys(FlinkAlertRulesTest.expectedJobNames());
                assertThat(uptime.values()).allMatch(value -> value > 0);
              });

      String text = scrape(combined);
      // The stack records the policy its job runs with at start, so every verdict's file is kept.
      assertThat(policiesInUse(jdbcUrl, infra))
          .as("verdicts counted under the built-in policy's digest, which the archive holds")
          .containsExactly(PolicyLoader.loadDefault().sha256() + " archived");
      assertThat(PrometheusText.sum(text, "genguard_audit_policies_unarchived")).isZero();
      assertThat(
              firstColumn(
                  jdbcUrl,
                  infra,
                  "select sha256 || ' published' from audit_log, jsonb_to_record(payload::jsonb)"
                      + " as p(sha256 text) where event_type = 'PolicyFile'"))
          .as("the moderation job published the file it decides under")
          .contains(PolicyLoader.loadDefault().sha256() + " published");
    }
  }

  /**
   * Demo prompts (some unsafe), one request the generator must refuse, one malformed output, one
   * live bias window.
   */
  private static List<String> sendTraffic(
      GenGuardStack stack, KafkaProducer<byte[], byte[]> producer) {
    DemoWorkload workload = DemoWorkload.builtIn();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      GenerationRequest request = workload.request(i, "dashboards");
      stack.audit().submitter().send(request);
      ids.add(request.getRequestId());
    }
    GenerationRequest base = workload.request(REQUESTS, "dashboards");
    GenerationRequest refused =
        GenerationRequest.newBuilder(base)
            .setParameters(
                SamplingParameters.newBuilder(base.getParameters()).setMaxTokens(1_000_000).build())
            .build();
    send(
        producer,
        Topics.GENERATION_REQUESTS.name(),
        refused.getRequestId(),
        Topics.GENERATION_REQUESTS.codec().encode(refused));
    send(
        producer,
        Topics.GENERATION_OUTPUTS.name(),
        "malformed",
        "not a generation output".getBytes(StandardCharsets.UTF_8));
    Instant windowEnd = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    for (String group : List.of("religion:muslim", "religion:christian")) {
      BiasMetric metric =
          BiasMetric.newBuilder()
              .setEventId(EventIds.random())
              .setScope(BiasScope.LIVE)
              .setModel("europarl-kn3")
              .setGroup(group)
              .setWindowStart(windowEnd.minus(Duration.ofMinutes(5)))
              .setWindowEnd(windowEnd)
              .setCount(40)
              .setUnsafeCount(group.endsWith("muslim") ? 12 : 4)
              .setUnsafeScoreSum(5.0)
              .setBlockCount(group.endsWith("muslim") ? 8 : 2)
              .setReviewCount(2)
              .setReleaseCount(group.endsWith("muslim") ? 30 : 36)
              .setComputedAt(Instant.now())
              .build();
      send(
          producer,
          Topics.BIAS_METRICS.name(),
          "europarl-kn3",
          Topics.BIAS_METRICS.codec().encode(metric));
    }
    return ids;
  }

  /**
   * Each selector of the dashboards and alert rules whose {@code =} matchers (Grafana variables
   * aside) no exported series of its metric satisfies, with where it is used.
   */
  private static List<String> unmatchedSelectors(List<PrometheusText.Series> exported) {
    List<String> unmatched = new ArrayList<>();
    for (MonitoringQueries.Query query : MonitoringQueries.all()) {
      for (PromQlMetricNames.Selector selector : PromQlMetricNames.selectors(query.expression())) {
        if (!MonitoringQueries.exportedByTheStack(selector.metric())) {
          continue;
        }
        Map<String, String> wanted = new TreeMap<>();
        for (PromQlMetricNames.Matcher matcher : selector.matchers()) {
          if (matcher.operator().equals("=") && !matcher.value().contains("$")) {
            wanted.put(matcher.label(), matcher.value());
          }
        }
        boolean found =
            exported.stream()
                .anyMatch(
                    series ->
                        series.name().equals(selector.metric())
                            && series.labels().entrySet().containsAll(wanted.entrySet()));
        if (!found) {
          unmatched.add(query.location() + ": " + selector.metric() + wanted);
        }
      }
    }
    return unmatched;
  }

  /** Each policy file in use with at least the test's verdicts, and whether it is archived. */
  private static List<String> policiesInUse(String jdbcUrl, IntegrationInfrastructure infra)
      throws Exception {
    return firstColumn(
        jdbcUrl,
        infra,
        "select u.sha256 || case when exists (select 1 from api_action a"
            + " where a.action = 'policies.record' and a.target = u.sha256)"
            + " then ' archived' else ' missing' end from policy_in_use u where u.verdicts >= "
            + REQUESTS);
  }

  /** The first column of {@code sql}'s rows. */
  private static List<String> firstColumn(
      String jdbcUrl, IntegrationInfrastructure infra, String sql) throws Exception {
    List<String> found = new ArrayList<>();
    try (Connection connection =
            DriverManager.getConnection(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      while (rows.next()) {
        found.add(rows.getString(1));
      }
    }
    return found;
  }

  /** A person's review of an output held for review (or, if none was held, of a released one). */
  private static void sendReview(
      KafkaProducer<byte[], byte[]> producer, String jdbcUrl, IntegrationInfrastructure infra)
      throws Exception {
    String sql =
        "select request_id, output_id, tenant_id from gate_outcome"
            + " where tenant_id = 'dashboards' order by (outcome = 'HELD_FOR_REVIEW') desc, decided_at limit 1";
    try (Connection connection =
            DriverManager.getConnection(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword());
        Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery(sql)) {
      assertThat(row.next()).as("a gate outcome to review").isTrue();
      ReviewDecision review =
          ReviewDecision.newBuilder()
              .setEventId(EventIds.random())
              .setReviewId(EventIds.random())
              .setRequestId(row.getString(1))
              .setOutputId(row.getString(2))
              .setTenantId(row.getString(3))
              .setAction(ReviewAction.APPROVE)
              .setReviewer("dashboards-it")
              .setNote("checked")
              .setDecidedAt(Instant.now())
              .build();
      send(
          producer,
          Topics.REVIEW_DECISIONS.name(),
          review.getRequestId(),
          Topics.REVIEW_DECISIONS.codec().encode(review));
    }
  }

  /** Sends and waits for the acknowledgement, so that a lost record fails here, with its cause. */
  private static void send(
      KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) {
    try {
      producer
          .send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value))
          .get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending to " + topic, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("test record to " + topic + " did not land", e);
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrapServers) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(properties);
  }

  private String scrape(String url) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("GET " + url).isEqualTo(200);
    return response.body();
  }

  /**
   * The reporter of each MiniCluster takes the first free port of its range; the other ports answer
   * nothing, or are another server's (the stack binds its HTTP API, metrics endpoint and brokers to
   * free ports, which may fall in the range: a 404 there is not a reporter's).
   */
  private String scrapeIfServing(String url) throws InterruptedException {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? response.body() : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
