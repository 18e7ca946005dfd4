package io.genguard.audit.submit;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.AuditConfig;
import io.genguard.audit.AuditService;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.submit.TenantRateLimiter.Allowance;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Each tenant's submission rate on the real service, Kafka and PostgreSQL: a tenant over its rate
 * is answered 429 with Retry-After and its request never reaches gen.requests, while another tenant
 * submits as before, and the tenant may submit again once its allowance refills.
 */
class SubmissionRateITCase {
  private static final String MARK = "rate-it-" + System.nanoTime();

  @Test
  void shouldRefuseATenantOverItsRateWithoutWritingTheRequest() throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start(
            "submission_rate_it",
            Clock.systemUTC(),
            config -> config.withSubmitRate(1, 2).withSubmitRates("vip=1/5"))) {
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      audit.service().bindMetrics(metrics);
      String acme = audit.token(Role.SUBMITTER, "acme", "sam");
      String globex = audit.token(Role.SUBMITTER, "globex", "gil");
      String admin = audit.token(Role.ADMIN, null, "ada");

      assertThat(submit(audit, acme, "acme 1").statusCode()).isEqualTo(202);
      assertThat(submit(audit, acme, "acme 2").statusCode()).isEqualTo(202);
      HttpResponse<String> refused = submit(audit, acme, "acme refused");
      // Read at once, and submitted again at once: acme's bucket refills a token a second, so
      // whatever is checked in between must not take a second on a loaded machine.
      JsonNode state = json(audit.get("/api/v1/rates/acme", admin));
      HttpResponse<String> refusedAgain = submit(audit, acme, "acme refused again");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refusedAgain.statusCode()).as("reading took nothing").isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(json(refused).path("error").asText())
          .isEqualTo(
              "Tenant 'acme' submits more than its rate allows (1 request a second, bursts of 2:"
                  + " GENGUARD_AUDIT_SUBMIT_RATE and GENGUARD_AUDIT_SUBMIT_BURST); the request was"
                  + " not submitted, send it again in 1 s");
      assertThat(metrics.get(AuditService.SUBMISSIONS_REFUSED_METRIC).functionCounter().count())
          .isEqualTo(2);
      // Why acme is refused, for an operator: its rate, where it comes from, what is left.
      assertThat(state.path("perSecond").asInt()).isEqualTo(1);
      assertThat(state.path("burst").asInt()).isEqualTo(2);
      assertThat(state.path("source").asText()).isEqualTo("default");
      assertThat(state.path("scope").asText()).isEqualTo("cluster");
      assertThat(state.path("tokens").asDouble()).isLessThan(1);
      assertThat(state.path("fullInSeconds").asDouble()).isBetween(1.0, 2.0);
      assertThat(json(audit.get("/api/v1/rates/vip", admin)).path("source").asText())
          .isEqualTo("config");
      assertThat(json(audit.get("/api/v1/rates/nobody", admin)).path("tokens").asDouble())
          .as("a tenant that has not submitted has its whole burst")
          .isEqualTo(2.0);
      assertThat(audit.get("/api/v1/rates/not%20a%20tenant", admin).statusCode()).isEqualTo(400);
      assertThat(audit.get("/api/v1/rates/acme", acme).statusCode()).isEqualTo(403);
      assertThat(submit(audit, globex, "globex 1").statusCode())
          .as("another tenant's allowance is its own")
          .isEqualTo(202);
      // A tenant with its own allowance (GENGUARD_AUDIT_SUBMIT_RATES): a burst of 5 at 1 a second,
      // so six submissions need not finish within 200 ms on a loaded machine, only within 1 s.
      String vip = audit.token(Role.SUBMITTER, "vip", "val");
      for (int i = 1; i <= 5; i++) {
        assertThat(submit(audit, vip, "vip " + i).statusCode()).isEqualTo(202);
      }
      HttpResponse<String> vipRefused = submit(audit, vip, "vip refused");
      assertThat(vipRefused.statusCode()).isEqualTo(429);
      assertThat(json(vipRefused).path("error").asText())
          .contains("(1 request a second, bursts of 5: its own in GENGUARD_AUDIT_SUBMIT_RATES)");

      Thread.sleep(1_100);
      assertThat(submit(audit, acme, "acme 3").statusCode()).isEqualTo(202);

      // What reached gen.requests, as the service's own ingestor read it back from Kafka.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> persisted(audit, "%") == 9);
      assertThat(persisted(audit, "% acme refused")).isZero();
      assertThat(persisted(audit, "% vip refused")).isZero();
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'request.submit'"
                      + " and tenant_id = 'acme'"))
          .isEqualTo(3);
    }
  }

  @Test
  void shouldApplyARateSetThroughTheApiAtOnceHereAndWithinTheRefreshInAnotherProcess()
      throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start(
            "submission_rate_api_it",
            Clock.systemUTC(),
            config -> config.withSubmitRate(100, 100).withSubmitRates("vip=5/5"))) {
      String admin = audit.token(Role.ADMIN, null, "ada");
      String acme = audit.token(Role.SUBMITTER, "acme", "sam");

      HttpResponse<String> set = audit.put("/api/v1/rates/acme", admin, "{\"perSecond\": 1}");
      assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
      assertThat(json(set).path("burst").asInt()).as("twice the rate").isEqualTo(2);
      assertThat(submit(audit, acme, "api 1").statusCode()).isEqualTo(202);
      assertThat(submit(audit, acme, "api 2").statusCode()).isEqualTo(202);
      HttpResponse<String> refused = submit(audit, acme, "api refused");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(json(refused).path("error").asText())
          .contains(
              "(1 request a second, bursts of 2: its own, set through PUT /api/v1/rates/acme)");

      // A rate set through the API wins over the tenant's configured one, and is listed as such.
      assertThat(audit.put("/api/v1/rates/vip", admin, "{\"perSecond\": 0}").statusCode())
          .isEqualTo(200);
      JsonNode rates = json(audit.get("/api/v1/rates", admin));
      assertThat(rates.path("defaultRate").path("perSecond").asInt()).isEqualTo(100);
      assertThat(rates.path("scope").asText()).isEqualTo("cluster");
      assertThat(rates.path("tenants").toString())
          .contains("\"tenantId\":\"acme\",\"perSecond\":1,\"burst\":2,\"source\":\"api\"")
          .contains("\"tenantId\":\"vip\",\"perSecond\":0,\"burst\":1,\"source\":\"api\"")
          .contains("\"configured\":{\"perSecond\":5,\"burst\":5}");
      String vip = audit.token(Role.SUBMITTER, "vip", "val");
      for (int i = 1; i <= 8; i++) {
        assertThat(submit(audit, vip, "unlimited " + i).statusCode()).isEqualTo(202);
      }

      // Another audit-service process on the same database takes the rate at its next refresh.
      IntegrationInfrastructure infra = IntegrationInfrastructure.get();
      String group = "audit-submission_rate_api_it-other";
      RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
      try (AuditService other =
          new AuditService(
              AuditConfig.of(audit.jdbcUrl(), infra.jdbcUser(), infra.jdbcPassword(), 0)
                  .withConsumerGroup(group)
                  .withRetention(0, 0)
                  .withSubmitRate(100, 100),
              infra.kafkaClientProperties(),
              Clock.systemUTC(),
              null)) {
        assertThat(other.submitRates().rates().tenants())
            .extracting(SubmitRates.TenantRate::tenantId)
            .containsExactly("acme", "vip");
        other.submitRates().set("acme", 7, 3, Caller.system("other"));
        audit.service().submitRates().refresh(); // what the 10 s timer does
        assertThat(audit.service().submitRates().rates().tenants().get(0))
            .extracting(SubmitRates.TenantRate::perSecond, SubmitRates.TenantRate::burst)
            .containsExactly(7, 3);
      }
      // Removed: the default applies again; removing twice is a 404.
      assertThat(audit.delete("/api/v1/rates/acme", admin).statusCode()).isEqualTo(204);
      assertThat(audit.delete("/api/v1/rates/acme", admin).statusCode()).isEqualTo(404);
      // A changed rate keeps what the tenant had left (here nothing) and refills at the new rate: a
      // second gives the default burst of 100 back, where 7/3 would allow 3.
      Thread.sleep(1_100);
      for (int i = 1; i <= 5; i++) {
        assertThat(submit(audit, acme, "default again " + i).statusCode()).isEqualTo(202);
      }
      assertThat(
              audit.count(
                  "select count(*) from api_action where action in ('rates.set', 'rates.remove')"
                      + " and target = 'acme'"))
          .as("every change is in the hash chain")
          .isEqualTo(3);
    }
  }

  @Test
  void shouldCountATenantsRateOnceForEveryProcessOnTheDatabaseUnlessToldPerProcess()
      throws Exception {
    try (RunningAuditService audit =
            RunningAuditService.start(
                "submission_rate_cluster_it",
                Clock.systemUTC(),
                config -> config.withSubmitRate(1, 3));
        AuditService shared = anotherProcess(audit, "cluster", AuditConfig.SCOPE_CLUSTER);
        AuditService own = anotherProcess(audit, "per-process", AuditConfig.SCOPE_PROCESS)) {
      String acme = audit.token(Role.SUBMITTER, "acme", "sam");
      // Each producer's first send fetches metadata; after these the sends below take milliseconds,
      // far less than the second a token takes to come back.
      assertThat(submit(audit, audit.token(Role.SUBMITTER, "warm", "w"), "warm 1").statusCode())
          .isEqualTo(202);
      shared.submitter().submit(submission("warm", "warm 2"));
      own.submitter().submit(submission("warm-own", "warm 3"));

      for (int i = 1; i <= 3; i++) {
        assertThat(submit(audit, acme, "cluster " + i).statusCode()).isEqualTo(202);
      }
      // The burst of 3 is one for both processes on the database: the other has none left either.
      assertThatThrownBy(() -> shared.submitter().submit(submission("acme", "refused there")))
          .isInstanceOf(RequestSubmitter.RateLimitedException.class)
          .hasMessageContaining("Tenant 'acme' submits more than its rate allows");
      assertThat(submit(audit, acme, "refused here").statusCode()).isEqualTo(429);
      assertThat(shared.submitter().rateLimiter().sharedFailures()).isZero();
      assertThat(audit.service().submitter().rateLimiter().sharedFailures()).isZero();

      // Counted per process, a process gives the tenant a burst of its own.
      for (int i = 1; i <= 3; i++) {
        own.submitter().submit(submission("acme", "per process " + i));
      }
      assertThatThrownBy(() -> own.submitter().submit(submission("acme", "refused per process")))
          .isInstanceOf(RequestSubmitter.RateLimitedException.class);
      assertThat(own.submitRates().rates().scope()).isEqualTo("process");

      // The shared bucket does not answer in time (its row is locked): the submission is counted
      // in the process's own bucket, which has its whole burst, and goes on.
      try (Connection locker =
          DriverManager.getConnection(
              audit.jdbcUrl(), infra().jdbcUser(), infra().jdbcPassword())) {
        locker.setAutoCommit(false);
        try (Statement lock = locker.createStatement()) {
          lock.execute("select * from tenant_submit_bucket where tenant_id = 'acme' for update");
        }
        shared.submitter().submit(submission("acme", "counted locally"));
        assertThat(shared.submitter().rateLimiter().sharedFailures()).isEqualTo(1);
        locker.rollback();
      }
      // The shared bucket answers again (it refilled while the row was locked).
      shared.submitter().submit(submission("acme", "counted shared again"));
      assertThat(shared.submitter().rateLimiter().sharedFailures()).isEqualTo(1);

      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> persisted(audit, "%") == 11);
      assertThat(persisted(audit, "% refused%")).isZero();
    }
  }

  @Test
  void shouldRefillSharedBucketsByTheDatabaseClockKeepWhatIsLeftAndDropFullOnes() throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start("submission_buckets_it", Clock.systemUTC(), c -> c)) {
      SharedRateBuckets buckets = new SharedRateBuckets(audit.service().database().dataSource());
      // One a second: the three takes must fall within one refill (1/10 s was too short on a
      // loaded machine, where the third take found a token already back).
      Allowance twoPerSecond = new Allowance(1, 2);
      assertThat(buckets.take("t", twoPerSecond)).isZero();
      assertThat(buckets.take("t", twoPerSecond)).isZero();
      long wait = buckets.take("t", twoPerSecond);
      assertThat(wait).as("a token comes back within 1 s").isBetween(1L, 1_000_000_000L);
      Thread.sleep(TimeUnit.NANOSECONDS.toMillis(wait) + 20);
      assertThat(buckets.take("t", twoPerSecond)).as("refilled").isZero();

      // A changed allowance keeps what the tenant had left (nothing), capped by the new burst.
      Allowance fiftyOfOne = new Allowance(1, 50);
      assertThat(buckets.take("t", fiftyOfOne)).as("no fresh burst of 50").isPositive();
      assertThat(buckets.take("u", fiftyOfOne)).as("another tenant's bucket").isZero();

      // A bucket that has refilled is dropped, one still refilling is kept.
      assertThat(buckets.take("full-soon", new Allowance(1000, 1))).isZero();
      Thread.sleep(20);
      assertThat(buckets.sweep()).isEqualTo(1);
      assertThat(audit.count("select count(*) from tenant_submit_bucket")).isEqualTo(2);
      assertThat(audit.count("select count(*) from tenant_submit_bucket where tenant_id = 'u'"))
          .isEqualTo(1);
    }
  }

  private static IntegrationInfrastructure infra() {
    return IntegrationInfrastructure.get();
  }

  private static AuditService anotherProcess(RunningAuditService audit, String name, String scope) {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String group = "audit-submission_rate_cluster_it-" + name;
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    return new AuditService(
        AuditConfig.of(audit.jdbcUrl(), infra.jdbcUser(), infra.jdbcPassword(), 0)
            .withConsumerGroup(group)
            .withRetention(0, 0)
            .withSubmitRate(1, 3)
            .withSubmitRateScope(scope),
        infra.kafkaClientProperties(),
        Clock.systemUTC(),
        null);
  }

  private static RequestSubmitter.Submission submission(String tenant, String text) {
    return new RequestSubmitter.Submission(
        MARK + " " + text, tenant, null, null, 4, null, null, null, null, null);
  }

  @Test
  void shouldRefuseRatesFromTenantTokensAndOutOfRangeOnes() throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start("submission_rate_refusals_it", Clock.systemUTC(), c -> c)) {
      String admin = audit.token(Role.ADMIN, null, "ada");
      String tenantAdmin = audit.token(Role.ADMIN, "acme", "acme-admin");
      assertThat(audit.put("/api/v1/rates/acme", tenantAdmin, "{\"perSecond\": 1000}").statusCode())
          .as("a tenant may not raise its own rate")
          .isEqualTo(403);
      assertThat(audit.get("/api/v1/rates", tenantAdmin).statusCode()).isEqualTo(403);
      for (String body :
          List.of(
              "{}",
              "{\"perSecond\": -1}",
              "{\"perSecond\": 1000001}",
              "{\"perSecond\": 5, \"burst\": 0}",
              "{\"perSecond\": 5, \"burst\": 1000001}",
              "{\"perSecond\": 1.5}",
              "{\"perSecond\": \"5\"}",
              "{\"perSecond\": 5, \"rate\": 5}",
              "{\"perSecond\": 99999999999}",
              "null",
              "[]",
              "{\"perSecond\": 5} {}")) {
        HttpResponse<String> refused = audit.put("/api/v1/rates/acme", admin, body);
        assertThat(refused.statusCode()).as(body + " -> " + refused.body()).isEqualTo(400);
      }
      assertThat(
              audit.put("/api/v1/rates/not%20a%20tenant", admin, "{\"perSecond\": 5}").statusCode())
          .isEqualTo(400);
      assertThat(audit.count("select count(*) from tenant_submit_rate")).isZero();

      // At most 10,000 tenants with a rate of their own: a new one is refused, a listed one
      // changes.
      audit.execute(
          "insert into tenant_submit_rate select 'bulk-' || i, 1, 2, now(), 'test'"
              + " from generate_series(1, "
              + SubmitRates.MAX_STORED
              + ") i");
      HttpResponse<String> full = audit.put("/api/v1/rates/acme", admin, "{\"perSecond\": 5}");
      assertThat(full.statusCode()).isEqualTo(400);
      assertThat(json(full).path("error").asText())
          .startsWith("At most 10000 tenants may have a rate set through the API");
      assertThat(audit.put("/api/v1/rates/bulk-7", admin, "{\"perSecond\": 5}").statusCode())
          .isEqualTo(200);
    }
  }

  private static HttpResponse<String> submit(RunningAuditService audit, String token, String text)
      throws Exception {
    return audit.post(
        "/api/v1/requests", token, "{\"prompt\":\"" + MARK + " " + text + "\",\"maxTokens\":4}");
  }

  private static long persisted(RunningAuditService audit, String suffix) throws Exception {
    return audit.count(
        "select count(*) from generation_request where prompt like '" + MARK + suffix + "'");
  }
}
