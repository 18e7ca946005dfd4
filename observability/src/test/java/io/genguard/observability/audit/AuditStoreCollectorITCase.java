package io.genguard.observability.audit;

import static io.genguard.observability.audit.AuditFixtures.POLICY_VERSION;
import static io.genguard.observability.audit.AuditFixtures.bias;
import static io.genguard.observability.audit.AuditFixtures.deadLetter;
import static io.genguard.observability.audit.AuditFixtures.gate;
import static io.genguard.observability.audit.AuditFixtures.output;
import static io.genguard.observability.audit.AuditFixtures.reason;
import static io.genguard.observability.audit.AuditFixtures.review;
import static io.genguard.observability.audit.AuditFixtures.verdict;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.UnreadRecords;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.security.Caller;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReviewAction;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.observability.registry.PrometheusRegistries;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.MovingClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The collector against real PostgreSQL with audit-service's own schema, filled by audit-service's
 * own writer: one scenario in rounds, as the pipeline would fill the store between two scrapes.
 */
class AuditStoreCollectorITCase {
  private static AuditDatabase database;
  private static AuditWriter writer;

  @BeforeAll
  static void connect() {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("observability_collector_it");
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void shouldReadTheUnfinishedFlowsTheAuditServiceRecorded() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase own =
        AuditDatabase.connect(
            infra.createDatabase("observability_unfinished_it"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2)) {
      unfinishedFlows(own);
    }
  }

  private static void unfinishedFlows(AuditDatabase database) throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    MovingClock clock = new MovingClock(now);
    AuditWriter writer = new AuditWriter(database.dataSource(), clock);
    UnfinishedFlows watch =
        new UnfinishedFlows(database.dataSource(), clock, UnfinishedFlows.Deadlines.DEFAULTS);
    PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
    AuditStoreCollector collector = new AuditStoreCollector(database.dataSource(), registry, clock);
    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.UNFINISHED_UNCHECKED_AGE, "kind", "NO_ANSWER"))
        .as("nothing to check")
        .isZero();

    // One request answered by an output the gate decided, one by a failure, one never answered,
    // and one whose output the gate never decides.
    writer.write(
        List.of(
            AuditFixtures.request("u-output", now),
            output("u-output", now, "cpu", 5),
            gate("u-output", GateOutcome.RELEASED, GateBasis.VERDICT, Decision.RELEASE, now),
            AuditFixtures.request("u-failure", now),
            AuditFixtures.failure("u-failure", now),
            AuditFixtures.request("u-lost", now),
            AuditFixtures.request("u-ungated", now),
            output("u-ungated", now, "cpu", 5)));
    clock.set(now.plus(Duration.ofMinutes(20)));
    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.REQUESTS_UNANSWERED))
        .as("the watch has not run")
        .isZero();
    assertThat(gauge(registry, AuditStoreCollector.UNFINISHED_UNCHECKED_AGE, "kind", "NO_ANSWER"))
        .as("its oldest unchecked request")
        .isEqualTo(1200.0);

    watch.check();
    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.REQUESTS_UNANSWERED)).isEqualTo(1);
    assertThat(gauge(registry, AuditStoreCollector.REQUESTS_UNANSWERED_OLDEST_AGE))
        .isEqualTo(1200.0);
    assertThat(gauge(registry, AuditStoreCollector.OUTPUTS_WITHOUT_OUTCOME))
        .as("not yet 30 minutes")
        .isZero();
    assertThat(gauge(registry, AuditStoreCollector.UNFINISHED_UNCHECKED_AGE, "kind", "NO_ANSWER"))
        .isZero();
    assertThat(
            gauge(
                registry, AuditStoreCollector.UNFINISHED_UNCHECKED_AGE, "kind", "NO_GATE_OUTCOME"))
        .isEqualTo(1200.0);

    clock.set(now.plus(Duration.ofMinutes(35)));
    watch.check();
    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.OUTPUTS_WITHOUT_OUTCOME)).isEqualTo(1);
    assertThat(gauge(registry, AuditStoreCollector.OUTPUTS_WITHOUT_OUTCOME_OLDEST_AGE))
        .isEqualTo(2100.0);
    assertThat(
            gauge(registry, AuditStoreCollector.UNFINISHED_RESENT_OPEN, "kind", "NO_GATE_OUTCOME"))
        .isZero();

    // An admin sends the output again; a quarter of an hour later it still has no outcome.
    List<Object> sent = new ArrayList<>();
    watch.resend(
        "u-ungated",
        null,
        new io.genguard.audit.security.Caller(
            "ops", "ops", io.genguard.audit.security.Role.ADMIN, null),
        records -> {
          sent.addAll(records);
          boolean[] taken = new boolean[records.size()];
          java.util.Arrays.fill(taken, true);
          return new UnfinishedFlows.Resender.Batch(taken, null);
        });
    assertThat(sent).hasSize(1);
    clock.set(now.plus(Duration.ofMinutes(50)));
    collector.collect();
    assertThat(
            gauge(registry, AuditStoreCollector.UNFINISHED_RESENT_OPEN, "kind", "NO_GATE_OUTCOME"))
        .isEqualTo(1);
    assertThat(
            gauge(registry, AuditStoreCollector.UNFINISHED_RESENT_AGE, "kind", "NO_GATE_OUTCOME"))
        .isEqualTo(900.0);
    assertThat(gauge(registry, AuditStoreCollector.UNFINISHED_RESENT_OPEN, "kind", "NO_ANSWER"))
        .isZero();
    assertThat(gauge(registry, AuditStoreCollector.UNFINISHED_RESENT_AGE, "kind", "NO_ANSWER"))
        .isZero();

    // The lost request's output comes late: the watch closes the flow, the gauges fall.
    writer.write(List.of(output("u-lost", now, "cpu", 5)));
    watch.check();
    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.REQUESTS_UNANSWERED)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.REQUESTS_UNANSWERED_OLDEST_AGE)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.OUTPUTS_WITHOUT_OUTCOME)).isEqualTo(1);
  }

  @Test
  void shouldDeriveComplianceAndLatencyMetricsFromTheAuditStore() throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    // Round 1, history before the collector starts: one blocked, one held for review a minute ago,
    // one dead letter, a live bias window.
    writer.write(
        List.of(
            output("r1", now.minusSeconds(120), "cpu", 20),
            verdict(
                "r1",
                Decision.BLOCK,
                now.minusSeconds(119),
                reason("category.block", Decision.BLOCK, "violence"),
                reason("category.review", Decision.REVIEW, "hate")),
            gate(
                "r1",
                GateOutcome.QUARANTINED,
                GateBasis.VERDICT,
                Decision.BLOCK,
                now.minusSeconds(118)),
            output("r2", now.minusSeconds(61), "gpu:0", 30),
            verdict(
                "r2",
                Decision.REVIEW,
                now.minusSeconds(60),
                reason("category.review", Decision.REVIEW, "hate")),
            gate(
                "r2",
                GateOutcome.HELD_FOR_REVIEW,
                GateBasis.VERDICT,
                Decision.REVIEW,
                now.minusSeconds(60)),
            deadLetter("d1", "gen.outputs", "moderation", now.minusSeconds(30)),
            bias("b1", "europarl-kn3", "religion:muslim", now.minusSeconds(10), 100, 30, 20, 5),
            bias("b2", "europarl-kn3", "religion:christian", now.minusSeconds(10), 100, 10, 4, 6),
            bias("b0", "europarl-kn3", "religion:muslim", now.minusSeconds(70), 100, 90, 90, 0)));
    // An erasure notice the broker has not acknowledged for 90 s, and a review decision it has.
    outbox("erasure-1", now.minusSeconds(90), null);
    outbox("review-1", now.minusSeconds(300), now.minusSeconds(299));
    PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
    AuditStoreCollector collector =
        new AuditStoreCollector(database.dataSource(), registry, Clock.systemUTC());

    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.OUTBOX_UNPUBLISHED)).isEqualTo(1);
    assertThat(gauge(registry, AuditStoreCollector.OUTBOX_OLDEST_AGE)).isBetween(89.0, 150.0);
    assertThat(gauge(registry, AuditStoreCollector.NEVER_AUDITED)).isZero();

    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICTS,
                "decision",
                "BLOCK",
                "policy_version",
                POLICY_VERSION))
        .isEqualTo(1);
    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICT_CATEGORIES,
                "decision",
                "BLOCK",
                "category",
                "violence",
                "policy_version",
                POLICY_VERSION))
        .isEqualTo(1);
    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICT_CATEGORIES,
                "decision",
                "REVIEW",
                "category",
                "hate",
                "policy_version",
                POLICY_VERSION))
        .isEqualTo(1);
    assertThat(
            registry
                .find(AuditStoreCollector.VERDICT_CATEGORIES)
                .tags("decision", "BLOCK", "category", "hate")
                .functionCounter())
        .as("a REVIEW reason of a BLOCK verdict does not count as a blocked category")
        .isNull();
    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICT_REASONS,
                "decision",
                "BLOCK",
                "code",
                "category.block"))
        .isEqualTo(1);
    assertThat(
            count(
                registry,
                AuditStoreCollector.GATE_OUTCOMES,
                "outcome",
                "QUARANTINED",
                "basis",
                "VERDICT",
                "decision",
                "BLOCK"))
        .isEqualTo(1);
    assertThat(
            count(
                registry,
                AuditStoreCollector.DEAD_LETTERS,
                "source_topic",
                "gen.outputs",
                "stage",
                "moderation"))
        .isEqualTo(1);
    assertThat(
            count(
                registry,
                AuditStoreCollector.OUTPUT_TOKENS,
                "model",
                "europarl-kn3",
                "device",
                "gpu:0"))
        .isEqualTo(30);
    assertThat(count(registry, AuditStoreCollector.EVENTS, "event_type", "ModerationVerdict"))
        .isEqualTo(2);
    assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_DEPTH)).isEqualTo(1);
    assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_OLDEST_AGE)).isBetween(59.0, 120.0);
    assertThat(gauge(registry, AuditStoreCollector.POLICIES_UNARCHIVED))
        .as("the verdicts' policy file is not in the archive")
        .isEqualTo(1);
    assertThat(registry.find(AuditStoreCollector.END_TO_END_LATENCY).timer())
        .as("history before the collector started is not a latency sample")
        .isNull();
    // Latest window only: 30/100 unsafe against 40/200 pooled.
    assertThat(
            gauge(
                registry,
                AuditStoreCollector.BIAS_GROUP_RATE,
                "group",
                "religion:muslim",
                "metric",
                "unsafe_rate"))
        .isCloseTo(0.30, within(1e-9));
    assertThat(
            gauge(
                registry,
                AuditStoreCollector.BIAS_GROUP_DISPARITY,
                "group",
                "religion:muslim",
                "metric",
                "unsafe_rate"))
        .isCloseTo(0.10, within(1e-9));
    assertThat(
            gauge(
                registry,
                AuditStoreCollector.BIAS_GROUP_DISPARITY,
                "group",
                "religion:christian",
                "metric",
                "block_rate"))
        .isCloseTo(-0.08, within(1e-9));
    assertThat(
            gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, "group", "religion:christian"))
        .isEqualTo(100);
    assertThat(registry.get(AuditStoreCollector.BIAS_LIVE_ALERTS).functionCounter().count())
        .as("no bias_audit schema in this database: zero, not an error")
        .isZero();

    // Round 2: the verdicts' policy file is recorded; r3 released 1.5 s after generation; r2
    // approved by a reviewer; r4's gate outcome is audited before its output.
    new PolicyArchive(database.dataSource(), Clock.systemUTC())
        .record(PolicyLoader.defaultText(), "the built-in policy", Caller.system("test"));
    writer.write(
        List.of(
            output("r3", now.minusMillis(1500), "cpu", 10),
            verdict(
                "r3",
                Decision.RELEASE,
                now.minusMillis(1000),
                reason("category.below_threshold", Decision.RELEASE, "self_harm")),
            gate("r3", GateOutcome.RELEASED, GateBasis.VERDICT, Decision.RELEASE, now),
            review("r2", ReviewAction.APPROVE, now),
            gate("r2", GateOutcome.RELEASED, GateBasis.REVIEW, Decision.REVIEW, now),
            gate("r4", GateOutcome.QUARANTINED, GateBasis.VERDICT, Decision.BLOCK, now)));
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("update review_outbox set published_at = now()");
    }

    // The broker deleted records of two partitions before the audit service read them.
    for (int partition = 0; partition < 2; partition++) {
      UnreadRecords.record(
          database.dataSource(),
          new UnreadRecords.Range(
              "genguard-audit",
              "gen.outputs",
              partition,
              10,
              17 + partition,
              UnreadRecords.Cause.EXPIRED),
          now);
    }

    collector.collect();
    assertThat(gauge(registry, AuditStoreCollector.OUTBOX_UNPUBLISHED)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.OUTBOX_OLDEST_AGE)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.NEVER_AUDITED)).isEqualTo(15);

    Timer released =
        registry.get(AuditStoreCollector.END_TO_END_LATENCY).tag("outcome", "RELEASED").timer();
    assertThat(released.count()).isEqualTo(2);
    assertThat(released.max(TimeUnit.MILLISECONDS)).isEqualTo(61_000, within(1.0));
    assertThat(
            registry
                .find(AuditStoreCollector.END_TO_END_LATENCY)
                .tag("outcome", "QUARANTINED")
                .timer())
        .as("r4 waits for its output")
        .isNull();
    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICT_CATEGORIES,
                "decision",
                "RELEASE",
                "category",
                "none",
                "policy_version",
                POLICY_VERSION))
        .as("a RELEASE verdict has no category, whatever its reasons mention")
        .isEqualTo(1);
    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICTS,
                "decision",
                "RELEASE",
                "policy_version",
                POLICY_VERSION))
        .isEqualTo(1);
    assertThat(count(registry, AuditStoreCollector.REVIEW_DECISIONS, "action", "APPROVE"))
        .isEqualTo(1);
    assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_DEPTH)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_OLDEST_AGE)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.POLICIES_UNARCHIVED)).isZero();

    // Round 3: r4's output arrives.
    writer.write(List.of(output("r4", now.minusMillis(250), "cpu", 10)));
    collector.collect();

    Timer quarantined =
        registry.get(AuditStoreCollector.END_TO_END_LATENCY).tag("outcome", "QUARANTINED").timer();
    assertThat(quarantined.count()).isEqualTo(1);
    assertThat(quarantined.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(250, within(1.0));
    assertThat(count(registry, AuditStoreCollector.EVENTS, "event_type", "GenerationOutput"))
        .isEqualTo(4);
    assertThat(registry.scrape())
        .contains(
            "genguard_end_to_end_latency_seconds_bucket{outcome=\"RELEASED\",service=\"audit\",le=\"2.5\"} 1")
        .contains(
            "genguard_audit_verdict_categories_total{category=\"violence\",decision=\"BLOCK\",policy_version=\""
                + POLICY_VERSION
                + "\",service=\"audit\"} 1.0")
        .contains(
            "genguard_audit_verdicts_total{decision=\"BLOCK\",policy_version=\""
                + POLICY_VERSION
                + "\",service=\"audit\"} 1.0")
        .contains("genguard_audit_review_queue_oldest_age_seconds{service=\"audit\"} 0")
        .contains(
            "genguard_bias_group_disparity{group=\"religion:christian\",metric=\"unsafe_rate\",model=\"europarl-kn3\",service=\"audit\"} -0.1");

    // The bias-aggregation job's alert table, once it exists (its own migration creates it).
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("create schema bias_audit");
      statement.execute(
          "create table bias_audit.live_alert (alert_id text primary key, model text not null)");
      statement.execute("insert into bias_audit.live_alert values ('alert-1', 'europarl-kn3')");
    }
    collector.collect();
    assertThat(registry.get(AuditStoreCollector.BIAS_LIVE_ALERTS).functionCounter().count())
        .isEqualTo(1);

    // A restarted collector starts each counter at the full total, never below what was scraped.
    MeterRegistry restarted = PrometheusRegistries.create("audit");
    new AuditStoreCollector(database.dataSource(), restarted, Clock.systemUTC()).collect();
    assertThat(count(restarted, AuditStoreCollector.EVENTS, "event_type", "GenerationOutput"))
        .isEqualTo(4);
    assertThat(
            count(
                restarted,
                AuditStoreCollector.GATE_OUTCOMES,
                "outcome",
                "RELEASED",
                "basis",
                "REVIEW",
                "decision",
                "REVIEW"))
        .isEqualTo(1);
  }

  private static double count(MeterRegistry registry, String name, String... tags) {
    return registry.get(name).tags(tags).functionCounter().count();
  }

  private static double gauge(MeterRegistry registry, String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  /** A row of the audit service's outbox to the release gate. */
  private void outbox(String id, Instant createdAt, Instant publishedAt) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement insert =
            connection.prepareStatement(
                "insert into review_outbox (review_id, request_id, payload, created_at,"
                    + " published_at, topic) values (?, 'r-outbox', ?, ?, ?, 'audit.erasures')")) {
      insert.setString(1, id);
      insert.setBytes(2, new byte[] {1});
      insert.setObject(3, OffsetDateTime.ofInstant(createdAt, ZoneOffset.UTC));
      if (publishedAt == null) {
        insert.setNull(4, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
      } else {
        insert.setObject(4, OffsetDateTime.ofInstant(publishedAt, ZoneOffset.UTC));
      }
      insert.executeUpdate();
    }
  }
}
