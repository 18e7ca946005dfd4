package io.genguard.audit.http;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.genguard.audit.AuditConfig;
import io.genguard.audit.AuditService;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Search, request stories, the totals and a tenant's other reads (the review queue, bias reports
 * and metrics, tokens, the unfinished flows) on the whole audit service, made slow for real: a
 * connection of the test holds PostgreSQL's strongest lock on {@code moderation_verdict}, which
 * search, stories, the totals and the review queue read (and on the tables the others read), so
 * their statements wait on the database as a costly one would run. Each such statement is cancelled
 * after {@code GENGUARD_AUDIT_QUERY_TIMEOUT_MS} (503, counted), and a tenant runs at most {@code
 * GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES} reads at once (429 with Retry-After, counted) while
 * another tenant's still run; its stories, which submitters poll, and its review queue, which
 * reviewers poll, are not counted.
 */
class TenantReadLimitsITCase {
  /** The read timeout of the service whose reads time out. */
  private static final int QUICK_TIMEOUT_MS = 1_000;

  /** The reads one tenant may run at once on the service whose reads wait. */
  private static final int TENANT_SHARE = 2;

  /** Long enough that no read of the waiting service times out while the test holds the lock. */
  private static final int PATIENT_TIMEOUT_MS = 120_000;

  private static final String SEARCH = "/api/v1/outputs?limit=10";
  private static final String SUMMARY = "/api/v1/summary";
  private static final String STORY = "/api/v1/requests/acme-0";
  private static final String EXPORT = "/api/v1/outputs/export?format=json";
  private static final String QUEUE = "/api/v1/reviews";
  private static final String QUEUE_ITEM = "/api/v1/reviews/acme-0";
  private static final String BIAS_REPORTS = "/api/v1/bias/reports";
  private static final String BIAS_REPORT = "/api/v1/bias/reports/report-1";
  private static final String BIAS_METRICS = "/api/v1/bias/metrics";
  private static final String UNFINISHED = "/api/v1/audit/unfinished";
  private static final String TOKENS = "/api/v1/tokens";
  private static final String CAMPAIGNS = "/api/v1/bias/campaigns";
  private static final String CAMPAIGN = "/api/v1/bias/campaigns/campaign-1";
  private static final String EVIDENCE = "/api/v1/requests/acme-0/evidence";

  /** What the reads besides search, stories and the totals read, locked with moderation_verdict. */
  private static final List<String> OTHER_TABLES =
      List.of("bias_report", "bias_metric", "unfinished_flow", "campaign");

  /** Stories of one tenant read at once, more than its share of searches and totals. */
  private static final int STORIES = 3;

  /** The anchor file of the service whose reads time out (an evidence bundle needs one). */
  @TempDir static Path anchors;

  private static RunningAuditService quick;
  private static RunningAuditService patient;

  /** Threads of their own for the calls that wait (the common pool may have only one). */
  private static final ExecutorService CALLS = Executors.newCachedThreadPool();

  @BeforeAll
  static void start() throws Exception {
    quick =
        RunningAuditService.start(
            "tenant_reads_quick_it",
            Clock.systemUTC(),
            config ->
                config
                    .withQueryLimits(QUICK_TIMEOUT_MS, TENANT_SHARE)
                    .withAnchorFile(anchors.resolve("anchors.jsonl"), 3600)
                    .withAnchorSigningKeyFile(anchors.resolve("anchor-keys")));
    patient =
        RunningAuditService.start(
            "tenant_reads_patient_it",
            Clock.systemUTC(),
            // Connections enough for every read the test has wait on the lock at once.
            config ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.POOL_SIZE, "10"),
                    config.withQueryLimits(PATIENT_TIMEOUT_MS, TENANT_SHARE)));
    for (RunningAuditService audit : List.of(quick, patient)) {
      List<IncomingEvent> events = new ArrayList<>();
      Instant at = Instant.parse("2026-01-01T00:00:00Z");
      for (int n = 0; n < 3; n++) {
        for (String tenant : List.of("acme", "globex")) {
          events.addAll(
              AuditEvents.story(
                  AuditEvents.Scenario.of(
                      tenant + "-" + n, tenant, Decision.RELEASE, at.plusSeconds(n))));
        }
      }
      audit.seed(events);
    }
  }

  @AfterAll
  static void stop() {
    CALLS.shutdownNow();
    if (quick != null) {
      quick.close();
    }
    if (patient != null) {
      patient.close();
    }
  }

  @Test
  void shouldStopASearchAStoryTheTotalsAndAnExportAtTheReadTimeoutWithA503() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    quick.service().bindMetrics(metrics);
    String acme = quick.token(Role.COMPLIANCE, "acme", "carl");
    String global = quick.token(Role.COMPLIANCE, null, "cora");
    String reviewer = quick.token(Role.REVIEWER, "acme", "rita");
    double timedOutBefore = timedOut(metrics);
    for (String[] call :
        new String[][] {
          {SEARCH, acme},
          {STORY, acme},
          {SUMMARY, acme},
          {SUMMARY, global},
          {EXPORT, acme},
          // The other reads of a tenant (the review queue and its items, bias reports, the
          // unfinished flows) and the global bias metrics: the same timeout.
          {QUEUE, reviewer},
          {QUEUE_ITEM, reviewer},
          {BIAS_REPORTS, acme},
          {BIAS_REPORT, acme},
          {BIAS_METRICS, global},
          {UNFINISHED, acme},
          // The bias campaigns and one campaign (which need not exist to be looked for).
          {CAMPAIGNS, acme},
          {CAMPAIGN, acme}
        }) {
      HttpResponse<String> answer =
          timedOutWhileLocked(withVerdicts(OTHER_TABLES), call[0], quick.request(call[0], call[1]));
      assertThat(json(answer).path("error").asText()).as(call[0]).contains("narrow it");
    }
    assertThat(timedOut(metrics)).isEqualTo(timedOutBefore + 13);
    // The timeout stayed in the cancelled reads' transactions: the pool's connections keep the
    // database's own (none), and with the lock gone the same reads are answered, each tenant's
    // slots given back by the reads that timed out.
    assertThat(
            quick.count(
                "select count(*) from pg_settings where name = 'statement_timeout'"
                    + " and setting <> '0'"))
        .isZero();
    for (int i = 0; i < 3; i++) {
      assertThat(quick.get(SEARCH, acme).statusCode()).isEqualTo(200);
    }
    HttpResponse<String> story = quick.get(STORY, acme);
    assertThat(story.statusCode()).as(story.body()).isEqualTo(200);
    assertThat(json(quick.get(SUMMARY, acme)).path("requests").asLong()).isEqualTo(3);
    assertThat(json(quick.get(SUMMARY, global)).path("requests").asLong()).isEqualTo(6);
    assertThat(json(quick.get(EXPORT, acme)).path("count").asLong()).isEqualTo(3);
    for (String[] call :
        new String[][] {
          {QUEUE, reviewer},
          {BIAS_REPORTS, acme},
          {BIAS_METRICS, global},
          {UNFINISHED, acme},
          {CAMPAIGNS, acme}
        }) {
      HttpResponse<String> answer = quick.get(call[0], call[1]);
      assertThat(answer.statusCode()).as(call[0] + ": " + answer.body()).isEqualTo(200);
    }
  }

  /**
   * An evidence bundle's reads: the look-up of the request before its issue is recorded (it reads
   * audit_log, locked here), and the bundle's own records after it (they read
   * unfinished_flow_resend, which nothing before them reads, locked here). Each is cancelled at the
   * read timeout (503, counted), and the one-at-a-time slot of bundles is free again after.
   */
  @Test
  void shouldStopAnEvidenceBundlesReadsAtTheReadTimeoutWithA503() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    quick.service().bindMetrics(metrics);
    String acme = quick.token(Role.COMPLIANCE, "acme", "cleo");
    double timedOutBefore = timedOut(metrics);
    for (String table : List.of("unfinished_flow_resend", "audit_log")) {
      long issuesBefore =
          quick.count("select count(*) from api_action where action = 'requests.evidence'");
      timedOutWhileLocked(List.of(table), table, quick.request(EVIDENCE, acme));
      // The look-up comes before the issue is recorded; the bundle's records after.
      assertThat(quick.count("select count(*) from api_action where action = 'requests.evidence'"))
          .as(table)
          .isEqualTo(issuesBefore + (table.equals("audit_log") ? 0 : 1));
    }
    assertThat(timedOut(metrics)).isEqualTo(timedOutBefore + 2);
    // The lock gone, the bundle is made: the one-at-a-time slot was given back.
    HttpResponse<String> bundle = quick.get(EVIDENCE, acme);
    assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);
    assertThat(json(bundle).path("requestId").asText()).isEqualTo("acme-0");
  }

  /**
   * The token check of every call reads {@code api_token} under the read timeout too: with that
   * table locked, a call with a valid token and one with an unknown token each get 503 after the
   * timeout, counted, and neither 401 (which would make a client drop a valid token) nor the
   * route's answer (the check fails closed). The token list's own read has the timeout as well
   * (shown on the service's {@code ApiTokens}: over HTTP its call's token check, which reads the
   * same table, times out first). With the lock gone the valid token is accepted and the unknown
   * one refused.
   */
  @Test
  void shouldAnswerA503NotA401WhenTheTokenCheckTimesOut() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    quick.service().bindMetrics(metrics);
    String acme = quick.token(Role.COMPLIANCE, "acme", "tess");
    String unknown = "ggt_0123456789ab_" + "a".repeat(43);
    double timedOutBefore = timedOut(metrics);
    for (String token : List.of(acme, unknown)) {
      HttpResponse<String> answer =
          timedOutWhileLocked(
              List.of("api_token"), "/api/v1/me", quick.request("/api/v1/me", token));
      assertThat(answer.headers().firstValue("WWW-Authenticate")).isEmpty();
      assertThat(answer.headers().firstValue("Retry-After")).hasValue("5");
      assertThat(json(answer).path("error").asText())
          .contains("Checking the API token took longer than the 1000 ms")
          .contains("neither accepted nor rejected")
          .doesNotContain("narrow it");
      assertThat(json(answer).has("tokenId")).isFalse();
    }
    try (Connection lock = lockOnly(quick, List.of("api_token"))) {
      long started = System.nanoTime();
      assertThatThrownBy(
              () ->
                  quick
                      .service()
                      .tokens()
                      .list(new Caller("admin01", "ada", Role.ADMIN, null), null, 10))
          .isInstanceOf(QueryTimedOutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(Duration.ofMillis(QUICK_TIMEOUT_MS))
          .isLessThan(Duration.ofSeconds(20));
    }
    assertThat(timedOut(metrics)).isEqualTo(timedOutBefore + 2);
    HttpResponse<String> me = quick.get("/api/v1/me", acme);
    assertThat(me.statusCode()).as(me.body()).isEqualTo(200);
    assertThat(json(me).path("name").asText()).isEqualTo("tess");
    assertThat(quick.get("/api/v1/me", unknown).statusCode()).isEqualTo(401);
  }

  /**
   * A submission that names a bias campaign reads {@code campaign} under the read timeout: with
   * that table locked, the request (with and without an Idempotency-Key) gets 503 after the
   * timeout, counted, and nothing is submitted; with the lock gone a retry with the key is checked
   * again, not answered 409 (its key was given back as unsent).
   */
  @Test
  void shouldAnswerA503WhenASubmissionsCampaignCheckTimesOut() throws Exception {
    quick
        .service()
        .campaigns()
        .create(
            new Campaigns.NewCampaign(
                "timed-campaign",
                "timed",
                "Timed",
                "RUNNING",
                JsonNodeFactory.instance.objectNode()),
            Caller.system("test"));
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    quick.service().bindMetrics(metrics);
    String submitter = quick.token(Role.SUBMITTER, "timed", "sam");
    String body = "{\"prompt\":\"hi\",\"attributes\":{\"campaign.id\":\"timed-campaign\"}}";
    String submitted = "select count(*) from api_action where action = 'request.submit'";
    long submittedBefore = quick.count(submitted);
    double timedOutBefore = timedOut(metrics);
    for (String key : new String[] {null, "timed-campaign-check"}) {
      HttpRequest.Builder request =
          quick
              .request("/api/v1/requests", submitter)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body));
      if (key != null) {
        request.header("Idempotency-Key", key);
      }
      HttpResponse<String> answer = timedOutWhileLocked(List.of("campaign"), key, request);
      assertThat(answer.headers().firstValue("Retry-After")).as(key).hasValue("5");
      assertThat(json(answer).path("error").asText())
          .contains("Checking the request's bias campaign took longer than the 1000 ms")
          .contains("nothing was submitted");
    }
    assertThat(timedOut(metrics)).isEqualTo(timedOutBefore + 2);
    assertThat(quick.count(submitted)).isEqualTo(submittedBefore);
    // With the lock gone the key was given back as unsent: a retry with it is checked again (the
    // campaign, closed meanwhile, refuses it: nothing reaches Kafka, whose gen.requests every
    // service of this class audits), not told that another call is submitting it (409).
    quick
        .service()
        .campaigns()
        .updateStatus("timed-campaign", "COMPLETED", null, Caller.system("test"));
    HttpResponse<String> again =
        quick.send(
            quick
                .request("/api/v1/requests", submitter)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "timed-campaign-check")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(400);
    assertThat(json(again).path("error").asText()).contains("is COMPLETED");
    assertThat(quick.count(submitted)).isEqualTo(submittedBefore);
  }

  /**
   * A token check that fails for another reason than the read timeout (here its connection is ended
   * by the database while it waits on a locked {@code api_token}, as in a failover; a pool with no
   * connection to give fails the same way) is the service unavailable: 503 with Retry-After, never
   * 401 (the token was not found invalid) nor 500, and the route does not run. With the lock gone
   * the token is accepted.
   */
  @Test
  void shouldAnswerA503NotA500WhenTheTokenCheckFailsOnTheDatabase() throws Exception {
    String acme = patient.token(Role.COMPLIANCE, "acme", "tara");
    HttpResponse<String> failed;
    try (Connection lock = lockOnly(patient, List.of("api_token"))) {
      CompletableFuture<HttpResponse<String>> answer = inBackground("/api/v1/me", acme);
      awaitWaitingOnTheLock(lock, 1);
      terminateTheSessionWaitingOnTheLock(lock);
      failed = answer.get(30, TimeUnit.SECONDS);
    }
    assertThat(failed.statusCode()).as(failed.body()).isEqualTo(503);
    assertThat(failed.headers().firstValue("Retry-After")).hasValue("5");
    assertThat(failed.headers().firstValue("WWW-Authenticate")).isEmpty();
    assertThat(json(failed).path("error").asText())
        .contains("The API token could not be checked: the database is unavailable")
        .contains("neither accepted nor rejected and nothing was done");
    assertThat(json(failed).has("tokenId")).isFalse();
    assertThat(failed.body()).doesNotContain("SQL", "Exception", "terminat");
    HttpResponse<String> me = patient.get("/api/v1/me", acme);
    assertThat(me.statusCode()).as(me.body()).isEqualTo(200);
    assertThat(json(me).path("name").asText()).isEqualTo("tara");
  }

  /**
   * A campaign check that fails for another reason than the read timeout (here its connection is
   * ended by the database while it waits on a locked {@code campaign}, as in a failover; a pool
   * with no connection to give fails the same way) is answered 503 with Retry-After, not 500, and
   * sent nothing either: the key is given back as unsent, so that a retry with it is checked again
   * at once rather than told for 35 s that another call is submitting it (409).
   */
  @Test
  void shouldGiveTheKeyBackWhenASubmissionsCampaignCheckFailsOtherwise() throws Exception {
    patient
        .service()
        .campaigns()
        .create(
            new Campaigns.NewCampaign(
                "dropped-campaign",
                "dropped",
                "Dropped",
                "RUNNING",
                JsonNodeFactory.instance.objectNode()),
            Caller.system("test"));
    String submitter = patient.token(Role.SUBMITTER, "dropped", "dora");
    String body = "{\"prompt\":\"hi\",\"attributes\":{\"campaign.id\":\"dropped-campaign\"}}";
    String submitted = "select count(*) from api_action where action = 'request.submit'";
    String keys = "select count(*) from submit_idempotency_key where idempotency_key = 'dropped-1'";
    long submittedBefore = patient.count(submitted);
    CompletableFuture<HttpResponse<String>> answer;
    try (Connection lock = lockOnly(patient, List.of("campaign"))) {
      answer =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return patient.send(
                      patient
                          .request("/api/v1/requests", submitter)
                          .timeout(Duration.ofSeconds(60))
                          .header("Content-Type", "application/json")
                          .header("Idempotency-Key", "dropped-1")
                          .POST(HttpRequest.BodyPublishers.ofString(body)));
                } catch (Exception e) {
                  throw new CompletionException(e);
                }
              },
              CALLS);
      awaitWaitingOnTheLock(lock, 1);
      assertThat(patient.count(keys)).isEqualTo(1);
      terminateTheSessionWaitingOnTheLock(lock);
      HttpResponse<String> failed = answer.get(30, TimeUnit.SECONDS);
      assertThat(failed.statusCode()).as(failed.body()).isEqualTo(503);
      assertThat(failed.headers().firstValue("Retry-After")).hasValue("5");
      assertThat(json(failed).path("error").asText())
          .contains("The request's bias campaign could not be checked: the database is unavailable")
          .contains("nothing was submitted");
      assertThat(failed.body()).doesNotContain("SQL", "Exception", "terminat");
    }
    // A retry with the key is checked again (the campaign, closed meanwhile, refuses it: nothing
    // reaches Kafka), not answered 409.
    patient
        .service()
        .campaigns()
        .updateStatus("dropped-campaign", "COMPLETED", null, Caller.system("test"));
    HttpResponse<String> again =
        patient.send(
            patient
                .request("/api/v1/requests", submitter)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "dropped-1")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(400);
    assertThat(json(again).path("error").asText()).contains("is COMPLETED");
    assertThat(patient.count(keys)).isZero();
    assertThat(patient.count(submitted)).isEqualTo(submittedBefore);
  }

  private static double timedOut(SimpleMeterRegistry metrics) {
    return metrics.get(AuditService.QUERIES_TIMED_OUT_METRIC).functionCounter().count();
  }

  @Test
  void shouldRefuseATenantsSearchesBeyondItsShareWith429ButNotItsStoriesOrAnotherTenants()
      throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    patient.service().bindMetrics(metrics);
    String acme = patient.token(Role.COMPLIANCE, "acme", "carl");
    String globex = patient.token(Role.COMPLIANCE, "globex", "gina");
    String acmeAdmin = patient.token(Role.ADMIN, "acme", "ann");
    String acmeReviewer = patient.token(Role.REVIEWER, "acme", "rick");
    List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
    List<CompletableFuture<HttpResponse<String>>> stories = new ArrayList<>();
    try (Connection lock = lockVerdicts(patient)) {
      // acme's share of reads, each waiting on the database.
      waiting.add(inBackground(SEARCH, acme));
      waiting.add(inBackground(SUMMARY, acme));
      awaitWaitingOnTheLock(lock, TENANT_SHARE);

      // Any further read of acme's that a caller starts at will (a search, the totals, bias
      // reports, its unfinished flows) is refused at once, without a connection: they share the
      // one limit. (None of them would wait on the lock: bias reports and flows are not locked.)
      for (String[] call :
          new String[][] {
            {SEARCH, acme},
            {SUMMARY, acme},
            {BIAS_REPORTS, acme},
            {BIAS_REPORT, acme},
            {UNFINISHED, acme},
            {CAMPAIGNS, acme},
            {CAMPAIGN, acme}
          }) {
        HttpResponse<String> refused =
            patient.send(patient.request(call[0], call[1]).timeout(Duration.ofSeconds(10)));
        assertThat(refused.statusCode()).as(call[0] + ": " + refused.body()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(json(refused).path("error").asText())
            .contains("Tenant 'acme' already runs 2 reads at once")
            .contains("GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES");
      }
      assertThat(
              metrics.get(AuditService.QUERIES_REFUSED_FOR_TENANT_METRIC).functionCounter().count())
          .isEqualTo(7.0);
      // But not acme's token list: its admin needs it to revoke a leaked token while that tenant's
      // tokens keep its slots busy.
      HttpResponse<String> tokens =
          patient.send(patient.request(TOKENS, acmeAdmin).timeout(Duration.ofSeconds(10)));
      assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
      assertThat(json(tokens).path("items")).isNotEmpty();
      // Another tenant's and the global tokens' reads of the same kinds are answered.
      assertThat(patient.get(BIAS_REPORTS, globex).statusCode()).isEqualTo(200);
      assertThat(patient.get(UNFINISHED, globex).statusCode()).isEqualTo(200);
      assertThat(patient.get(CAMPAIGNS, globex).statusCode()).isEqualTo(200);
      assertThat(
              patient.get(BIAS_METRICS, patient.token(Role.COMPLIANCE, null, "gus")).statusCode())
          .isEqualTo(200);

      // acme's stories are not counted (its submitters poll them after each submission): three
      // at once reach the database while its searches take its share (and wait on the lock too).
      for (int i = 0; i < STORIES; i++) {
        stories.add(inBackground(STORY, acme));
      }
      awaitWaitingOnTheLock(lock, TENANT_SHARE + STORIES);

      // Another tenant's read is not refused: it reaches the database (and waits on the lock too).
      waiting.add(inBackground(SEARCH, globex));
      awaitWaitingOnTheLock(lock, TENANT_SHARE + STORIES + 1);

      // Nor is acme's review queue, which its reviewers poll as they work: it reaches the database
      // (it reads verdicts, and waits on the lock too).
      stories.add(inBackground(QUEUE, acmeReviewer));
      awaitWaitingOnTheLock(lock, TENANT_SHARE + STORIES + 2);
      assertThat(waiting).noneMatch(CompletableFuture::isDone);
      assertThat(stories).noneMatch(CompletableFuture::isDone);
    }
    for (CompletableFuture<HttpResponse<String>> answer : stories.subList(0, STORIES)) {
      HttpResponse<String> story = answer.get();
      assertThat(story.statusCode()).as(story.body()).isEqualTo(200);
      assertThat(json(story).path("requestId").asText()).isEqualTo("acme-0");
    }
    HttpResponse<String> queue = stories.get(STORIES).get();
    assertThat(queue.statusCode()).as(queue.body()).isEqualTo(200);
    // The lock gone, every read that waited is answered, and acme's slots are free again.
    for (CompletableFuture<HttpResponse<String>> answer : waiting) {
      HttpResponse<String> response = answer.get();
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }
    assertThat(json(waiting.get(1).get()).path("requests").asLong()).isEqualTo(3);
    assertThat(json(waiting.get(2).get()).path("items")).hasSize(3);
    for (String path : List.of(SEARCH, STORY, SUMMARY, BIAS_REPORTS, UNFINISHED, CAMPAIGNS)) {
      assertThat(patient.get(path, acme).statusCode()).as(path).isEqualTo(200);
    }
    assertThat(patient.get(TOKENS, acmeAdmin).statusCode()).isEqualTo(200);
    assertThat(metrics.get(AuditService.QUERIES_TIMED_OUT_METRIC).functionCounter().count())
        .isZero();
  }

  /**
   * A bias report's body is written while its client reads it, in a slot of its own: two downloads
   * of acme's whose clients do not read take acme's share of downloads (a third is refused), not
   * its reads, so its searches, totals and reports list are still answered. And a piece of a body
   * whose read times out after the head went out with 200 cuts the connection (no terminating
   * chunk), counted once. The body is made larger than what the socket buffers hold, so that the
   * service still writes it while the client does not read.
   */
  @Test
  void shouldWriteABiasReportsBodyOutsideItsTenantsReadSlotsAndCutItWhenAPieceTimesOut()
      throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start(
            "report_bodies_it",
            Clock.systemUTC(),
            config -> config.withQueryLimits(QUICK_TIMEOUT_MS, TENANT_SHARE))) {
      // 16 Mi characters of HTML: 16 pieces.
      String page = "<html>" + "x".repeat(16 << 20) + "</html>";
      audit
          .service()
          .biasReports()
          .save(
              new BiasReports.NewReport(
                  "big-report",
                  null,
                  "acme",
                  "Large report",
                  "CAMPAIGN",
                  null,
                  null,
                  null,
                  null,
                  new ObjectMapper().createObjectNode(),
                  "",
                  page),
              new Caller("admin01", "ada", Role.ADMIN, null));
      page = null;
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      audit.service().bindMetrics(metrics);
      String acme = audit.token(Role.COMPLIANCE, "acme", "carl");
      String html = "/api/v1/bias/reports/big-report?format=html";
      HttpClient client = HttpClient.newHttpClient();
      List<InputStream> unread = new ArrayList<>();
      try {
        for (int i = 0; i < TENANT_SHARE; i++) {
          HttpResponse<InputStream> answer =
              client.send(
                  audit.request(html, acme).timeout(Duration.ofSeconds(60)).build(),
                  HttpResponse.BodyHandlers.ofInputStream());
          assertThat(answer.statusCode()).isEqualTo(200);
          unread.add(answer.body());
        }
        HttpResponse<String> third =
            audit.send(audit.request(html, acme).timeout(Duration.ofSeconds(10)));
        assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
        assertThat(third.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(json(third).path("error").asText())
            .contains("Tenant 'acme' already downloads 2 bias reports at once");
        for (String path : List.of(SEARCH, SUMMARY, BIAS_REPORTS)) {
          HttpResponse<String> answer =
              audit.send(audit.request(path, acme).timeout(Duration.ofSeconds(10)));
          assertThat(answer.statusCode()).as(path + ": " + answer.body()).isEqualTo(200);
        }
      } finally {
        for (InputStream body : unread) {
          body.close();
        }
      }

      // The clients gone, their slots come back; a download whose next piece's read times out
      // once the head went out is cut.
      double timedOutBefore = timedOut(metrics);
      List<HttpResponse<InputStream>> started = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                HttpResponse<InputStream> response =
                    client.send(
                        audit.request(html, acme).timeout(Duration.ofSeconds(60)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                  response.body().close();
                  return false;
                }
                started.add(response);
                return true;
              });
      HttpResponse<InputStream> answer = started.get(0);
      try (InputStream body = answer.body();
          Connection lock = lock(audit, List.of("bias_report_piece"))) {
        assertThatThrownBy(body::readAllBytes).isInstanceOf(IOException.class);
      }
      assertThat(timedOut(metrics)).isEqualTo(timedOutBefore + 1);
    }
  }

  /**
   * An export whose second page times out after the first went out with 200 cannot be answered 503:
   * its connection is cut without the terminating chunk, so that the client's read fails instead of
   * ending a CSV that lacks rows. The first page is made larger than what the socket buffers hold,
   * so that the service still writes it while the client does not read: the test takes the lock
   * then, and the second page waits on it.
   */
  @Test
  void shouldCutTheConnectionOfAnExportWhosePageAfterTheFirstTimesOut() throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start(
            "export_cut_it",
            Clock.systemUTC(),
            config -> config.withQueryLimits(QUICK_TIMEOUT_MS, TENANT_SHARE))) {
      List<IncomingEvent> events = new ArrayList<>();
      Instant at = Instant.parse("2026-01-01T00:00:00Z");
      String filler = "x".repeat(80_000);
      // A full first page (the export reads 200 rows a page), of some 16 MB.
      for (int n = 0; n < 200; n++) {
        events.addAll(
            AuditEvents.story(
                AuditEvents.Scenario.of("bulk-" + n, "bulk", Decision.RELEASE, at.plusSeconds(n))
                    .withText("Generated text " + n + " " + filler)));
      }
      audit.seed(events);
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      audit.service().bindMetrics(metrics);
      String bulk = audit.token(Role.COMPLIANCE, "bulk", "bea");
      String csv = "/api/v1/outputs/export?format=csv";
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<InputStream> answer =
          client.send(
              audit.request(csv, bulk).timeout(Duration.ofSeconds(60)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      // The head went out with the first page's first rows; the service now writes the rest of
      // the page as the client reads it.
      assertThat(answer.statusCode()).isEqualTo(200);
      try (InputStream body = answer.body();
          Connection lock = lockVerdicts(audit)) {
        assertThatThrownBy(body::readAllBytes).isInstanceOf(IOException.class);
      }
      assertThat(metrics.get(AuditService.EXPORTS_CUT_SHORT_METRIC).functionCounter().count())
          .isEqualTo(1.0);
      assertThat(metrics.get(AuditService.QUERIES_TIMED_OUT_METRIC).functionCounter().count())
          .isEqualTo(1.0);
      // The lock gone, the same export is whole: its header and the 200 rows.
      HttpResponse<String> whole = audit.get(csv, bulk);
      assertThat(whole.statusCode()).isEqualTo(200);
      assertThat(whole.body().split("\r\n")).hasSize(201);
    }
  }

  /**
   * A bias report's body piece that times out after the head and the first pieces went out with 200
   * cuts the connection, as an export's page does, and is counted with the reads that timed out.
   * The body is 40 pieces of 1 MiB characters, more than the socket buffers hold, so that the
   * service still writes it while the client does not read: the test takes the lock on the pieces
   * then, and a later piece waits on it.
   */
  @Test
  void shouldCutAndCountABiasReportWhosePieceTimesOutAfterItsAnswerBegan() throws Exception {
    String csv = "group,n\n" + "x".repeat(40 << 20);
    quick
        .service()
        .biasReports()
        .save(
            new BiasReports.NewReport(
                "big-report",
                null,
                "bulk",
                "A large report",
                "LIVE",
                null,
                null,
                null,
                null,
                JsonNodeFactory.instance.objectNode(),
                csv,
                "<p>big</p>"),
            Caller.system("test"));
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    quick.service().bindMetrics(metrics);
    double timedOutBefore = timedOut(metrics);
    String bulk = quick.token(Role.COMPLIANCE, "bulk", "bea");
    String path = "/api/v1/bias/reports/big-report?format=csv";
    HttpResponse<InputStream> answer =
        HttpClient.newHttpClient()
            .send(
                quick.request(path, bulk).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
    // The head went out with the first piece; the service now writes the rest as the client reads.
    assertThat(answer.statusCode()).isEqualTo(200);
    try (InputStream body = answer.body();
        Connection lock = lockOnly(quick, List.of("bias_report_piece"))) {
      assertThatThrownBy(body::readAllBytes).isInstanceOf(IOException.class);
    }
    assertThat(timedOut(metrics)).isEqualTo(timedOutBefore + 1);
    // The lock gone, the same report is whole.
    HttpResponse<String> whole = quick.get(path, bulk);
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(csv);
  }

  /**
   * Opens a connection of the test's own (not one of the service's pool) holding an ACCESS
   * EXCLUSIVE lock on moderation_verdict until it is closed.
   */
  private static Connection lockVerdicts(RunningAuditService audit) throws SQLException {
    return lock(audit, List.of());
  }

  /** As {@link #lockVerdicts}, with the {@code others} tables locked too. */
  private static Connection lock(RunningAuditService audit, List<String> others)
      throws SQLException {
    return lockOnly(audit, withVerdicts(others));
  }

  /** moderation_verdict and the {@code others} tables. */
  private static List<String> withVerdicts(List<String> others) {
    List<String> tables = new ArrayList<>(List.of("moderation_verdict"));
    tables.addAll(others);
    return tables;
  }

  /**
   * Sends {@code request} to the service whose reads time out while a connection of the test's own
   * holds the lock on {@code tables} (and no other), then releases it: the read waits on the lock
   * (without the timeout, past the request's own 20 s) and is answered 503 at the read timeout, not
   * before, with the timeout's message and nothing of the SQL. Returns the answer for the caller's
   * own checks; {@code what} names it in failures.
   */
  private static HttpResponse<String> timedOutWhileLocked(
      List<String> tables, String what, HttpRequest.Builder request) throws Exception {
    try (Connection lock = lockOnly(quick, tables)) {
      long started = System.nanoTime();
      HttpResponse<String> answer = quick.send(request.timeout(Duration.ofSeconds(20)));
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertThat(answer.statusCode()).as(what + ": " + answer.body()).isEqualTo(503);
      assertThat(json(answer).path("error").asText())
          .as(what)
          .contains("took longer than the " + QUICK_TIMEOUT_MS + " ms")
          .contains("GENGUARD_AUDIT_QUERY_TIMEOUT_MS");
      assertThat(answer.body()).as(what).doesNotContain("SQL", "Exception", "canceling");
      assertThat(took).as(what).isGreaterThanOrEqualTo(Duration.ofMillis(QUICK_TIMEOUT_MS));
      return answer;
    }
  }

  /**
   * Opens a connection of the test's own holding an ACCESS EXCLUSIVE lock on {@code tables} (and no
   * other) until it is closed.
   */
  private static Connection lockOnly(RunningAuditService audit, List<String> tables)
      throws SQLException {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    Connection connection =
        DriverManager.getConnection(audit.jdbcUrl(), infra.jdbcUser(), infra.jdbcPassword());
    try (Statement statement = connection.createStatement()) {
      connection.setAutoCommit(false);
      statement.execute("lock table " + String.join(", ", tables) + " in access exclusive mode");
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return connection;
  }

  private static void awaitWaitingOnTheLock(Connection lock, int sessions) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              try (Statement statement = lock.createStatement();
                  ResultSet rs =
                      statement.executeQuery(
                          "select count(*) from pg_stat_activity"
                              + " where datname = current_database() and wait_event_type = 'Lock'"
                              + " and pid <> pg_backend_pid()")) {
                rs.next();
                return rs.getLong(1) == sessions;
              }
            });
  }

  /** Ends the one session of the service that waits on the lock, as a failover would. */
  private static void terminateTheSessionWaitingOnTheLock(Connection lock) throws SQLException {
    try (Statement statement = lock.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity"
                    + " where datname = current_database() and wait_event_type = 'Lock'"
                    + " and pid <> pg_backend_pid()")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(1);
    }
  }

  private static CompletableFuture<HttpResponse<String>> inBackground(String path, String token) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return patient.send(patient.request(path, token).timeout(Duration.ofSeconds(60)));
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        },
        CALLS);
  }
}
