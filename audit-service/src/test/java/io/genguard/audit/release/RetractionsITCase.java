package io.genguard.audit.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.query.OutputSearch;
import io.genguard.audit.query.SearchFilter;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.review.ReviewOutbox;
import io.genguard.audit.review.ReviewQueue;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.ForbiddenException;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.events.v1.ReviewAction;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Taking released outputs down on real PostgreSQL: once per release, only what was released, with
 * the reason in the chain and the notice in the outbox; and an erasure after the release retracts
 * it too, also when the released outcome reaches the audit store after the erasure; and a release
 * the gate made on a late verdict after a reviewer rejected the output is taken down as it is
 * recorded.
 */
class RetractionsITCase {
  private static final Instant NOW = Instant.parse("2026-12-05T10:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);
  private static final Caller RITA = new Caller("rev01", "rita", Role.REVIEWER, "acme");

  private AuditDatabase database;
  private AuditWriter writer;
  private Retractions retractions;
  private ReviewOutbox reviewOutbox;

  @BeforeEach
  void database(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("retractions_", test), infra.jdbcUser(), infra.jdbcPassword(), 2);
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    writer = new AuditWriter(database.dataSource(), clock);
    retractions = new Retractions(database.dataSource(), clock);
  }

  @AfterEach
  void close() throws SQLException {
    if (reviewOutbox != null) {
      // What the tests put in the outbox is what they assert on, never sent to the shared broker:
      // marked sent, so that closing the publisher sends nothing.
      try (Connection connection = database.dataSource().getConnection();
          Statement statement = connection.createStatement()) {
        statement.executeUpdate("update review_outbox set published_at = now()");
      }
      reviewOutbox.close();
    }
    database.close();
  }

  @Test
  void shouldTakeDownWhatTheGateReleasedOnALateVerdictAfterAReviewerRejectedIt() throws Exception {
    // The moderation job was down: the gate held the output for want of a verdict.
    Scenario late = Scenario.of("late-rel", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    ReviewQueue.Decided rejected =
        reviewQueue().decide("late-rel", ReviewAction.REJECT, "slur in the second line", RITA);
    // The job recovered; its RELEASE verdict reached the gate before the rejection did, and the
    // gate released the output.
    ReleaseGateOutcome release = AuditEvents.gateOutcome(late);
    List<io.genguard.audit.persistence.IncomingEvent> recovered = lateVerdictAndRelease(late);

    writer.write(recovered);

    assertThat(outbox("late-rel"))
        .as("the publishers are told to take it down")
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getReleasedEventId()).isEqualTo(release.getEventId());
              assertThat(notice.getOutputId()).isEqualTo(late.outputId());
              assertThat(notice.getBasis()).isEqualTo(RetractionBasis.TAKEDOWN);
            });
    assertThat(
            count(
                "select count(*) from content_retraction where request_id = 'late-rel'"
                    + " and released_event_id = '"
                    + release.getEventId()
                    + "' and basis = 'TAKEDOWN'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and request_id = 'late-rel' and caller_name = '"
                    + RejectedReleases.CALLER
                    + "' and details->>'reviewId' = '"
                    + rejected.reviewId()
                    + "' and details->>'releasedEventId' = '"
                    + release.getEventId()
                    + "'"))
        .as("the takedown's action names the rejection it enforces")
        .isEqualTo(1);
    JsonNode story = new AuditQueries(database.dataSource()).story("late-rel").orElseThrow();
    assertThat(story.path("status").asText()).isEqualTo("RETRACTED");
    assertThat(story.path("retractions").get(0).path("reason").asText())
        .isEqualTo(RejectedReleases.REASON);
    assertThat(story.path("reviewItem").path("state").asText())
        .as("the item does not read as released, as if approved")
        .isEqualTo("RETRACTED");
    assertThat(story.path("reviewItem").path("action").asText()).isEqualTo("REJECT");
    assertThat(writer.rejectedReleasesTakenDown()).isEqualTo(1);
    assertThat(
            reviewQueue()
                .list("RETRACTED", "acme", null, 10)
                .items()
                .get(0)
                .path("requestId")
                .asText())
        .isEqualTo("late-rel");

    // Read again (a rebalance): skipped, so taken down once.
    assertThat(writer.write(recovered)).isZero();
    assertThat(count("select count(*) from content_retraction")).isEqualTo(1);
    assertThatThrownBy(() -> retractions.retract("late-rel", "again", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("retracted already");
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldTakeDownALateReleaseWhenTheRejectionIsReadInTheSameBatch() throws Exception {
    Scenario late = Scenario.of("late-same", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    ReleaseGateOutcome release = AuditEvents.gateOutcome(late);

    // A review tool's REJECT on review.decisions and the gate's release on the late verdict are
    // read in one batch, the release first.
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(late)),
            AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), release),
            rejection(late, "review-same")));

    assertThat(outbox("late-same"))
        .singleElement()
        .satisfies(
            notice -> assertThat(notice.getReleasedEventId()).isEqualTo(release.getEventId()));
    assertThat(count("select count(*) from content_retraction where request_id = 'late-same'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-same'"
                    + " and state = 'RETRACTED' and action = 'REJECT' and decided_by = 'review-tool'"
                    + " and review_id = 'review-same'"))
        .isEqualTo(1);
    assertThat(writer.rejectedReleasesTakenDown()).isEqualTo(1);
  }

  /**
   * The forty-seventh session's reports: a release naming another tenant under the request id of an
   * item a person rejected took that item down (RETRACTED) and retracted the release, as if the
   * gate had released the tenant's own output. Only a release of the item's own tenant does.
   */
  @Test
  void shouldTakeDownARejectedItemOnlyOnAReleaseOfItsOwnTenant() throws Exception {
    Scenario late = Scenario.of("late-tenant", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    Scenario other = Scenario.of("late-tenant", "beta", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    writer.write(List.of(rejection(late, "review-tenant")));

    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    other, GateOutcome.RELEASED, GateBasis.VERDICT, "other-tenant", NOW))));

    assertThat(count("select count(*) from content_retraction")).isZero();
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-tenant'"
                    + " and state = 'DECIDED' and action = 'REJECT'"))
        .as("the item after another tenant's release")
        .isEqualTo(1);
    assertThat(writer.rejectedReleasesTakenDown()).isZero();

    ReleaseGateOutcome release = AuditEvents.gateOutcome(late);
    writer.write(lateVerdictAndRelease(late));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-tenant'"
                    + " and state = 'RETRACTED'"))
        .isEqualTo(1);
    assertThat(writer.rejectedReleasesTakenDown()).isEqualTo(1);
  }

  /**
   * Two tenants' releases under one request id: the takedown of a rejected item's release names the
   * release of the item's own tenant, not the other tenant's earlier one; and another tenant's
   * REJECT under the request id takes down nothing of an item the gate released.
   */
  @Test
  void shouldRetractOnlyTheReleaseOfTheRejectedItemsOwnTenant() throws Exception {
    Scenario late = Scenario.of("late-shared", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    ReleaseGateOutcome otherRelease = otherTenantsRelease(late, NOW.minusSeconds(1000));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), otherRelease)));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    writer.write(List.of(rejection(late, "review-shared")));

    ReleaseGateOutcome release = AuditEvents.gateOutcome(late);
    writer.write(lateVerdictAndRelease(late));
    assertThat(outbox("late-shared"))
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getReleasedEventId()).isEqualTo(release.getEventId());
              assertThat(notice.getTenantId()).isEqualTo("acme");
            });

    // Acme's item the gate released on a late verdict; then beta's REJECT under its request id.
    Scenario released =
        Scenario.of("late-shared-2", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(released));
    writer.write(lateVerdictAndRelease(released));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.REVIEW_DECISIONS.name(),
                io.genguard.events.v1.ReviewDecision.newBuilder()
                    .setEventId("decision-beta-late-shared-2")
                    .setReviewId("review-beta-late-shared-2")
                    .setRequestId(released.requestId())
                    .setOutputId(released.outputId())
                    .setTenantId("beta")
                    .setAction(ReviewAction.REJECT)
                    .setReviewer("review-tool")
                    .setNote("")
                    .setDecidedAt(NOW.minusSeconds(60))
                    .build())));
    assertThat(count("select count(*) from content_retraction where request_id = 'late-shared-2'"))
        .as("acme's release after beta's REJECT")
        .isZero();
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-shared-2'"
                    + " and state = 'RELEASED' and action is null"))
        .isEqualTo(1);
  }

  /**
   * Two tenants' releases under one request id: an admin who names no tenant is refused as
   * ambiguous, one who names it takes that tenant's release down, and a window of one tenant takes
   * down that tenant's release.
   */
  @Test
  void shouldTakeDownOnlyTheReleaseOfTheTenantNamedWhenTwoShareARequestId() throws Exception {
    Scenario acme = Scenario.of("shared-rel", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));

    assertThatThrownBy(() -> retractions.retract("shared-rel", "ticket T-9", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("more than one tenant (acme, beta)")
        .hasMessageContaining("tenantId");
    assertThat(count("select count(*) from content_retraction where request_id = 'shared-rel'"))
        .isZero();

    Retractions.Bulk bulk =
        retractions.retractAll(
            new Retractions.Selection("beta", NOW.minusSeconds(3600), NOW, null, false),
            "ticket T-9",
            false,
            ADMIN);
    assertThat(bulk.retracted())
        .singleElement()
        .satisfies(
            taken -> {
              assertThat(taken.tenantId()).isEqualTo("beta");
              assertThat(taken.releasedEventId()).isEqualTo(betaRelease.getEventId());
            });

    Retractions.Retracted own = retractions.retract("shared-rel", "acme", "ticket T-10", ADMIN);
    assertThat(own.tenantId()).isEqualTo("acme");
    assertThat(own.releasedEventId()).isEqualTo(AuditEvents.gateOutcome(acme).getEventId());
  }

  /**
   * A tenant's admin takes down its own tenant's release under a request id another tenant uses too
   * (reported by the forty-eighth session's reviews: 404, as the request's records were not all its
   * tenant's); a tenant with no record under it still gets 404.
   */
  @Test
  void shouldLetATenantsAdminTakeDownItsOwnReleaseUnderASharedRequestId() throws Exception {
    Scenario acme = Scenario.of("shared-own", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(), otherTenantsRelease(acme, NOW.minusSeconds(60)))));
    Caller acmeAdmin = new Caller("admin02", "ann", Role.ADMIN, "acme");
    Caller gammaAdmin = new Caller("admin03", "gus", Role.ADMIN, "gamma");

    assertThatThrownBy(() -> retractions.retract("shared-own", "ticket T-11", gammaAdmin))
        .isInstanceOf(NotFoundException.class);
    Retractions.Bulk dryRun = retractions.retractEach(List.of("shared-own"), null, true, acmeAdmin);
    assertThat(dryRun.skipped()).as("a dry run of acme's admin").isEmpty();
    Retractions.Retracted own = retractions.retract("shared-own", "ticket T-11", acmeAdmin);

    assertThat(own.tenantId()).isEqualTo("acme");
    assertThat(own.releasedEventId()).isEqualTo(AuditEvents.gateOutcome(acme).getEventId());
    assertThat(
            count(
                "select count(*) from content_retraction where request_id = 'shared-own'"
                    + " and tenant_id = 'beta'"))
        .isZero();
  }

  /**
   * A restatement of one tenant's release that names no outcome is not another tenant's reason
   * (reported by the forty-eighth session's reviews: it looked at every tenant).
   */
  @Test
  void shouldAnswerForTheTenantNamedWhenAnotherTenantsRestatementNamesNoOutcome() throws Exception {
    Scenario acme = Scenario.of("shared-restated", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(List.of(restated(acme, null, null)));
    writer.write(List.of(otherTenantsQuarantine(acme, NOW.minusSeconds(60))));

    assertThatThrownBy(() -> retractions.retract("shared-restated", "beta", "ticket T-12", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("has no released output on record");
    assertThatThrownBy(() -> retractions.retract("shared-restated", "acme", "ticket T-12", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("names no released outcome");
  }

  /**
   * A tenant's admin whose tenant released nothing under a request id another tenant uses is not
   * sent to the request's story, which is the other tenant's (found by the forty-ninth session's
   * takedowns fix: the 409 pointed to {@code GET /api/v1/requests/ID}, 404 for that tenant).
   */
  @Test
  void shouldNotPointATenantsAdminToAnotherTenantsStoryWhenItsTenantReleasedNothing()
      throws Exception {
    Scenario acme = Scenario.of("shared-none", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    writer.write(List.of(otherTenantsQuarantine(acme, NOW.minusSeconds(60))));
    Caller betaAdmin = new Caller("admin06", "bea", Role.ADMIN, "beta");

    // Nor is it told that another tenant uses the request id (reported by the fiftieth session's
    // review): its story, to which it is pointed, is its own tenant's.
    assertThatThrownBy(() -> retractions.retract("shared-none", "ticket T-13", betaAdmin))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("has no released output on record for tenant beta")
        .hasMessageNotContaining("tenant uses")
        .hasMessageNotContaining("acme")
        .hasMessageContaining("GET /api/v1/requests/shared-none shows what it holds");
    assertThat(new AuditQueries(database.dataSource()).story("shared-none", "beta"))
        .as("the story the answer points beta's admin to")
        .isPresent();
    assertThat(
            retractions
                .retractEach(List.of("shared-none"), null, true, betaAdmin)
                .skippedReleases())
        .singleElement()
        .satisfies(
            skipped -> {
              assertThat(skipped.tenantId()).isEqualTo("beta");
              assertThat(skipped.reason()).doesNotContain("tenant uses");
            });
    // A global admin naming beta still hears that several tenants use the id.
    assertThatThrownBy(() -> retractions.retract("shared-none", "beta", "ticket T-13", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("another tenant uses this request id too")
        .hasMessageNotContaining("GET /api/v1/requests/");

    // A request id of one tenant's: its story is that tenant's, so the answer points to it.
    writer.write(
        AuditEvents.story(Scenario.of("own-none", "beta", Decision.BLOCK, NOW.minusSeconds(30))));
    assertThatThrownBy(() -> retractions.retract("own-none", "ticket T-14", betaAdmin))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("GET /api/v1/requests/own-none shows what it holds");
  }

  /**
   * An admin who names no tenant is refused under a shared request id also when another tenant's
   * release is down already, or restated without its outcome: "the only one left" would take down a
   * release nobody chose (reported by the forty-ninth session's review: a what-if's takedown by
   * request id took down beta's release once acme's, the one flagged, was down).
   */
  @Test
  void shouldRefuseAnUnnamedTakedownWhenAnotherTenantsReleaseIsDownOrNamesNoOutcome()
      throws Exception {
    Scenario acme = Scenario.of("shared-left", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    Scenario unnamed =
        Scenario.of("shared-unnamed", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(List.of(restated(unnamed, null, null)));
    ReleaseGateOutcome betaOwn = otherTenantsRelease(unnamed, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaOwn)));
    retractions.retract("shared-left", "acme", "ticket T-13", ADMIN);

    assertThatThrownBy(() -> retractions.retract("shared-left", "ticket T-14", ADMIN))
        .as("after acme's release came down")
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("more than one tenant (acme, beta)");
    assertThatThrownBy(() -> retractions.retract("shared-unnamed", "ticket T-15", ADMIN))
        .as("beside acme's restatement naming no outcome")
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("more than one tenant (acme, beta)");
    Retractions.Bulk again =
        retractions.retractEach(List.of("shared-left"), "what-if again", false, ADMIN);
    assertThat(again.retracted()).as("a what-if's takedown by request id").isEmpty();
    assertThat(again.skipped().get("shared-left")).contains("more than one tenant");
    assertThat(
            count(
                "select count(*) from content_retraction where tenant_id = 'beta'"
                    + " and request_id in ('shared-left', 'shared-unnamed')"))
        .isZero();
    assertThat(retractions.retract("shared-left", "beta", "ticket T-16", ADMIN).releasedEventId())
        .as("named")
        .isEqualTo(betaRelease.getEventId());
  }

  /**
   * A takedown of releases each named with its tenant (the what-if's takedown) takes down the
   * tenant's named under a shared request id, and skips it, with why, when that one is down already
   * (reported by the forty-ninth session's review: request ids alone could not say whose).
   */
  @Test
  void shouldTakeDownTheReleaseOfTheTenantEachNamedReleaseNames() throws Exception {
    Scenario acme = Scenario.of("shared-named", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    List<Retractions.Selected> acmes = List.of(new Retractions.Selected("shared-named", "acme"));

    Retractions.Bulk dryRun = retractions.retractReleases(acmes, null, true, ADMIN);
    Retractions.Bulk taken = retractions.retractReleases(acmes, "what-if: acme", false, ADMIN);
    Retractions.Bulk again = retractions.retractReleases(acmes, "what-if again", false, ADMIN);

    assertThat(dryRun.releases()).containsExactlyElementsOf(acmes);
    assertThat(dryRun.skippedReleases()).isEmpty();
    assertThat(taken.retracted())
        .singleElement()
        .satisfies(
            one -> {
              assertThat(one.tenantId()).isEqualTo("acme");
              assertThat(one.releasedEventId())
                  .isEqualTo(AuditEvents.gateOutcome(acme).getEventId());
            });
    assertThat(again.retracted()).isEmpty();
    assertThat(again.releases()).isEmpty();
    assertThat(again.skippedReleases())
        .singleElement()
        .satisfies(
            skip -> {
              assertThat(skip.tenantId()).isEqualTo("acme");
              assertThat(skip.reason()).contains("retracted already");
            });
    assertThat(
            count(
                "select count(*) from content_retraction where request_id = 'shared-named'"
                    + " and tenant_id = 'beta'"))
        .isZero();
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and request_id = 'shared-named' and details->'selection'->>'releases' = '1'"))
        .isEqualTo(1);

    Caller betaAdmin = new Caller("admin04", "bea", Role.ADMIN, "beta");
    assertThatThrownBy(() -> retractions.retractReleases(acmes, "x", true, betaAdmin))
        .isInstanceOf(ForbiddenException.class);
    assertThatThrownBy(
            () ->
                retractions.retractReleases(
                    List.of(new Retractions.Selected("shared-named", null)), "x", true, ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("without a tenantId");
    assertThatThrownBy(() -> retractions.retractReleases(List.of(), "x", true, ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("releases must name 1 to");
  }

  /**
   * A bulk takedown over both tenants' releases under one request id names each with its tenant,
   * and one that finds both taken down meanwhile gives each tenant's reason (reported by the
   * forty-eighth session's reviews: request ids alone, and one reason per request id).
   */
  @Test
  void shouldNameTheTenantOfEachReleaseABulkTakedownSelectsOrSkips() throws Exception {
    Scenario acme = Scenario.of("shared-bulk", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(), otherTenantsRelease(acme, NOW.minusSeconds(60)))));
    Retractions.Selection window =
        new Retractions.Selection(null, NOW.minusSeconds(3600), NOW, null, false);

    Retractions.Bulk dryRun = retractions.retractAll(window, null, true, ADMIN);
    Retractions.Bulk taken = retractions.retractAll(window, "ticket T-17", false, ADMIN);
    // A call that selected the same releases before this one took them down.
    Retractions.Bulk raced =
        retractions.retractEach(
            dryRun.releases(),
            false,
            "ticket T-18",
            ADMIN,
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());

    assertThat(dryRun.releases())
        .containsExactly(
            new Retractions.Selected("shared-bulk", "acme"),
            new Retractions.Selected("shared-bulk", "beta"));
    assertThat(taken.retracted())
        .extracting(Retractions.Retracted::tenantId)
        .containsExactly("acme", "beta");
    assertThat(raced.skippedReleases())
        .extracting(Retractions.Skipped::tenantId)
        .containsExactly("acme", "beta");
    assertThat(raced.skippedReleases())
        .allSatisfy(skip -> assertThat(skip.reason()).contains("retracted already"));
    assertThat(raced.skipped()).containsOnlyKeys("shared-bulk");
  }

  /**
   * Tenant beta's release, on a verdict, under the scenario's request id, decided at {@code at}.
   */
  /**
   * A global admin's erasure of one tenant's data subject (by attribute) erases that tenant's
   * records and takes down its release alone under a request id another tenant uses too, and so do
   * the erasure's follow-ups (reported by the fiftieth session's review: every tenant's records
   * under the id were tombstoned and every tenant's release retracted).
   */
  @Test
  void shouldEraseOnlyTheSubjectsTenantUnderASharedRequestId() throws Exception {
    Scenario acme = Scenario.of("subj-shared", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    List<io.genguard.audit.persistence.IncomingEvent> story = new ArrayList<>();
    for (io.genguard.audit.persistence.IncomingEvent incoming : AuditEvents.story(acme)) {
      Object event = incoming.event();
      if (event instanceof io.genguard.events.v1.GenerationRequest request) {
        event =
            io.genguard.events.v1.GenerationRequest.newBuilder(request)
                .setAttributes(java.util.Map.of("userId", "u-1"))
                .build();
      }
      story.add(
          AuditEvents.incoming(incoming.topic(), (org.apache.avro.specific.SpecificRecord) event));
    }
    writer.write(story);
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    String acmeRelease = AuditEvents.gateOutcome(acme).getEventId();

    Retention.SubjectErased erased =
        new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
            .eraseSubject("acme", "userId", "u-1", "DSR-2026-51", ADMIN);

    assertThat(erased.erased())
        .singleElement()
        .satisfies(
            one -> {
              assertThat(one.tenantId()).isEqualTo("acme");
              assertThat(one.retractedEventIds()).containsExactly(acmeRelease);
              assertThat(one.tombstoned()).isEqualTo(4);
            });
    assertThat(outbox("subj-shared"))
        .extracting(ContentRetraction::getTenantId)
        .containsExactly("acme");
    assertThat(erasureNoticeTenants("subj-shared")).as("the gate's notice").containsExactly("acme");
    assertThat(count(tombstonedOf("subj-shared", "beta"))).as("beta's records").isZero();
    assertThat(count(tombstonedOf("subj-shared", "acme"))).isEqualTo(4);

    // Records arriving later: acme's is erased by the follow-up, beta's is not.
    AuditWriter later =
        new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(10), ZoneOffset.UTC));
    later.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                ReleaseGateOutcome.newBuilder(
                        AuditEvents.gateOutcome(
                            acme,
                            GateOutcome.QUARANTINED,
                            GateBasis.VERDICT,
                            null,
                            NOW.plusSeconds(5)))
                    .setEventId("gate-acme-late-subj-shared")
                    .build()),
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                ReleaseGateOutcome.newBuilder(
                        AuditEvents.otherTenantsOutcome(
                            acme,
                            GateOutcome.QUARANTINED,
                            GateBasis.VERDICT,
                            null,
                            NOW.plusSeconds(5)))
                    .setEventId("gate-beta-late-subj-shared")
                    .build())));
    List<Retention.Erased> followed =
        new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC), 0)
            .eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(followed)
        .singleElement()
        .satisfies(
            one -> {
              assertThat(one.tenantId()).isEqualTo("acme");
              assertThat(one.tombstoned()).isEqualTo(1);
              assertThat(one.retractedEventIds()).isEmpty();
            });
    assertThat(count(tombstonedOf("subj-shared", "beta"))).as("beta's records").isZero();
    assertThat(count(tombstonedOf("subj-shared", "acme"))).isEqualTo(5);
    assertThat(outbox("subj-shared")).hasSize(1);
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  /**
   * A tenant's admin's erasure by request id is its own tenant's, and so are its follow-ups: under
   * a request id another tenant uses too, that tenant's records read after the erasure keep their
   * content and its release stays up, and the gate's notices name the admin's tenant (reported by
   * the fifty-first session's review: the erasure was noted for every tenant, so the follow-up
   * tombstoned beta's records, retracted its release and told the gate with no tenant).
   */
  @Test
  void shouldFollowUpATenantAdminsErasureForItsOwnTenantOnly() throws Exception {
    Scenario acme = Scenario.of("tadm-shared", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    Caller acmeAdmin = new Caller("admin02", "alan", Role.ADMIN, "acme");

    Retention.Erased erased =
        new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
            .erase("tadm-shared", "DSR-acme-1", acmeAdmin);

    assertThat(erased.tenantId()).isEqualTo("acme");
    assertThat(count(tombstonedOf("tadm-shared", "beta"))).as("beta's records").isZero();
    assertThat(erasureNoticeTenants("tadm-shared")).containsExactly("acme");

    // Beta's release under the same id reaches the audit store after the erasure.
    AuditWriter later =
        new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(10), ZoneOffset.UTC));
    later.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(), otherTenantsRelease(acme, NOW.plusSeconds(5)))));
    List<Retention.Erased> followed =
        new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC), 0)
            .eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(followed).as("nothing of acme's arrived late").isEmpty();
    assertThat(count(tombstonedOf("tadm-shared", "beta"))).as("beta's records").isZero();
    assertThat(outbox("tadm-shared"))
        .extracting(ContentRetraction::getTenantId)
        .containsExactly("acme");
    assertThat(erasureNoticeTenants("tadm-shared")).containsExactly("acme");
    assertThat(
            count(
                "select count(*) from request_erasure where request_id = 'tadm-shared'"
                    + " and tenant_id = 'acme'"))
        .as("the erasure is noted for acme's follow-ups")
        .isEqualTo(1);
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  /**
   * A global admin's erasure that names no tenant erases every tenant's records under the id, now
   * and in its follow-ups, so the gate's notice names no tenant, also when the audit store holds
   * one tenant's records so far: another tenant's output, not yet read here, is then not released
   * by a gate keyed by tenant (reported by the fifty-first session's review: it named acme).
   */
  @Test
  void shouldTellTheGateOfEveryTenantWhenAGlobalAdminErasesARequestOfOneKnownTenant()
      throws Exception {
    Scenario acme = Scenario.of("gadm-shared", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));

    new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
        .erase("gadm-shared", "DSR-1", ADMIN);

    assertThat(erasureNoticeTenants("gadm-shared")).containsExactly(Retention.NO_TENANT);
    assertThat(outbox("gadm-shared"))
        .extracting(ContentRetraction::getTenantId)
        .containsExactly("acme");
  }

  /**
   * An admin's erasure of a request id two tenants use records one {@code requests.erase} action
   * per tenant, each counting its own tenant's tombstoned records alone (reported by the
   * fifty-first session's review: each counted both tenants' records).
   */
  @Test
  void shouldCountOnlyEachTenantsOwnRecordsInItsErasureAction() throws Exception {
    Scenario acme = Scenario.of("shared-count", "acme", Decision.RELEASE, NOW.minusSeconds(90));
    writer.write(AuditEvents.story(acme));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(), otherTenantsRelease(acme, NOW.minusSeconds(60)))));

    Retention.Erased erased =
        new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
            .erase("shared-count", "DSR-2026-52", ADMIN);

    long acmeCount = count(tombstonedOf("shared-count", "acme"));
    long betaCount = count(tombstonedOf("shared-count", "beta"));
    assertThat(betaCount).isEqualTo(1);
    assertThat(erased.tombstoned()).isEqualTo(acmeCount + betaCount);
    List<JsonNode> actions = erasureActions("shared-count");
    assertThat(actions)
        .extracting(a -> a.path("tenantId").asText())
        .containsExactly("acme", "beta");
    assertThat(actions.get(0).path("details").path("tombstoned").asLong()).isEqualTo(acmeCount);
    assertThat(actions.get(1).path("details").path("tombstoned").asLong()).isEqualTo(betaCount);
    assertThat(actions)
        .extracting(a -> a.path("details").path("reason").asText())
        .as("the admin's one reason")
        .containsOnly("DSR-2026-52");
  }

  private static String tombstonedOf(String requestId, String tenant) {
    return "select count(*) from audit_log where request_id = '"
        + requestId
        + "' and tenant_id = '"
        + tenant
        + "' and tombstone_seq is not null";
  }

  private static ReleaseGateOutcome otherTenantsRelease(Scenario s, Instant at) {
    return AuditEvents.otherTenantsOutcome(s, GateOutcome.RELEASED, GateBasis.VERDICT, null, at);
  }

  /** Tenant beta's quarantine, on a verdict, under the scenario's request id, as read. */
  private static io.genguard.audit.persistence.IncomingEvent otherTenantsQuarantine(
      Scenario s, Instant at) {
    return AuditEvents.incoming(
        Topics.CONTENT_QUARANTINED.name(),
        AuditEvents.otherTenantsOutcome(s, GateOutcome.QUARANTINED, GateBasis.VERDICT, null, at));
  }

  @Test
  void shouldTakeDownALateReleaseWhenTheRejectionIsReadAfterIt() throws Exception {
    Scenario late = Scenario.of("late-after", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    ReleaseGateOutcome release = AuditEvents.gateOutcome(late);
    writer.write(lateVerdictAndRelease(late));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-after'"
                    + " and state = 'RELEASED'"))
        .isEqualTo(1);

    // The REJECT a review tool sent before the release is read in a later batch.
    List<io.genguard.audit.persistence.IncomingEvent> rejected =
        List.of(rejection(late, "review-after"));
    writer.write(rejected);

    assertThat(outbox("late-after"))
        .singleElement()
        .satisfies(
            notice -> assertThat(notice.getReleasedEventId()).isEqualTo(release.getEventId()));
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and request_id = 'late-after' and caller_name = '"
                    + RejectedReleases.CALLER
                    + "' and details->>'reviewId' = 'review-after'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-after'"
                    + " and state = 'RETRACTED' and action = 'REJECT' and decided_by = 'review-tool'"))
        .isEqualTo(1);
    assertThat(writer.rejectedReleasesTakenDown()).isEqualTo(1);

    // Read again (a rebalance): skipped, so taken down once.
    assertThat(writer.write(rejected)).isZero();
    assertThat(count("select count(*) from content_retraction")).isEqualTo(1);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldLeaveAReleaseAPersonApprovedWhenAConflictingRejectionIsRead() throws Exception {
    // Released on an approval, a reviewer's REJECT of it read in the same batch.
    Scenario approved =
        Scenario.of("approved-same", "acme", Decision.REVIEW, NOW.minusSeconds(600));
    writer.write(AuditEvents.story(approved));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    approved, GateOutcome.RELEASED, GateBasis.REVIEW, "review-ok", NOW)),
            rejection(approved, "review-no")));
    // Released on a late verdict, approved by one tool and rejected by another afterwards.
    Scenario late = Scenario.of("late-approved", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    writer.write(lateVerdictAndRelease(late));
    writer.write(List.of(decision(late, "review-late-ok", ReviewAction.APPROVE)));
    writer.write(List.of(rejection(late, "review-late-no")));

    assertThat(count("select count(*) from content_retraction")).isZero();
    assertThat(
            count(
                "select count(*) from review_item where request_id in ('approved-same',"
                    + " 'late-approved') and state = 'RELEASED'"))
        .isEqualTo(2);
    assertThat(writer.rejectedReleasesTakenDown()).isZero();
  }

  @Test
  void shouldTakeDownARejectedOutputWhoseReleaseOnlyTheGatesRestatementShows() throws Exception {
    Scenario late = Scenario.of("late-restated", "acme", Decision.RELEASE, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(late));
    reviewQueue().decide("late-restated", ReviewAction.REJECT, null, RITA);
    ReleaseGateOutcome release = AuditEvents.gateOutcome(late);

    // The released outcome was lost; the gate restated the release when the output came again.
    writer.write(List.of(restated(late, release.getEventId(), GateBasis.VERDICT)));

    assertThat(outbox("late-restated"))
        .singleElement()
        .satisfies(
            notice -> assertThat(notice.getReleasedEventId()).isEqualTo(release.getEventId()));
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-restated'"
                    + " and state = 'RETRACTED'"))
        .isEqualTo(1);
  }

  @Test
  void shouldLeaveApprovedOutputsAsTheGateDecidedThemReleasedOrQuarantined() throws Exception {
    // Approved, then a late BLOCK verdict reached the gate first: quarantined, which fails closed.
    Scenario blocked = Scenario.of("late-block", "acme", Decision.BLOCK, NOW.minusSeconds(900));
    writer.write(AuditEvents.heldWithoutVerdict(blocked));
    reviewQueue().decide("late-block", ReviewAction.APPROVE, "satire", "", RITA);
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(blocked)),
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(), AuditEvents.gateOutcome(blocked))));
    // Approved and released on the approval, as usual.
    Scenario approved = Scenario.of("approved", "acme", Decision.REVIEW, NOW.minusSeconds(600));
    writer.write(AuditEvents.story(approved));
    ReviewQueue.Decided approval =
        reviewQueue().decide("approved", ReviewAction.APPROVE, "quoted from the news", RITA);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    approved, GateOutcome.RELEASED, GateBasis.REVIEW, approval.reviewId(), NOW))));
    // Rejected and quarantined on the rejection, as usual.
    Scenario refused = Scenario.of("refused", "acme", Decision.REVIEW, NOW.minusSeconds(300));
    writer.write(AuditEvents.story(refused));
    ReviewQueue.Decided rejection =
        reviewQueue().decide("refused", ReviewAction.REJECT, "harassment", RITA);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                AuditEvents.gateOutcome(
                    refused,
                    GateOutcome.QUARANTINED,
                    GateBasis.REVIEW,
                    rejection.reviewId(),
                    NOW))));

    assertThat(
            count(
                "select count(*) from review_item where request_id = 'late-block'"
                    + " and state = 'QUARANTINED' and action = 'APPROVE'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'approved'"
                    + " and state = 'RELEASED'"))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from review_item where request_id = 'refused'"
                    + " and state = 'QUARANTINED'"))
        .isEqualTo(1);
    assertThat(count("select count(*) from content_retraction")).isZero();
    assertThat(count("select count(*) from review_outbox where topic = 'content.retractions'"))
        .isZero();
    assertThat(writer.rejectedReleasesTakenDown()).isZero();
  }

  @Test
  void shouldKeepARequestReleasedWhenTheGateLaterQuarantinesACopyOlderThanItsMemory()
      throws Exception {
    Scenario released = Scenario.of("rel-copy", "acme", Decision.RELEASE, NOW.minusSeconds(60));
    writer.write(AuditEvents.story(released));
    // A copy read again after the gate forgot its decision: quarantined, never released twice.
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                AuditEvents.gateOutcome(
                    released,
                    io.genguard.events.v1.GateOutcome.QUARANTINED,
                    io.genguard.events.v1.GateBasis.INTEGRITY,
                    null,
                    NOW))));

    JsonNode story = new AuditQueries(database.dataSource()).story("rel-copy").orElseThrow();
    assertThat(story.path("gateOutcomes")).hasSize(2);
    assertThat(story.path("status").asText())
        .as("what was published stays published: the status says so")
        .isEqualTo("RELEASED");
    assertThat(
            new io.genguard.audit.query.OutputSearch(database.dataSource())
                .search(
                    new io.genguard.audit.query.SearchFilter(
                        "acme", null, "RELEASED", null, null, null, null, null, null),
                    null,
                    10)
                .items())
        .as("and search finds it among the released")
        .anySatisfy(item -> assertThat(item.path("requestId").asText()).isEqualTo("rel-copy"));
    Retractions.Retracted retracted =
        retractions.retract("rel-copy", "published, then found wrong", ADMIN);
    assertThat(retracted.basis()).isEqualTo(RetractionBasis.TAKEDOWN);
    // Search and its export say it was taken down, and find the taken down alone.
    var retractedOnes =
        new io.genguard.audit.query.OutputSearch(database.dataSource())
            .search(
                io.genguard.audit.query.SearchFilter.parse(
                    null, null, "RETRACTED", null, null, null, null, null),
                null,
                10)
            .items();
    assertThat(retractedOnes).hasSize(1);
    assertThat(retractedOnes.get(0).path("requestId").asText()).isEqualTo("rel-copy");
    assertThat(retractedOnes.get(0).path("outcome").asText()).isEqualTo("RELEASED");
    assertThat(retractedOnes.get(0).path("retractedAt").asText()).isNotEmpty();
    java.io.ByteArrayOutputStream csv = new java.io.ByteArrayOutputStream();
    io.genguard.audit.query.OutputExport.Writing writing =
        io.genguard.audit.query.OutputExport.csv(csv);
    new io.genguard.audit.query.OutputSearch(database.dataSource())
        .export(io.genguard.audit.query.SearchFilter.none(), 10, writing);
    writing.finish(1, false);
    String[] lines = csv.toString(java.nio.charset.StandardCharsets.UTF_8).split("\r\n");
    assertThat(lines[0])
        .startsWith("requestId,outputId,tenantId,decision,outcome,")
        .endsWith(",text,retractedAt,eventIdConflict,eventIdConflictUnexplained");
    assertThat(lines[1])
        .startsWith("rel-copy,")
        .contains(",RELEASED,")
        .containsPattern(",2026-12-05T10:00:00[.0-9]*Z,false,false$");
  }

  @Test
  void shouldTakeAReleasedOutputDownOnceWithItsReasonOnRecord() throws Exception {
    Scenario released = Scenario.of("rel", "acme", Decision.RELEASE, NOW.minusSeconds(60));
    writer.write(AuditEvents.story(released));
    writer.write(AuditEvents.story(Scenario.of("held", "acme", Decision.REVIEW, NOW)));

    Retractions.Retracted retracted = retractions.retract("rel", " ticket T-1182 ", ADMIN);

    assertThat(retracted.basis()).isEqualTo(RetractionBasis.TAKEDOWN);
    assertThat(retracted.outputId()).isEqualTo(released.outputId());
    assertThat(retracted.releasedEventId())
        .isEqualTo(AuditEvents.gateOutcome(released).getEventId());
    List<ContentRetraction> pending = outbox("rel");
    assertThat(pending)
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getActionId()).isEqualTo(retracted.actionId());
              assertThat(notice.getOutputId()).isEqualTo(released.outputId());
              assertThat(notice.getTenantId()).isEqualTo("acme");
              assertThat(notice.toString()).as("no reason on the topic").doesNotContain("T-1182");
            });
    JsonNode story = new AuditQueries(database.dataSource()).story("rel").orElseThrow();
    assertThat(story.path("status").asText()).isEqualTo("RETRACTED");
    assertThat(story.path("retractions").get(0).path("reason").asText()).isEqualTo("ticket T-1182");
    assertThat(story.path("retractions").get(0).path("retractedBy").asText()).isEqualTo("ada");

    assertThatThrownBy(() -> retractions.retract("rel", "again", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("retracted already")
        .hasMessageContaining(retracted.actionId());
    assertThatThrownBy(() -> retractions.retract("held", "why", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("no released output");
    assertThatThrownBy(() -> retractions.retract("nope", "why", ADMIN))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(
            () ->
                retractions.retract(
                    "held", "why", new Caller("admin02", "gil", Role.ADMIN, "globex")))
        .as("another tenant's request is not found")
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> retractions.retract("rel", "  ", ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("reason is required");
    assertThatThrownBy(() -> retractions.retract("rel", "two\nlines", ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("control character");
    assertThatThrownBy(() -> retractions.retract("rel", "x".repeat(2_001), ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("2001 characters");
    assertThat(count("select count(*) from api_action where action = 'requests.retract'"))
        .as("only the one that retracted")
        .isEqualTo(1);

    // The notice comes back from content.retractions into the chain; an erasure afterwards
    // neither retracts twice nor drops the notice still waiting in the outbox, nor the one in the
    // chain that shows the publishers were told.
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RETRACTIONS.name(), pending.get(0))));
    new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(5), ZoneOffset.UTC), 0)
        .erase("rel", "DSR-2026-7", ADMIN);
    assertThat(count("select count(*) from content_retraction")).isEqualTo(1);
    assertThat(outbox("rel")).containsExactly(pending.get(0));
    assertThat(
            count(
                "select count(*) from audit_log where event_type = 'ContentRetraction'"
                    + " and request_id = 'rel' and payload is not null"))
        .isEqualTo(1);
    JsonNode erased = new AuditQueries(database.dataSource()).story("rel").orElseThrow();
    assertThat(erased.path("status").asText()).isEqualTo("CONTENT_REMOVED");
    assertThat(erased.path("retractions")).hasSize(1);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * An admin's erasure of a request id two tenants use takes down the release on record, whichever
   * tenant it is: the tenant the erasure names is the lowest of its records' (acme, quarantined
   * here), not the one that released (beta). Found by the forty-eighth session's third review: the
   * tenant-scoped lookup then retracted nothing, and the erasure removed what would have shown it.
   */
  @Test
  void shouldRetractAnotherTenantsReleaseWhenAnAdminErasesASharedRequestId() throws Exception {
    Scenario acme = Scenario.of("shared-erase", "acme", Decision.BLOCK, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    Retention retention = new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0);

    Retention.Erased erased = retention.erase("shared-erase", "DSR-2026-48", ADMIN);

    assertThat(erased.retractedEventId()).isEqualTo(betaRelease.getEventId());
    assertThat(
            count(
                "select count(*) from content_retraction where request_id = 'shared-erase'"
                    + " and tenant_id = 'beta' and basis = 'ERASURE'"))
        .isEqualTo(1);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * An admin's erasure of a request id two tenants released under removes both tenants' records, so
   * retracts both releases and names both (reported by the forty-eighth session's reviews: it
   * retracted one, the erasure removing what would have shown the other).
   */
  @Test
  void shouldRetractEveryTenantsReleaseWhenAnAdminErasesASharedRequestId() throws Exception {
    Scenario acme =
        Scenario.of("shared-erase-both", "acme", Decision.RELEASE, NOW.minusSeconds(120));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    Retention retention = new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0);

    Retention.Erased erased = retention.erase("shared-erase-both", "DSR-2026-49", ADMIN);

    assertThat(
            count(
                "select count(*) from content_retraction where request_id = 'shared-erase-both'"
                    + " and basis = 'ERASURE'"))
        .isEqualTo(2);
    assertThat(outbox("shared-erase-both"))
        .extracting(ContentRetraction::getTenantId)
        .containsExactlyInAnyOrder("acme", "beta");
    String acmeRelease = AuditEvents.gateOutcome(acme).getEventId();
    assertThat(erased.retractedEventIds()).containsExactly(acmeRelease, betaRelease.getEventId());
    assertThat(erased.retractedEventId()).as("the old field: the first").isEqualTo(acmeRelease);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * The erasure's {@code requests.erase} action names each tenant's retraction it made, so the
   * chain alone proves what an erasure took down (found by the forty-ninth session's takedowns fix:
   * the action named none; only the retractions' rows, off the chain, tied them to it). Read back
   * from the action's record in the chain, also after a second erasure, which tombstones what it
   * can.
   */
  @Test
  void shouldNameEachTenantsRetractionInTheErasuresActionRecord() throws Exception {
    Scenario acme =
        Scenario.of("shared-erase-named", "acme", Decision.RELEASE, NOW.minusSeconds(90));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    String acmeRelease = AuditEvents.gateOutcome(acme).getEventId();

    new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
        .erase("shared-erase-named", "DSR-2026-50", ADMIN);
    new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(5), ZoneOffset.UTC), 0)
        .erase("shared-erase-named", "DSR-2026-50 again", ADMIN);

    // One action per tenant whose records an erasure removes (since the fiftieth session), each
    // naming its own tenant's retraction: acme's, then beta's, for each erasure.
    List<JsonNode> actions = erasureActions("shared-erase-named");
    assertThat(actions)
        .extracting(a -> a.path("tenantId").asText())
        .containsExactly("acme", "beta", "acme", "beta");
    List<ContentRetraction> notices = outbox("shared-erase-named");
    for (ContentRetraction notice : notices) {
      JsonNode own = actions.get(notice.getTenantId().equals("acme") ? 0 : 1);
      assertThat(own.path("details").path("retractions"))
          .as("the retraction of %s's release", notice.getTenantId())
          .singleElement()
          .satisfies(
              named -> {
                assertThat(named.path("tenantId").asText()).isEqualTo(notice.getTenantId());
                assertThat(named.path("releasedEventId").asText())
                    .isEqualTo(notice.getReleasedEventId());
                assertThat(named.path("retractionEventId").asText()).isEqualTo(notice.getEventId());
              });
      assertThat(notice.getActionId()).isEqualTo(own.path("actionId").asText());
    }
    assertThat(notices)
        .extracting(ContentRetraction::getReleasedEventId)
        .containsExactlyInAnyOrder(acmeRelease, betaRelease.getEventId());
    for (JsonNode second : actions.subList(2, 4)) {
      assertThat(second.path("details").path("retractions"))
          .as("the second erasure retracted nothing")
          .isEmpty();
    }
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();

    // Each tenant's story lists its own actions: with its own retraction alone, not the other
    // tenant's under the same request id.
    AuditQueries queries = new AuditQueries(database.dataSource());
    for (String tenant : List.of("acme", "beta")) {
      List<JsonNode> named = new ArrayList<>();
      for (JsonNode action :
          queries.story("shared-erase-named", tenant).orElseThrow().path("actions")) {
        if (action.path("action").asText().equals("requests.erase")) {
          action.path("details").path("retractions").forEach(named::add);
        }
      }
      assertThat(named)
          .as("the retractions %s's story shows", tenant)
          .allSatisfy(one -> assertThat(one.path("tenantId").asText()).isEqualTo(tenant));
      if (tenant.equals("acme")) {
        assertThat(named)
            .extracting(one -> one.path("releasedEventId").asText())
            .containsExactly(acmeRelease);
      }
    }
  }

  /**
   * An admin's erasure of a request id two tenants use removes both tenants' records, so each
   * tenant's story lists it, with its own retraction and the ids of its own outputs the erasure
   * removed (reported by the forty-ninth session: it was one action of the request's first tenant,
   * so beta's story showed the takedown in its retractions but no erasure; and no action named the
   * outputs).
   */
  @Test
  void shouldListAnAdminsErasureOfASharedRequestIdInEachTenantsStoryWithItsOutputs()
      throws Exception {
    Scenario acme =
        Scenario.of("shared-erase-story", "acme", Decision.RELEASE, NOW.minusSeconds(90));
    writer.write(AuditEvents.story(acme));
    ReleaseGateOutcome betaRelease = otherTenantsRelease(acme, NOW.minusSeconds(60));
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), betaRelease)));
    String acmeRelease = AuditEvents.gateOutcome(acme).getEventId();

    new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
        .erase("shared-erase-story", "DSR-2026-51", ADMIN);
    // The gate's notice names no tenant, so that a gate keyed by tenant (state format 4) erases
    // every tenant's entry under the id, not the lowest tenant's alone (fiftieth session's review).
    assertThat(erasureNoticeTenants("shared-erase-story")).containsExactly(Retention.NO_TENANT);

    AuditQueries queries = new AuditQueries(database.dataSource());
    for (String tenant : List.of("beta", "acme")) {
      JsonNode story = queries.story("shared-erase-story", tenant).orElseThrow();
      List<JsonNode> erasures = new ArrayList<>();
      for (JsonNode action : story.path("actions")) {
        if (action.path("action").asText().equals("requests.erase")) {
          erasures.add(action);
        }
      }
      assertThat(erasures).as("the erasures %s's story lists", tenant).hasSize(1);
      JsonNode erasure = erasures.get(0);
      assertThat(erasure.path("details").path("retractions"))
          .singleElement()
          .satisfies(
              one ->
                  assertThat(one.path("releasedEventId").asText())
                      .isEqualTo(tenant.equals("acme") ? acmeRelease : betaRelease.getEventId()));
      assertThat(story.path("retractions"))
          .singleElement()
          .satisfies(
              one ->
                  assertThat(one.path("actionId").asText())
                      .as("%s's takedown is by the erasure its story lists", tenant)
                      .isEqualTo(erasure.path("actionId").asText()));
      List<String> outputIds = new ArrayList<>();
      erasure.path("details").path("outputIds").forEach(id -> outputIds.add(id.asText()));
      assertThat(outputIds)
          .as("the outputs of %s the erasure removed", tenant)
          .isEqualTo(tenant.equals("acme") ? List.of(acme.outputId()) : List.of());
    }
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * A tenant the story's 409 names, whose records under the shared request id are chain records
   * only (here the gate's restatement of its release), gets its story with {@code ?tenant=}, as the
   * 409 tells: it got 404 (reported by the forty-ninth session).
   */
  @Test
  void shouldGiveATenantWhoseRecordsUnderASharedIdAreChainRecordsOnlyItsStory() throws Exception {
    Scenario acme =
        Scenario.of("shared-chain-only", "acme", Decision.RELEASE, NOW.minusSeconds(90));
    writer.write(AuditEvents.story(acme));
    Scenario beta =
        Scenario.of("shared-chain-only", "beta", Decision.RELEASE, NOW.minusSeconds(60));
    writer.write(List.of(restated(beta, null, null)));
    AuditQueries queries = new AuditQueries(database.dataSource());
    assertThatThrownBy(() -> queries.story("shared-chain-only"))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("acme, beta");

    JsonNode story = queries.story("shared-chain-only", "beta").orElseThrow();

    assertThat(story.path("tenantId").asText()).isEqualTo("beta");
    assertThat(story.path("request").isNull()).isTrue();
    assertThat(story.path("outputs")).isEmpty();
    assertThat(story.path("gateRestatements")).hasSize(1);
    assertThat(story.path("auditRecords"))
        .extracting(record -> record.path("eventType").asText())
        .containsExactly("GateDecisionRestated");
    assertThat(story.path("status").asText()).isEqualTo("RELEASED");
    assertThat(queries.story("shared-chain-only", "gamma"))
        .as("a tenant with no record under the id")
        .isEmpty();
  }

  @Test
  void shouldRetractWhatWasReleasedBeforeItsRequestWasErased() throws Exception {
    writer.write(
        AuditEvents.story(Scenario.of("rel-e", "acme", Decision.RELEASE, NOW.minusSeconds(60))));
    Retention retention = new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0);

    retention.erase("rel-e", "DSR-2026-8", ADMIN);

    assertThat(outbox("rel-e"))
        .singleElement()
        .satisfies(notice -> assertThat(notice.getBasis()).isEqualTo(RetractionBasis.ERASURE));
    assertThat(
            count(
                "select count(*) from content_retraction r join api_action a"
                    + " on a.action_id = r.action_id where r.request_id = 'rel-e'"
                    + " and r.basis = 'ERASURE' and a.action = 'requests.erase'"))
        .as("retracted by the erasure's own action")
        .isEqualTo(1);

    // Released just before the gate heard of the erasure: the outcome reaches the audit store
    // after it, and the follow-up that erases late records retracts it.
    Scenario late = Scenario.of("rel-late", "acme", Decision.RELEASE, NOW.minusSeconds(5));
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(late))));
    retention.erase("rel-late", "DSR-2026-9", ADMIN);
    assertThat(outbox("rel-late")).as("nothing released yet").isEmpty();
    new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC))
        .write(AuditEvents.story(late).subList(1, 4));
    new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0)
        .eraseLateRecords(Caller.system("erasure-follow-up"));
    assertThat(outbox("rel-late"))
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getBasis()).isEqualTo(RetractionBasis.ERASURE);
              assertThat(notice.getOutputId()).isEqualTo(late.outputId());
            });

    // Its outcome lost on the way, the release is known only from the gate's restatement, which
    // arrives after the erasure: the follow-up erases it and takes the release it names down.
    Scenario restatedLate =
        Scenario.of("rel-restated", "acme", Decision.RELEASE, NOW.minusSeconds(5));
    writer.write(AuditEvents.story(restatedLate).subList(0, 3));
    retention.erase("rel-restated", "DSR-2026-10", ADMIN);
    assertThat(outbox("rel-restated")).as("nothing released on record yet").isEmpty();
    String lostOutcome = UUID.randomUUID().toString();
    new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC))
        .write(List.of(restated(restatedLate, lostOutcome, GateBasis.VERDICT)));
    new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0)
        .eraseLateRecords(Caller.system("erasure-follow-up"));
    assertThat(outbox("rel-restated"))
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getBasis()).isEqualTo(RetractionBasis.ERASURE);
              assertThat(notice.getReleasedEventId()).isEqualTo(lostOutcome);
            });
    assertThat(count("select count(*) from gate_restatement where request_id = 'rel-restated'"))
        .as("erased with the rest of the request")
        .isZero();
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldRetractOnceWhenTwoAdminsTakeTheSameOutputDownAtOnce() throws Exception {
    writer.write(AuditEvents.story(Scenario.of("both", "acme", Decision.RELEASE, NOW)));
    Caller other = new Caller("admin03", "bo", Role.ADMIN, "acme");
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
      List<java.util.concurrent.Future<Retractions.Retracted>> calls = new ArrayList<>();
      for (Caller caller : List.of(ADMIN, other)) {
        calls.add(
            pool.submit(
                () -> {
                  start.await();
                  return retractions.retract("both", "complaint by " + caller.name(), caller);
                }));
      }
      start.countDown();
      int retracted = 0;
      int refused = 0;
      for (var call : calls) {
        try {
          call.get();
          retracted++;
        } catch (java.util.concurrent.ExecutionException e) {
          assertThat(e.getCause())
              .isInstanceOf(ConflictException.class)
              .hasMessageContaining("retracted already");
          refused++;
        }
      }
      assertThat(retracted).isEqualTo(1);
      assertThat(refused).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(outbox("both")).hasSize(1);
    assertThat(count("select count(*) from api_action where action = 'requests.retract'"))
        .isEqualTo(1);
  }

  @Test
  void shouldTakeDownWhatAPolicyReleasedInAWindowEachWithItsOwnAction() throws Exception {
    String faulty = "f".repeat(64);
    Instant from = NOW.minusSeconds(3600);
    List<String> inWindow = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Scenario s = Scenario.of("bad-" + i, "acme", Decision.RELEASE, from.plusSeconds(60 * i));
      inWindow.add(s.requestId());
      writer.write(underPolicy(s, faulty));
    }
    // Released under another file, before the window, for another tenant, and on review.
    writer.write(
        AuditEvents.story(
            Scenario.of("other-policy", "acme", Decision.RELEASE, from.plusSeconds(1))));
    writer.write(
        underPolicy(
            Scenario.of("too-early", "acme", Decision.RELEASE, from.minusSeconds(60)), faulty));
    writer.write(
        underPolicy(
            Scenario.of("globex-bad", "globex", Decision.RELEASE, from.plusSeconds(2)), faulty));
    Scenario reviewed = Scenario.of("reviewed", "acme", Decision.REVIEW, from.plusSeconds(3));
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(reviewed)),
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(reviewed)),
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                io.genguard.events.v1.ModerationVerdict.newBuilder(AuditEvents.verdict(reviewed))
                    .setPolicySha256(faulty)
                    .build()),
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    reviewed,
                    io.genguard.events.v1.GateOutcome.RELEASED,
                    io.genguard.events.v1.GateBasis.REVIEW,
                    "rev-1",
                    from.plusSeconds(300)))));
    Caller acmeAdmin = new Caller("admin04", "ann", Role.ADMIN, "acme");
    Retractions.Selection window = new Retractions.Selection(null, from, NOW, faulty, false);

    Retractions.Bulk dry = retractions.retractAll(window, null, true, acmeAdmin);
    assertThat(dry.requestIds())
        .as("a tenant's admin sees its own tenant's only; released on review left out")
        .containsExactlyElementsOf(inWindow);
    assertThat(count("select count(*) from content_retraction")).as("a dry run").isZero();
    assertThat(
            retractions
                .retractAll(
                    new Retractions.Selection(null, from, NOW, faulty, true), null, true, ADMIN)
                .requestIds())
        .as("everyone's, the reviewed one too")
        .containsExactlyInAnyOrder("bad-0", "bad-1", "bad-2", "globex-bad", "reviewed");
    assertThatThrownBy(() -> retractions.retractAll(window, " ", false, acmeAdmin))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("reason is required");
    assertThatThrownBy(
            () ->
                retractions.retractAll(
                    new Retractions.Selection("globex", from, NOW, null, false),
                    "x",
                    false,
                    acmeAdmin))
        .isInstanceOf(io.genguard.audit.security.ForbiddenException.class);
    assertThatThrownBy(() -> new Retractions.Selection(null, NOW, from, null, false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not before");
    assertThatThrownBy(() -> new Retractions.Selection(null, from, NOW, "F00D", false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("policySha256");
    assertThatThrownBy(() -> new Retractions.Selection(null, null, NOW, null, false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("decidedFrom and decidedBefore are required");

    Retractions.Bulk done =
        retractions.retractAll(window, "policy 2026.12-3 released slurs", false, acmeAdmin);
    assertThat(done.retracted())
        .extracting(Retractions.Retracted::requestId)
        .containsExactlyElementsOf(inWindow);
    assertThat(done.skipped()).isEmpty();
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and details -> 'selection' ->> 'policySha256' = '"
                    + faulty
                    + "' and details -> 'selection' ->> 'tenantId' = 'acme'"
                    + " and details ->> 'reason' = 'policy 2026.12-3 released slurs'"))
        .as("each request its own action, naming the selection")
        .isEqualTo(3);
    assertThat(retractions.retractAll(window, "again", false, acmeAdmin).requestIds())
        .as("nothing left to take down")
        .isEmpty();
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldTakeDownTheRequestsNamedAndSayWhyOthersWereSkipped() throws Exception {
    for (Scenario s :
        List.of(
            Scenario.of("named-1", "acme", Decision.RELEASE, NOW),
            Scenario.of("named-2", "acme", Decision.RELEASE, NOW),
            Scenario.of("named-held", "acme", Decision.REVIEW, NOW),
            Scenario.of("named-g", "globex", Decision.RELEASE, NOW))) {
      writer.write(AuditEvents.story(s));
    }
    retractions.retract("named-2", "earlier complaint", ADMIN);
    Caller acmeAdmin = new Caller("admin05", "amy", Role.ADMIN, "acme");
    List<String> named = List.of("named-1", "named-2", "named-held", "named-g", "nope", "named-1");

    Retractions.Bulk dry = retractions.retractEach(named, null, true, acmeAdmin);
    assertThat(dry.requestIds()).containsExactly("named-1");
    assertThat(dry.skipped())
        .containsOnlyKeys("named-2", "named-held", "named-g", "nope")
        .hasEntrySatisfying("named-2", why -> assertThat(why).contains("was retracted already at"))
        .hasEntrySatisfying(
            "named-held", why -> assertThat(why).contains("has no released output on record"))
        .hasEntrySatisfying("named-g", why -> assertThat(why).contains("may see"));
    Retractions.Bulk done =
        retractions.retractEach(named, "what-if of policy 2026.12-4: now BLOCK", false, acmeAdmin);
    assertThat(done.retracted())
        .extracting(Retractions.Retracted::requestId)
        .containsExactly("named-1");
    assertThat(done.skipped())
        .as("the real run skips with the same words as its dry run")
        .isEqualTo(dry.skipped());
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and request_id = 'named-1' and details -> 'selection' ->> 'requestIds' = '5'"
                    + " and details -> 'selection' ->> 'call' is not null"))
        .as("the ids named once each, and the call that named them")
        .isEqualTo(1);
    assertThatThrownBy(() -> retractions.retractEach(List.of(), "x", false, ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("1 to 1000");
    assertThatThrownBy(() -> retractions.retractEach(List.of("ok", "bad\0id"), "x", true, ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'bad\\u0000id' holds a NUL character");
    assertThatThrownBy(
            () ->
                retractions.retractEach(
                    java.util.Collections.nCopies(1_001, "named-1"), "x", true, ADMIN))
        .isInstanceOf(InvalidInputException.class);
  }

  @Test
  void shouldTakeDownAReleaseKnownOnlyFromTheGatesRestatementByTheOutcomeItNames()
      throws Exception {
    Instant from = NOW.minusSeconds(3_600);
    // Released, but the outcome never reached the audit store; sent the output again, the gate
    // restated its decision, naming the outcome it wrote.
    Scenario lost = Scenario.of("lost-rel", "acme", Decision.RELEASE, from.plusSeconds(10));
    ReleaseGateOutcome release = AuditEvents.gateOutcome(lost);
    writer.write(AuditEvents.story(lost).subList(0, 3));
    writer.write(List.of(restated(lost, release.getEventId(), GateBasis.VERDICT)));
    writer.write(List.of(restated(lost, release.getEventId(), GateBasis.VERDICT)));
    // Restated by a gate that decided before it named outcomes: nothing to name.
    Scenario older = Scenario.of("lost-old", "acme", Decision.RELEASE, from.plusSeconds(20));
    writer.write(AuditEvents.story(older).subList(0, 3));
    writer.write(List.of(restated(older, null, null)));
    // Released after a review: left out of a window unless reviewed ones are included.
    Scenario reviewed = Scenario.of("lost-rev", "acme", Decision.REVIEW, from.plusSeconds(30));
    writer.write(AuditEvents.story(reviewed).subList(0, 3));
    writer.write(List.of(restated(reviewed, "evt-reviewed-release", GateBasis.REVIEW)));

    // An outcome id no gate writes is refused by the store (the ingestor dead-letters the record),
    // instead of a takedown failing on it later.
    Scenario hostile = Scenario.of("lost-bad", "acme", Decision.RELEASE, from.plusSeconds(40));
    assertThatThrownBy(
            () -> writer.write(List.of(restated(hostile, "x".repeat(300), GateBasis.VERDICT))))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("gate_restatement");

    AuditQueries queries = new AuditQueries(database.dataSource());
    assertThat(queries.summary())
        .as("the totals count releases known only from a restatement")
        .containsEntry("released", 3L)
        .containsEntry("quarantined", 0L);
    JsonNode story = queries.story("lost-rel").orElseThrow();
    assertThat(story.path("status").asText()).isEqualTo("RELEASED");
    assertThat(story.path("gateRestatements"))
        .as("recorded once, with the outcome it names")
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.path("outcomeEventId").asText()).isEqualTo(release.getEventId());
              assertThat(r.path("outcomeBasis").asText()).isEqualTo("VERDICT");
              assertThat(r.path("seq").asLong()).isPositive();
            });
    OutputSearch search = new OutputSearch(database.dataSource());
    assertThat(
            search
                .search(
                    SearchFilter.parse(null, null, "RELEASED", null, null, null, null, null),
                    null,
                    10)
                .items())
        .as("search shows the restated decisions as the outcome, with basis RESTATED")
        .extracting(item -> item.path("requestId").asText() + " " + item.path("basis").asText())
        .containsExactlyInAnyOrder("lost-rel RESTATED", "lost-old RESTATED", "lost-rev RESTATED");
    assertThat(
            search
                .search(
                    SearchFilter.parse(null, null, "PENDING", null, null, null, null, null),
                    null,
                    10)
                .items())
        .as("none of them is pending")
        .isEmpty();

    Retractions.Selection window = new Retractions.Selection(null, from, NOW, null, false);
    assertThat(retractions.retractAll(window, null, true, ADMIN).requestIds())
        .as("a window takes the restated release that names its outcome, decided on a verdict")
        .containsExactly("lost-rel");
    assertThat(
            retractions
                .retractAll(
                    new Retractions.Selection(null, from, NOW, null, true), null, true, ADMIN)
                .requestIds())
        .containsExactly("lost-rel", "lost-rev");
    assertThatThrownBy(() -> retractions.retract("lost-old", "found wrong", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("restatement names no released outcome")
        .hasMessageContaining("by its request id");

    Retractions.Retracted retracted = retractions.retract("lost-rel", "found wrong", ADMIN);

    assertThat(retracted.releasedEventId()).isEqualTo(release.getEventId());
    assertThat(outbox("lost-rel"))
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getReleasedEventId()).isEqualTo(release.getEventId());
              assertThat(notice.getOutputId()).isEqualTo(lost.outputId());
            });
    assertThat(queries.story("lost-rel").orElseThrow().path("status").asText())
        .isEqualTo("RETRACTED");
    // The outcome record arrives after all: the same release, already taken down.
    writer.write(List.of(AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), release)));
    assertThatThrownBy(() -> retractions.retract("lost-rel", "again", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("was retracted already");
    assertThat(retractions.retractAll(window, null, true, ADMIN).requestIds()).isEmpty();
    assertThat(queries.summary()).as("counted once, by its record").containsEntry("released", 3L);
    assertThat(
            search
                .search(
                    SearchFilter.parse(null, null, "RETRACTED", null, null, null, null, null),
                    null,
                    10)
                .items())
        .singleElement()
        .satisfies(item -> assertThat(item.path("basis").asText()).isEqualTo("VERDICT"));
    // Erasing a request whose release is known only from a restatement retracts that release.
    new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
        .erase("lost-rev", "DSR-2026-12", ADMIN);
    assertThat(outbox("lost-rev"))
        .singleElement()
        .satisfies(
            notice -> {
              assertThat(notice.getBasis()).isEqualTo(RetractionBasis.ERASURE);
              assertThat(notice.getReleasedEventId()).isEqualTo("evt-reviewed-release");
            });
    assertThat(count("select count(*) from gate_restatement where request_id = 'lost-rev'"))
        .as("its restatement row goes with the rest of its query rows")
        .isZero();

    // The outcome of the release restated without a name arrives too (it was only late): its
    // record is shown, with its own basis and time, though the restatement's time is later.
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), AuditEvents.gateOutcome(older))));
    assertThat(
            search
                .search(
                    SearchFilter.parse(null, null, "RELEASED", null, null, null, null, null),
                    null,
                    10)
                .items())
        .extracting(item -> item.path("requestId").asText() + " " + item.path("basis").asText())
        .containsExactlyInAnyOrder("lost-rel VERDICT", "lost-old VERDICT");
    assertThat(queries.summary()).as("counted once, by its record").containsEntry("released", 2L);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldTellTheLatestDecisionWhenOnlyTheGatesRestatementOfItReachedTheStore()
      throws Exception {
    // Held for review, then quarantined by the reviewer; the quarantine never reached the store,
    // and the gate restated it when the output was sent again.
    Scenario held = Scenario.of("held-lost", "acme", Decision.REVIEW, NOW.minusSeconds(600));
    writer.write(AuditEvents.story(held));
    writer.write(
        List.of(
            restatedQuarantine(
                held, held.at().plusSeconds(120), "evt-review-quarantine", GateBasis.REVIEW)));
    AuditQueries queries = new AuditQueries(database.dataSource());
    assertThat(queries.story("held-lost").orElseThrow().path("status").asText())
        .as("not the hold that came before it")
        .isEqualTo("QUARANTINED");
    assertThat(
            new OutputSearch(database.dataSource())
                .search(
                    SearchFilter.parse(null, null, "QUARANTINED", null, null, null, null, null),
                    null,
                    10)
                .items())
        .extracting(item -> item.path("requestId").asText() + " " + item.path("basis").asText())
        .containsExactly("held-lost RESTATED");
    assertThat(queries.summary()).containsEntry("quarantined", 1L);

    // A restatement of a decision older than the outcome on record does not take its place.
    Scenario later =
        Scenario.of("quarantine-then-hold", "acme", Decision.REVIEW, NOW.minusSeconds(300));
    writer.write(AuditEvents.story(later));
    writer.write(
        List.of(
            restatedQuarantine(
                later, later.at().minusSeconds(60), "evt-older", GateBasis.VERDICT)));
    assertThat(queries.story("quarantine-then-hold").orElseThrow().path("status").asText())
        .isEqualTo("HELD_FOR_REVIEW");
  }

  /**
   * The gate's restatement of the scenario's release, naming {@code outcomeEventId} if not null.
   */
  private static io.genguard.audit.persistence.IncomingEvent restated(
      Scenario s, String outcomeEventId, GateBasis basis) {
    // Decided a moment after the outcome's own decidedAt: search must prefer an outcome record
    // that comes later for what it is, not for its time.
    return AuditEvents.incoming(
        Topics.GATE_RESTATEMENTS.name(),
        AuditEvents.restatedRelease(s, s.at().plusMillis(32), NOW, outcomeEventId, basis));
  }

  /**
   * The gate's restatement of a quarantine of the scenario's output decided at {@code decidedAt}.
   */
  private static io.genguard.audit.persistence.IncomingEvent restatedQuarantine(
      Scenario s, Instant decidedAt, String outcomeEventId, GateBasis basis) {
    return AuditEvents.incoming(
        Topics.GATE_RESTATEMENTS.name(),
        io.genguard.events.v1.GateDecisionRestated.newBuilder(
                AuditEvents.restatedRelease(s, decidedAt, NOW, outcomeEventId, basis))
            .setDecision(io.genguard.events.v1.RestatedDecision.QUARANTINED)
            .build());
  }

  /** The scenario's story, its verdict decided under the policy file {@code sha256}. */
  private static List<io.genguard.audit.persistence.IncomingEvent> underPolicy(
      Scenario s, String sha256) {
    List<io.genguard.audit.persistence.IncomingEvent> story = new ArrayList<>(AuditEvents.story(s));
    story.set(
        2,
        AuditEvents.incoming(
            Topics.MODERATION_VERDICTS.name(),
            io.genguard.events.v1.ModerationVerdict.newBuilder(AuditEvents.verdict(s))
                .setPolicySha256(sha256)
                .build()));
    return story;
  }

  /**
   * The scenario's verdict, come late, and the gate's release on it, read in one batch (after the
   * hold {@link AuditEvents#heldWithoutVerdict} wrote).
   */
  private static List<io.genguard.audit.persistence.IncomingEvent> lateVerdictAndRelease(
      Scenario s) {
    return List.of(
        AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(s)),
        AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), AuditEvents.gateOutcome(s)));
  }

  /** A review tool's REJECT of the scenario's output, as read from review.decisions. */
  private static io.genguard.audit.persistence.IncomingEvent rejection(
      Scenario s, String reviewId) {
    return decision(s, reviewId, ReviewAction.REJECT);
  }

  /** A review tool's decision on the scenario's output, as read from review.decisions. */
  private static io.genguard.audit.persistence.IncomingEvent decision(
      Scenario s, String reviewId, ReviewAction action) {
    return AuditEvents.incoming(
        Topics.REVIEW_DECISIONS.name(),
        io.genguard.events.v1.ReviewDecision.newBuilder()
            .setEventId("decision-" + reviewId)
            .setReviewId(reviewId)
            .setRequestId(s.requestId())
            .setOutputId(s.outputId())
            .setTenantId(s.tenantId())
            .setAction(action)
            .setReviewer("review-tool")
            .setNote("")
            .setDecidedAt(NOW.minusSeconds(60))
            .build());
  }

  /** The review queue, its outbox never started: the tests read what it would send. */
  private ReviewQueue reviewQueue() {
    if (reviewOutbox == null) {
      reviewOutbox =
          new ReviewOutbox(
              database.dataSource(),
              IntegrationInfrastructure.get().kafkaClientProperties(),
              Clock.fixed(NOW, ZoneOffset.UTC),
              Duration.ofSeconds(1));
    }
    return new ReviewQueue(
        database.dataSource(),
        reviewOutbox,
        Clock.fixed(NOW, ZoneOffset.UTC),
        Duration.ofMinutes(15));
  }

  /** The retraction notices waiting in the outbox for the request. */
  private List<ContentRetraction> outbox(String requestId) throws SQLException {
    List<ContentRetraction> notices = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload from review_outbox where topic = 'content.retractions'"
                    + " and request_id = '"
                    + requestId
                    + "' order by created_at")) {
      while (rs.next()) {
        notices.add(Topics.CONTENT_RETRACTIONS.codec().decode(rs.getBytes(1)));
      }
    }
    return notices;
  }

  /** The tenants the erasure notices for the release gate in the outbox name, in order. */
  private List<String> erasureNoticeTenants(String requestId) throws SQLException {
    List<String> tenants = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection();
        java.sql.PreparedStatement query =
            connection.prepareStatement(
                "select payload from review_outbox where topic = ? and request_id = ?"
                    + " order by created_at")) {
      query.setString(1, Topics.AUDIT_ERASURES.name());
      query.setString(2, requestId);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          tenants.add(Topics.AUDIT_ERASURES.codec().decode(rs.getBytes(1)).getTenantId());
        }
      }
    }
    return tenants;
  }

  /** The payloads of the request's {@code requests.erase} action records in the chain, in order. */
  private List<JsonNode> erasureActions(String requestId) throws Exception {
    List<JsonNode> actions = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection();
        java.sql.PreparedStatement select =
            connection.prepareStatement(
                "select payload from audit_log where request_id = ? and event_type = 'ApiAction'"
                    + " and payload::jsonb ->> 'action' = 'requests.erase' order by seq")) {
      select.setString(1, requestId);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          actions.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(rs.getString(1)));
        }
      }
    }
    return actions;
  }

  private long count(String sql) throws SQLException {
    return TestSql.count(database.dataSource(), sql);
  }
}
