package io.genguard.observability.audit;

import static io.genguard.observability.audit.AuditFixtures.POLICY_VERSION;
import static io.genguard.observability.audit.AuditFixtures.bias;
import static io.genguard.observability.audit.AuditFixtures.deadLetter;
import static io.genguard.observability.audit.AuditFixtures.gate;
import static io.genguard.observability.audit.AuditFixtures.hold;
import static io.genguard.observability.audit.AuditFixtures.output;
import static io.genguard.observability.audit.AuditFixtures.reason;
import static io.genguard.observability.audit.AuditFixtures.restatement;
import static io.genguard.observability.audit.AuditFixtures.review;
import static io.genguard.observability.audit.AuditFixtures.verdict;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.UnreadRecords;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.observability.registry.PrometheusRegistries;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.MovingClock;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
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
import java.util.Map;
import java.util.TreeMap;
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

  /**
   * Two tenants under one request id: the generator derives the output id (and its event id) from
   * the request id alone, so beta's output is an event id conflict of acme's and only acme's is in
   * generation_output. Beta's gate outcome was timed from acme's output, an hour before (the
   * latency looked the output up by output id alone); it waits for beta's own output now.
   */
  @Test
  void shouldTimeAGateOutcomeFromItsOwnTenantsOutputUnderASharedRequestId() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase own =
        AuditDatabase.connect(
            infra.createDatabase("observability_shared_id_it"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2)) {
      Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      MovingClock clock = new MovingClock(now);
      AuditWriter sharedWriter = new AuditWriter(own.dataSource(), clock);
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector = new AuditStoreCollector(own.dataSource(), registry, clock);
      collector.collect();

      Instant acmeGenerated = now.minus(Duration.ofHours(1));
      IncomingEvent acmesOutput = output("shared", acmeGenerated, "cpu", 5);
      GenerationOutput betasOutput =
          GenerationOutput.newBuilder((GenerationOutput) acmesOutput.event())
              .setTenantId("beta")
              .setText("beta's own text")
              .setGeneratedAt(now.minusSeconds(2))
              .build();
      ReleaseGateOutcome betasOutcome =
          ReleaseGateOutcome.newBuilder(
                  (ReleaseGateOutcome)
                      gate(
                              "shared",
                              GateOutcome.QUARANTINED,
                              GateBasis.VERDICT,
                              Decision.BLOCK,
                              now)
                          .event())
              .setEventId("gate-event-beta-shared")
              .setTenantId("beta")
              .setVerdictId("verdict-beta-shared")
              .build();
      sharedWriter.write(
          List.of(
              acmesOutput,
              gate(
                  "shared",
                  GateOutcome.RELEASED,
                  GateBasis.VERDICT,
                  Decision.RELEASE,
                  acmeGenerated.plusSeconds(1))));
      sharedWriter.write(
          List.of(
              new IncomingEvent(Topics.GENERATION_OUTPUTS.name(), 1, 1, betasOutput),
              new IncomingEvent(Topics.CONTENT_QUARANTINED.name(), 1, 2, betasOutcome)));
      try (Connection connection = own.dataSource().getConnection();
          Statement statement = connection.createStatement();
          java.sql.ResultSet rs =
              statement.executeQuery(
                  "select count(*) from event_id_conflict where tenant_id = 'beta'")) {
        rs.next();
        assertThat(rs.getLong(1)).as("beta's output is a conflict of acme's").isEqualTo(1);
      }
      collector.collect();

      Timer released =
          registry
              .get(AuditStoreCollector.END_TO_END_LATENCY)
              .tags("outcome", "RELEASED", "basis", "VERDICT")
              .timer();
      assertThat(released.count()).isEqualTo(1);
      assertThat(released.max(TimeUnit.MILLISECONDS)).isEqualTo(1_000, within(1.0));
      Timer quarantined =
          registry
              .find(AuditStoreCollector.END_TO_END_LATENCY)
              .tags("outcome", "QUARANTINED", "basis", "VERDICT")
              .timer();
      assertThat(quarantined == null ? 0 : quarantined.count())
          .as("beta's outcome is not timed from acme's output an hour before")
          .isZero();
    }
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
    assertThat(count(registry, AuditStoreCollector.BIAS_LIVE_ALERTS))
        .as("no live bias alert audited yet")
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
        registry
            .get(AuditStoreCollector.END_TO_END_LATENCY)
            .tags("outcome", "RELEASED", "basis", "VERDICT")
            .timer();
    assertThat(released.count()).isEqualTo(1);
    assertThat(released.max(TimeUnit.MILLISECONDS)).isEqualTo(1_500, within(1.0));
    Timer reviewed =
        registry
            .get(AuditStoreCollector.END_TO_END_LATENCY)
            .tags("outcome", "RELEASED", "basis", "REVIEW")
            .timer();
    assertThat(reviewed.count())
        .as("a release after a person's review is timed apart from the pipeline's releases")
        .isEqualTo(1);
    assertThat(reviewed.max(TimeUnit.MILLISECONDS)).isEqualTo(61_000, within(1.0));
    assertThat(
            registry
                .find(AuditStoreCollector.END_TO_END_LATENCY)
                .tag("outcome", "QUARANTINED")
                .timer())
        .as("r4 waits for its output")
        .isNull();
    String[] releasedUncategorised = {
      "decision", "RELEASE", "category", "none", "policy_version", POLICY_VERSION
    };
    assertThat(count(registry, AuditStoreCollector.VERDICT_CATEGORIES, releasedUncategorised))
        .as("a label set met for the first time is exported at 0 for one round")
        .isZero();
    assertThat(
            count(
                registry,
                AuditStoreCollector.VERDICTS,
                "decision",
                "RELEASE",
                "policy_version",
                POLICY_VERSION))
        .as("each decision of a policy version seen is known, at 0 before its first verdict")
        .isEqualTo(1);
    assertThat(count(registry, AuditStoreCollector.REVIEW_DECISIONS, "action", "APPROVE"))
        .isEqualTo(1);
    assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_DEPTH)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_OLDEST_AGE)).isZero();
    assertThat(gauge(registry, AuditStoreCollector.POLICIES_UNARCHIVED)).isZero();

    // Round 3: r4's output arrives.
    writer.write(List.of(output("r4", now.minusMillis(250), "cpu", 10)));
    collector.collect();

    assertThat(count(registry, AuditStoreCollector.VERDICT_CATEGORIES, releasedUncategorised))
        .as("a RELEASE verdict has no category, whatever its reasons mention")
        .isEqualTo(1);
    Timer quarantined =
        registry
            .get(AuditStoreCollector.END_TO_END_LATENCY)
            .tags("outcome", "QUARANTINED", "basis", "VERDICT")
            .timer();
    assertThat(quarantined.count()).isEqualTo(1);
    assertThat(quarantined.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(250, within(1.0));
    assertThat(count(registry, AuditStoreCollector.EVENTS, "event_type", "GenerationOutput"))
        .isEqualTo(4);
    assertThat(registry.scrape())
        .contains(
            "genguard_end_to_end_latency_seconds_bucket{basis=\"VERDICT\",outcome=\"RELEASED\",service=\"audit\",le=\"2.5\"} 1")
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

    // The bias-aggregation job raises a live alert (bias.alerts, audited).
    writer.write(List.of(AuditFixtures.biasAlert("alert-1", "europarl-kn3", now)));
    collector.collect();
    assertThat(count(registry, AuditStoreCollector.BIAS_LIVE_ALERTS)).isEqualTo(1);

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

  @Test
  void shouldCountEachHeldRequestOnceUntilAnOutcomeOrARestatementClosesIt() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_review_queue_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector =
          new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC());
      // Held because no verdict came in time, then held again when the late verdict asked for a
      // review: two holds, one item.
      writer.write(
          List.of(
              output("timeout", now.minusSeconds(125), "cpu", 5),
              hold("timeout", "hold-no-verdict", GateBasis.VERDICT_TIMEOUT, now.minusSeconds(120)),
              verdict(
                  "timeout",
                  Decision.REVIEW,
                  now.minusSeconds(30),
                  reason("category.review", Decision.REVIEW, "hate")),
              hold("timeout", "hold-on-verdict", GateBasis.VERDICT, now.minusSeconds(30))));

      collector.collect();
      assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_DEPTH))
          .as("one request, held twice")
          .isEqualTo(1);
      assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_OLDEST_AGE))
          .as("since the first hold")
          .isBetween(119.0, 180.0);

      // The first one's release is recorded; another held output is released, but its outcome was
      // lost and only the gate's restatement reaches the store.
      writer.write(
          List.of(
              gate("timeout", GateOutcome.RELEASED, GateBasis.REVIEW, Decision.REVIEW, now),
              output("restated", now.minusSeconds(65), "cpu", 5),
              hold("restated", "hold-restated", GateBasis.VERDICT, now.minusSeconds(60)),
              restatement("restated", RestatedDecision.RELEASED, now.minusSeconds(10))));

      collector.collect();
      assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_DEPTH))
          .as("a restated release closes the item as the outcome would have")
          .isZero();
      assertThat(gauge(registry, AuditStoreCollector.REVIEW_QUEUE_OLDEST_AGE)).isZero();
    }
  }

  @Test
  void shouldShowEachSeriesAtZeroBeforeItsFirstRecord() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_first_series_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector =
          new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC());
      collector.collect();
      // Nothing happened yet; the series the alerts' increase() watches are there, at 0.
      assertThat(count(registry, GATE_OUTCOMES, INTEGRITY_QUARANTINE)).isZero();
      assertThat(
              count(
                  registry,
                  GATE_OUTCOMES,
                  "outcome",
                  "HELD_FOR_REVIEW",
                  "basis",
                  "VERDICT_TIMEOUT",
                  "decision",
                  "REVIEW"))
          .isZero();
      assertThat(
              count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "moderation"))
          .isZero();
      assertThat(count(registry, AuditStoreCollector.BIAS_LIVE_ALERTS)).isZero();

      Instant now = Instant.now();
      writer.write(
          List.of(
              output("i1", now, "cpu", 5),
              gate("i1", GateOutcome.QUARANTINED, GateBasis.INTEGRITY, Decision.RELEASE, now),
              deadLetter("d1", "gen.outputs", "moderation", now),
              deadLetter("d2", "gen.requests", "generator-gpu", now)));
      collector.collect();
      assertThat(count(registry, GATE_OUTCOMES, INTEGRITY_QUARANTINE))
          .as("the first integrity quarantine rises from 0")
          .isEqualTo(1);
      assertThat(
              count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "moderation"))
          .isEqualTo(1);
      assertThat(
              count(
                  registry, DEAD_LETTERS, "source_topic", "gen.requests", "stage", "generator-gpu"))
          .as("a stage no one knew up front: at 0 for one round")
          .isZero();
      collector.collect();
      assertThat(
              count(
                  registry, DEAD_LETTERS, "source_topic", "gen.requests", "stage", "generator-gpu"))
          .isEqualTo(1);
    }
  }

  @Test
  void shouldNeverLowerACounterWhenAnErasureIsFollowedByARestart() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_erasure_restart_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      Instant now = Instant.now();
      List<IncomingEvent> events = new ArrayList<>();
      for (String request : List.of("q1", "q2", "q3")) {
        events.add(AuditFixtures.request(request, now));
        events.add(output(request, now, "cpu", 5));
        events.add(
            verdict(
                request,
                Decision.BLOCK,
                now,
                reason("category.block", Decision.BLOCK, "violence")));
        events.add(
            gate(request, GateOutcome.QUARANTINED, GateBasis.INTEGRITY, Decision.BLOCK, now));
        events.add(review(request, ReviewAction.REJECT, now));
      }
      events.add(AuditFixtures.biasAlert("a1", "europarl-kn3", now));
      writer.write(events);
      PrometheusMeterRegistry running = PrometheusRegistries.create("audit");
      new AuditStoreCollector(own.dataSource(), running, Clock.systemUTC()).collect();
      Map<String, Double> scraped = counters(running);
      assertThat(scraped)
          .containsEntry(
              AuditStoreCollector.VERDICTS
                  + tags("decision", "BLOCK", "policy_version", POLICY_VERSION),
              3.0)
          .containsEntry(AuditStoreCollector.BIAS_LIVE_ALERTS + tags(), 1.0);

      // q1 is erased (payloads emptied, projection rows deleted); then the audit service restarts.
      new Retention(own.dataSource(), Clock.systemUTC(), 0)
          .erase("q1", "data subject request", Caller.system("test"));
      PrometheusMeterRegistry restarted = PrometheusRegistries.create("audit");
      AuditStoreCollector collector =
          new AuditStoreCollector(own.dataSource(), restarted, Clock.systemUTC());
      assertThat(counters(restarted))
          .as("nothing exported before the first round (a scrape would read 0: a reset)")
          .isEmpty();
      collector.collect();
      Map<String, Double> after = counters(restarted);
      List<String> lowered = new ArrayList<>();
      scraped.forEach(
          (series, value) -> {
            if (after.getOrDefault(series, 0.0) < value) {
              lowered.add(series + " " + value + " -> " + after.get(series));
            }
          });
      assertThat(lowered).as("counters that went down (Prometheus: a reset)").isEmpty();
      assertThat(after)
          .containsEntry(GATE_OUTCOMES + tags(INTEGRITY_QUARANTINE_BLOCK), 3.0)
          .containsEntry(AuditStoreCollector.REVIEW_DECISIONS + tags("action", "REJECT"), 3.0)
          .doesNotContainKey(
              AuditStoreCollector.VERDICTS + tags("decision", "none", "policy_version", "none"));

      // Retention empties the rest; the next records count on from the totals.
      writer.write(
          List.of(
              output("q4", now, "cpu", 5),
              gate("q4", GateOutcome.QUARANTINED, GateBasis.INTEGRITY, Decision.BLOCK, now)));
      new Retention(own.dataSource(), Clock.systemUTC(), 0)
          .erase("q2", "data subject request", Caller.system("test"));
      collector.collect();
      assertThat(counters(restarted))
          .containsEntry(GATE_OUTCOMES + tags(INTEGRITY_QUARANTINE_BLOCK), 4.0);
    }
  }

  @Test
  void shouldNotExportTheLiveBiasWindowOfARetiredModel() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_retired_bias_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      Instant now = Instant.now();
      Instant monthAgo = now.minus(Duration.ofDays(30));
      Instant lastDay =
          now.minus(AuditStoreCollector.BIAS_WINDOW_MAX_AGE).plus(Duration.ofHours(1));
      writer.write(
          List.of(
              bias("old-1", "retired-model", "religion:muslim", monthAgo, 40, 12, 10, 0),
              bias("old-2", "retired-model", "religion:christian", monthAgo, 40, 2, 1, 0),
              bias("day-1", "europarl-kn3", "religion:muslim", lastDay, 40, 12, 10, 0),
              bias("day-2", "europarl-kn3", "religion:christian", lastDay, 40, 2, 1, 0)));
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC()).collect();

      assertThat(
              registry
                  .find(AuditStoreCollector.BIAS_GROUP_DISPARITY)
                  .tag("model", "retired-model")
                  .gauges())
          .as("a window that ended a month ago")
          .isEmpty();
      assertThat(
              registry
                  .find(AuditStoreCollector.BIAS_WINDOW_AGE)
                  .tag("model", "retired-model")
                  .gauges())
          .isEmpty();
      assertThat(gauge(registry, AuditStoreCollector.BIAS_WINDOW_AGE, "model", "europarl-kn3"))
          .as("a window 23 hours old is still reported (GenGuardBiasWindowStale)")
          .isBetween(23 * 3600.0, 23 * 3600.0 + 600);
      assertThat(
              gauge(
                  registry,
                  AuditStoreCollector.BIAS_GROUP_DISPARITY,
                  "model",
                  "europarl-kn3",
                  "group",
                  "religion:muslim",
                  "metric",
                  "block_rate"))
          .isCloseTo(0.1125, within(1e-9));
    }
  }

  /**
   * The forty-second session's fix: the pool a group's disparity is measured against summed every
   * row of the window, the bias job's "*" (every verdict) and "none" among them, and a verdict
   * naming two groups in both, so most verdicts counted two or more times. It is the "*" row now,
   * and a window stored under two ids (the job's LIVE ids name the window end since that session)
   * counts once.
   */
  @Test
  void shouldPoolTheLatestLiveWindowCountingEachVerdictOnce() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_bias_pool_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      Instant end = Instant.now().minusSeconds(30).truncatedTo(ChronoUnit.MILLIS);
      // 200 verdicts, as the bias job counts them: 60 naming religion:muslim (20 unsafe), 40
      // religion:christian (4), 20 both (10), 80 no group (4); 38 unsafe in all.
      writer.write(
          List.of(
              bias("all", "openai/gpt", "*", end, 200, 38, 38, 0),
              bias("none", "openai/gpt", "none", end, 80, 4, 4, 0),
              bias("muslim", "openai/gpt", "religion:muslim", end, 80, 30, 30, 0),
              bias("christian", "openai/gpt", "religion:christian", end, 60, 14, 14, 0),
              // The same window once more under another id (the id it had before the upgrade).
              bias("muslim-old-id", "openai/gpt", "religion:muslim", end, 80, 30, 30, 0)));
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC()).collect();

      String[] muslim = {"model", "openai/gpt", "group", "religion:muslim"};
      assertThat(gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, muslim))
          .as("the window stored twice counts once")
          .isEqualTo(80);
      assertThat(
              gauge(
                  registry,
                  AuditStoreCollector.BIAS_GROUP_DISPARITY,
                  "model",
                  "openai/gpt",
                  "group",
                  "religion:muslim",
                  "metric",
                  "unsafe_rate"))
          .as("30/80 against 38/200, not against every row summed (86/420)")
          .isCloseTo(30.0 / 80 - 38.0 / 200, within(1e-9));
      assertThat(
              gauge(
                  registry,
                  AuditStoreCollector.BIAS_GROUP_DISPARITY,
                  "model",
                  "openai/gpt",
                  "group",
                  "none",
                  "metric",
                  "block_rate"))
          .isCloseTo(4.0 / 80 - 38.0 / 200, within(1e-9));
      assertThat(
              gauge(
                  registry,
                  AuditStoreCollector.BIAS_GROUP_DISPARITY,
                  "model",
                  "openai/gpt",
                  "group",
                  "*",
                  "metric",
                  "unsafe_rate"))
          .as("the whole window against itself")
          .isZero();
    }
  }

  /**
   * The forty-sixth session's review: a pair was kept for three lengths of its window as the rows
   * state it, unchecked, so a writer of bias.metrics claiming ten-year windows held the cap with
   * pairs long gone (until the audit service restarted) and every genuine new group was refused.
   * The keep time is at most BIAS_WINDOW_MAX_AGE, a day. (Since the forty-seventh session a present
   * new pair takes a missing pair's place at once when the cap is full, see
   * shouldGiveAPresentPairThePlaceOfTheOneMissingLongestAndAdmitNewPairsByTheirOutputs; here the
   * cap has room, so only the day removes the junk pairs.)
   */
  @Test
  void shouldFreeTheCapOfPairsGoneForADayWhateverLengthTheirWindowClaims() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_bias_squat_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      // Nearly BIAS_WINDOW_MAX_AGE old (the store's clock): present in the first round only.
      Instant end = Instant.now().minusSeconds(86_400 - 6).truncatedTo(ChronoUnit.MILLIS);
      List<IncomingEvent> junk = new ArrayList<>();
      for (String group : List.of("*", "g:x")) {
        junk.add(
            AuditFixtures.windowStarting(
                end.minus(Duration.ofDays(3650)),
                bias("junk-" + group, "junk", group, end, 10, 1, 1, 0)));
      }
      writer.write(junk);
      MovingClock clock = new MovingClock(Instant.now());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector = biasCapped(own, registry, clock, 4);
      collector.collect();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).gauges()).hasSize(2);
      Thread.sleep(10_000); // the junk window is now over a day old: no longer present
      Instant now = Instant.now().minusSeconds(30).truncatedTo(ChronoUnit.MILLIS);
      writer.write(
          List.of(
              bias("m-all", "m", "*", now, 100, 10, 10, 0),
              bias("m-a", "m", "g:a", now, 40, 8, 8, 0)));

      clock.advance(Duration.ofHours(23));
      collector.collect();
      assertThat(
              registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "junk").gauges())
          .as("the junk pairs, gone for less than a day, keep their gauges (NaN)")
          .hasSize(2);

      clock.advance(Duration.ofHours(1).plusMinutes(1));
      collector.collect();
      assertThat(
              registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "junk").gauges())
          .as("the junk pairs, a day after they were last seen")
          .isEmpty();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "m").gauges())
          .as("model m's groups")
          .hasSize(2);
    }
  }

  /**
   * The forty-fifth session's review: the collector registered gauges for every (model, group) its
   * latest live windows ever named and never removed them, so a writer of bias.metrics could add
   * series without end. A pair missing for three lengths of its window loses its gauges, and past
   * the cap a new pair gets none, counted and logged.
   */
  @Test
  void shouldRemoveTheGaugesOfAGroupGoneForThreeWindowsAndCapTheGroups() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_bias_groups_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      Instant end = Instant.now().minusSeconds(120).truncatedTo(ChronoUnit.MILLIS);
      // Windows of 60 s (AuditFixtures.bias), so a missing group keeps its gauges for 180 s.
      writer.write(
          List.of(
              bias("w1-all", "m", "*", end, 100, 10, 10, 0),
              bias("w1-a", "m", "g:a", end, 40, 8, 8, 0),
              bias("w1-b", "m", "g:b", end, 30, 1, 1, 0)));
      MovingClock clock = new MovingClock(Instant.now());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector = biasCapped(own, registry, clock, 4);
      collector.collect();
      assertThat(gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, "group", "g:b"))
          .isEqualTo(30);

      // The next window: g:b is not in it; g:c is new, and the cap (4) has room for it.
      Instant next = end.plusSeconds(60);
      writer.write(
          List.of(
              bias("w2-all", "m", "*", next, 100, 10, 10, 0),
              bias("w2-a", "m", "g:a", next, 40, 8, 8, 0),
              bias("w2-c", "m", "g:c", next, 20, 1, 1, 0)));
      clock.advance(Duration.ofSeconds(60));
      collector.collect();
      assertThat(gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, "group", "g:b"))
          .as("missing from the latest window: no value, still registered")
          .isNaN();
      assertThat(gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, "group", "g:c"))
          .isEqualTo(20);
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count()).isZero();

      // Until three windows after the round that last saw it g:b reads NaN; then its gauges go.
      clock.advance(Duration.ofSeconds(119));
      collector.collect();
      assertThat(gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, "group", "g:b")).isNaN();
      clock.advance(Duration.ofSeconds(2));
      collector.collect();
      for (String name :
          List.of(
              AuditStoreCollector.BIAS_GROUP_OUTPUTS,
              AuditStoreCollector.BIAS_GROUP_RATE,
              AuditStoreCollector.BIAS_GROUP_DISPARITY)) {
        assertThat(registry.find(name).tag("group", "g:b").gauges()).as(name).isEmpty();
      }
      assertThat(registry.scrape()).doesNotContain("g:b");

      // The next window names five pairs, every one of them present: past the cap (4) the new
      // pair with the fewest outputs (g:e) is refused, counted once a round.
      Instant third = next.plusSeconds(60);
      writer.write(
          List.of(
              bias("w3-all", "m", "*", third, 100, 10, 10, 0),
              bias("w3-a", "m", "g:a", third, 40, 8, 8, 0),
              bias("w3-c", "m", "g:c", third, 20, 1, 1, 0),
              bias("w3-d", "m", "g:d", third, 20, 1, 1, 0),
              bias("w3-e", "m", "g:e", third, 5, 1, 1, 0)));
      clock.advance(Duration.ofSeconds(15));
      collector.collect();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("group", "g:e").gauges())
          .as("past the cap")
          .isEmpty();
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count())
          .isEqualTo(1);
      assertThat(registry.scrape()).contains("genguard_bias_group_series_refused_total");
      clock.advance(Duration.ofSeconds(15));
      collector.collect();
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count())
          .as("refused again: once a round")
          .isEqualTo(2);
      // The rest keep their gauges and values.
      assertThat(gauge(registry, AuditStoreCollector.BIAS_GROUP_OUTPUTS, "group", "g:d"))
          .isEqualTo(20);
      assertThat(
              gauge(
                  registry,
                  AuditStoreCollector.BIAS_GROUP_DISPARITY,
                  "group",
                  "g:a",
                  "metric",
                  "unsafe_rate"))
          .isCloseTo(8.0 / 40 - 10.0 / 100, within(1e-9));
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).gauges()).hasSize(4);
      assertThat(gauge(registry, AuditStoreCollector.BIAS_WINDOW_AGE, "model", "m"))
          .isBetween(0.0, 600.0);
    }
  }

  /**
   * The forty-sixth session's reviews: with the cap full, a new pair in the latest windows was
   * refused while pairs missing from them kept their place for up to a day, and new pairs were
   * admitted whole-window rows first, then by model name, so a writer of bias.metrics naming models
   * early in the alphabet took the room of the models in use. A present pair now takes the place of
   * the pair missing longest, and new pairs are admitted by their outputs, most first.
   */
  @Test
  void shouldGiveAPresentPairThePlaceOfTheOneMissingLongestAndAdmitNewPairsByTheirOutputs()
      throws Exception {
    try (AuditDatabase own = ownDatabase("observability_bias_evict_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      // Windows of 60 s: a missing pair would keep its place for 180 s. The third round's windows
      // (end + 120 s) must be under three lengths old to count as current.
      Instant end = Instant.now().minusSeconds(200).truncatedTo(ChronoUnit.MILLIS);
      writer.write(
          List.of(
              bias("r1-aa-all", "aa", "*", end, 10, 1, 1, 0),
              bias("r1-aa-x", "aa", "g:x", end, 5, 1, 1, 0),
              bias("r1-aa-y", "aa", "g:y", end, 5, 1, 1, 0),
              bias("r1-zz-all", "zz", "*", end, 100, 10, 10, 0)));
      MovingClock clock = new MovingClock(Instant.now());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector = biasCapped(own, registry, clock, 4);
      collector.collect();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).gauges()).hasSize(4);

      // aa's next window leaves g:x out; the one after, g:y too.
      writer.write(
          List.of(
              bias("r2-aa-all", "aa", "*", end.plusSeconds(60), 10, 1, 1, 0),
              bias("r2-aa-y", "aa", "g:y", end.plusSeconds(60), 5, 1, 1, 0),
              bias("r2-zz-all", "zz", "*", end.plusSeconds(60), 100, 10, 10, 0)));
      clock.advance(Duration.ofSeconds(60));
      collector.collect();
      assertThat(outputs(registry, "aa", "g:x")).isNaN();
      writer.write(
          List.of(
              bias("r3-aa-all", "aa", "*", end.plusSeconds(120), 10, 1, 1, 0),
              bias("r3-zz-all", "zz", "*", end.plusSeconds(120), 100, 10, 10, 0),
              bias("r3-zz-a", "zz", "g:a", end.plusSeconds(120), 40, 8, 8, 0)));
      clock.advance(Duration.ofSeconds(60));
      collector.collect();
      assertThat(outputs(registry, "zz", "g:a"))
          .as("in the latest window: takes the place of a missing pair")
          .isEqualTo(40);
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("group", "g:x").gauges())
          .as("missing longest: gives its place up, its gauges go")
          .isEmpty();
      assertThat(registry.scrape()).doesNotContain("g:x");
      assertThat(outputs(registry, "aa", "g:y"))
          .as("missing since a later round: keeps its place")
          .isNaN();
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count())
          .as("nothing present refused while a missing pair had a place")
          .isZero();

      // A new model "ab" (before "zz" in the alphabet) and zz's new group g:b compete for the one
      // place g:y can give up: the pair with more outputs gets it.
      writer.write(
          List.of(
              bias("r4-aa-all", "aa", "*", end.plusSeconds(180), 10, 1, 1, 0),
              bias("r4-ab-all", "ab", "*", end.plusSeconds(180), 1, 1, 1, 0),
              bias("r4-zz-all", "zz", "*", end.plusSeconds(180), 100, 10, 10, 0),
              bias("r4-zz-a", "zz", "g:a", end.plusSeconds(180), 40, 8, 8, 0),
              bias("r4-zz-b", "zz", "g:b", end.plusSeconds(180), 30, 3, 3, 0)));
      clock.advance(Duration.ofSeconds(15));
      collector.collect();
      assertThat(outputs(registry, "zz", "g:b")).isEqualTo(30);
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "ab").gauges())
          .as("fewer outputs: refused")
          .isEmpty();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("group", "g:y").gauges())
          .isEmpty();
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count())
          .isEqualTo(1);
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).gauges()).hasSize(4);
      assertThat(registry.find(AuditStoreCollector.BIAS_WINDOW_AGE).tag("model", "ab").gauges())
          .isEmpty();
      assertThat(
              gauge(
                  registry,
                  AuditStoreCollector.BIAS_GROUP_DISPARITY,
                  "group",
                  "g:b",
                  "metric",
                  "unsafe_rate"))
          .isCloseTo(3.0 / 30 - 10.0 / 100, within(1e-9));
    }
  }

  /**
   * The forty-seventh session's review, finding 5: a model counted as present while its latest
   * window was under a day old, so after an upgrade the retired version's pairs kept their places
   * for up to a day and the new version's groups were refused (no disparity series, and
   * GenGuardBiasGroupSeriesRefused firing). A model whose latest window ended more than three of
   * its lengths ago gives its places up to current windows; its remaining pairs keep their values.
   */
  @Test
  void shouldGiveTheNewVersionThePlacesOfAVersionWhoseWindowIsThreeLengthsOld() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_bias_retired_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      // The old version's last window: 4 s long, so it is current for 12 s after its end.
      Instant oldEnd = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      Instant oldStart = oldEnd.minusSeconds(4);
      List<IncomingEvent> old =
          List.of(
              AuditFixtures.windowStarting(
                  oldStart, bias("v1-all", "v1", "*", oldEnd, 100, 6, 6, 0)),
              AuditFixtures.windowStarting(
                  oldStart, bias("v1-a", "v1", "g:a", oldEnd, 60, 6, 6, 0)),
              AuditFixtures.windowStarting(
                  oldStart, bias("v1-b", "v1", "g:b", oldEnd, 50, 5, 5, 0)));
      writer.write(old);
      MovingClock clock = new MovingClock(Instant.now());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector = biasCapped(own, registry, clock, 4);
      collector.collect();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).gauges()).hasSize(3);

      // The upgrade: v1 sends no more windows; v2's first window (60 s) comes once v1's last is
      // more than three of its lengths old, though far from a day.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Instant.now().isAfter(oldEnd.plusSeconds(13)));
      Instant newEnd = Instant.now().minusSeconds(1).truncatedTo(ChronoUnit.MILLIS);
      writer.write(
          List.of(
              bias("v2-all", "v2", "*", newEnd, 80, 8, 8, 0),
              bias("v2-a", "v2", "g:a", newEnd, 40, 4, 4, 0),
              bias("v2-b", "v2", "g:b", newEnd, 30, 3, 3, 0)));
      clock.advance(Duration.ofSeconds(15));
      collector.collect();

      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count())
          .as("the new version's groups take the old version's places")
          .isZero();
      assertThat(outputs(registry, "v2", "*")).isEqualTo(80);
      assertThat(outputs(registry, "v2", "g:a")).isEqualTo(40);
      assertThat(outputs(registry, "v2", "g:b")).isEqualTo(30);
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "v1").gauges())
          .as("the one place left over: v1's last window, still under a day old, keeps its value")
          .hasSize(1);
      assertThat(gauge(registry, AuditStoreCollector.BIAS_WINDOW_AGE, "model", "v1"))
          .isBetween(13.0, 600.0);
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).gauges()).hasSize(4);

      // Another round: v1 takes no place back from the current v2, and nothing is refused.
      clock.advance(Duration.ofSeconds(15));
      collector.collect();
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count()).isZero();
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "v2").gauges())
          .hasSize(3);
    }
  }

  /**
   * The forty-seventh session's list: a window whose rows claim no length (its start is its end)
   * was never current (three lengths of 0 s), so its pairs got only the room left over, even behind
   * a retired model's. A window that claims no length is current while it is its model's latest, up
   * to BIAS_WINDOW_MAX_AGE, as one claiming the longest length is.
   */
  @Test
  void shouldCountAWindowClaimingNoLengthAsCurrentWhileItIsItsModelsLatest() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_bias_no_length_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      // A retired model: its last 60 s window ended an hour ago, more than three lengths.
      Instant oldEnd = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
      Instant end = Instant.now().minusSeconds(5).truncatedTo(ChronoUnit.MILLIS);
      writer.write(
          List.of(
              bias("old-all", "old", "*", oldEnd, 500, 50, 50, 0),
              bias("old-a", "old", "g:a", oldEnd, 300, 30, 30, 0),
              AuditFixtures.windowStarting(end, bias("z-all", "z", "*", end, 100, 10, 10, 0)),
              AuditFixtures.windowStarting(end, bias("z-a", "z", "g:a", end, 60, 6, 6, 0))));
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector = biasCapped(own, registry, Clock.systemUTC(), 2);
      collector.collect();

      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "z").gauges())
          .as("the window without a length is current: its pairs come before the retired model's")
          .hasSize(2);
      assertThat(outputs(registry, "z", "g:a")).isEqualTo(60);
      assertThat(registry.find(AuditStoreCollector.BIAS_GROUP_OUTPUTS).tag("model", "old").gauges())
          .as("the retired model's pairs, more outputs but not current, get no room left over")
          .isEmpty();
      assertThat(registry.get(AuditStoreCollector.BIAS_GROUPS_REFUSED).counter().count()).isZero();
    }
  }

  private static double outputs(MeterRegistry registry, String model, String group) {
    return registry
        .get(AuditStoreCollector.BIAS_GROUP_OUTPUTS)
        .tag("model", model)
        .tag("group", group)
        .gauge()
        .value();
  }

  /**
   * The finding of the thirty-ninth session's review: one output with a 4,000-character device made
   * the label set longer than PostgreSQL's index takes, and every round after it failed, freezing
   * every audit-store metric (the dead-letter alert's among them) for good.
   */
  @Test
  void shouldKeepCountingAfterEventsWhoseLabelValuesAreLongOrNotInTheirVocabulary()
      throws Exception {
    try (AuditDatabase own = ownDatabase("observability_long_label_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector =
          new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC());
      Instant now = Instant.now();
      writer.write(List.of(deadLetter("l1", "gen.outputs", "moderation", now)));
      collector.collect();
      assertThat(
              count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "moderation"))
          .isEqualTo(1);

      writer.write(
          List.of(
              output("long-device", now, incompressible(4_000), 5),
              output("forged-device", now, "cpu\nFAKE LOG LINE", 7),
              deadLetter("l2", "gen.outputs", "moderation", now),
              deadLetter("l3", "gen.outputs", "s".repeat(3_000), now),
              deadLetter("l4", "x".repeat(3_000), "moderation", now)));
      collector.collect();
      collector.collect();

      assertThat(registry.get(AuditStoreCollector.COLLECTOR_ERRORS).counter().count()).isZero();
      assertThat(
              count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "moderation"))
          .as("the dead-letter counter still counts")
          .isEqualTo(2);
      assertThat(count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "other"))
          .isEqualTo(1);
      assertThat(count(registry, DEAD_LETTERS, "source_topic", "other", "stage", "moderation"))
          .isEqualTo(1);
      assertThat(
              count(
                  registry,
                  AuditStoreCollector.OUTPUT_TOKENS,
                  "model",
                  "europarl-kn3",
                  "device",
                  "other"))
          .as("both devices a label does not take, under one value")
          .isEqualTo(12);
      assertThat(counters(registry).keySet())
          .allSatisfy(series -> assertThat(series).hasSizeLessThan(400).doesNotContain("\n"));

      // Later rounds go on counting.
      writer.write(List.of(deadLetter("l5", "gen.outputs", "moderation", now)));
      collector.collect();
      assertThat(
              count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "moderation"))
          .isEqualTo(3);
    }
  }

  @Test
  void shouldLeaveOutALabelSetTheStoreRefusesAndCountTheRestOfTheRound() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_refused_label_it")) {
      // A label set PostgreSQL refuses for what it holds, as it refused an index row too large.
      try (Connection connection = own.dataSource().getConnection();
          Statement statement = connection.createStatement()) {
        statement.execute(
            "create function refuse_test_label() returns trigger language plpgsql as $$ begin"
                + " raise exception 'index row size exceeds maximum (test)'"
                + " using errcode = '54000'; end $$");
        statement.execute(
            "create trigger refuse_test_label before insert on metric_counter for each row when"
                + " (array_position(new.labels, 'refused-by-test') is not null)"
                + " execute function refuse_test_label()");
      }
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector =
          new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC());
      Instant now = Instant.now();
      collector.collect();

      writer.write(
          List.of(
              output("refused", now, "refused-by-test", 5),
              deadLetter("r1", "gen.outputs", "moderation", now)));
      collector.collect();
      collector.collect();

      assertThat(registry.get(AuditStoreCollector.COLLECTOR_ERRORS).counter().count()).isZero();
      assertThat(registry.get(AuditStoreCollector.COLLECTOR_SERIES_SKIPPED).counter().count())
          .as("the outputs' and the tokens' label set")
          .isEqualTo(2);
      assertThat(
              count(registry, DEAD_LETTERS, "source_topic", "gen.outputs", "stage", "moderation"))
          .isEqualTo(1);
      assertThat(count(registry, AuditStoreCollector.EVENTS, "event_type", "GenerationOutput"))
          .isEqualTo(1);
      assertThat(
              registry
                  .find(AuditStoreCollector.OUTPUTS)
                  .tag("device", "refused-by-test")
                  .functionCounter())
          .isNull();
    }
  }

  @Test
  void shouldFoldNewLabelSetsOfACounterPastItsCapIntoOther() throws Exception {
    try (AuditDatabase own = ownDatabase("observability_label_cap_it")) {
      AuditWriter writer = new AuditWriter(own.dataSource(), Clock.systemUTC());
      PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
      AuditStoreCollector collector =
          new AuditStoreCollector(own.dataSource(), registry, Clock.systemUTC(), 3);
      Instant now = Instant.now();
      writer.write(
          List.of(
              output("c1", now, "d1", 1), output("c2", now, "d2", 1), output("c3", now, "d3", 1)));
      collector.collect();
      writer.write(
          List.of(
              output("c4", now, "d4", 1), output("c5", now, "d5", 1), output("c6", now, "d1", 1)));
      collector.collect();
      collector.collect();

      assertThat(
              count(registry, AuditStoreCollector.OUTPUTS, "model", "europarl-kn3", "device", "d1"))
          .as("a label set stored already goes on counting")
          .isEqualTo(2);
      assertThat(count(registry, AuditStoreCollector.OUTPUTS, "model", "other", "device", "other"))
          .isEqualTo(2);
      assertThat(registry.find(AuditStoreCollector.OUTPUTS).tag("device", "d4").functionCounter())
          .isNull();
    }
  }

  /**
   * Letters and digits PostgreSQL cannot compress: a repeated character would fit in an index row
   * compressed, and hide the limit.
   */
  private static String incompressible(int length) {
    java.util.Random random = new java.util.Random(length);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      text.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return text.toString();
  }

  private static final String GATE_OUTCOMES = AuditStoreCollector.GATE_OUTCOMES;
  private static final String DEAD_LETTERS = AuditStoreCollector.DEAD_LETTERS;
  private static final String[] INTEGRITY_QUARANTINE = {
    "outcome", "QUARANTINED", "basis", "INTEGRITY", "decision", "RELEASE"
  };
  private static final String[] INTEGRITY_QUARANTINE_BLOCK = {
    "outcome", "QUARANTINED", "basis", "INTEGRITY", "decision", "BLOCK"
  };

  private static AuditDatabase ownDatabase(String name) {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    return AuditDatabase.connect(
        infra.createDatabase(name), infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  /**
   * A collector of {@code own} on {@code clock} that gives at most {@code biasSeries}
   * model-and-group pairs gauges (the other series at their usual cap).
   */
  private static AuditStoreCollector biasCapped(
      AuditDatabase own, MeterRegistry registry, Clock clock, int biasSeries) {
    return new AuditStoreCollector(
        own.dataSource(), registry, clock, AuditStoreCollector.MAX_SERIES_PER_COUNTER, biasSeries);
  }

  /** Every GenGuard counter the registry would export, by name and label set. */
  private static Map<String, Double> counters(MeterRegistry registry) {
    Map<String, Double> counters = new TreeMap<>();
    for (Meter meter : registry.getMeters()) {
      if (meter instanceof FunctionCounter counter
          && meter.getId().getName().startsWith("genguard.")) {
        List<String> keyValues = new ArrayList<>();
        for (Tag tag : meter.getId().getTagsAsIterable()) {
          if (!tag.getKey().equals(PrometheusRegistries.SERVICE_TAG)) {
            keyValues.add(tag.getKey());
            keyValues.add(tag.getValue());
          }
        }
        counters.put(
            meter.getId().getName() + tags(keyValues.toArray(String[]::new)), counter.count());
      }
    }
    return counters;
  }

  private static String tags(String... keyValues) {
    return Tags.of(keyValues).toString();
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
