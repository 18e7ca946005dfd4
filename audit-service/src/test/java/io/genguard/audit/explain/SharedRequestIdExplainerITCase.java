package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.query.AuditQueries;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The background explainer of held verdicts with two tenants under one request id: acme's held
 * verdict, then beta's newer verdict under the same id (with its own output, output id and verdict
 * id). Each tenant's held verdict is explained as its own; another tenant's newer verdict neither
 * hides it nor is explained in its place.
 */
class SharedRequestIdExplainerITCase {
  private static final Instant T0 = Instant.parse("2026-11-20T09:00:00Z");
  private static final String REQUEST = "shared-held";

  private AuditDatabase database;
  private AuditWriter writer;

  @BeforeEach
  void acmesHeldVerdict(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("shared_explainer_", test),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2);
    writer = new AuditWriter(database.dataSource(), Clock.fixed(T0, ZoneOffset.UTC));
    writer.write(AuditEvents.story(acme()));
  }

  @AfterEach
  void close() {
    database.close();
  }

  private static Scenario acme() {
    return Scenario.of(REQUEST, "acme", Decision.BLOCK, T0);
  }

  /** Beta's output and verdict under acme's request id, decided 5 s after acme's. */
  private ModerationVerdict betasVerdict(Decision decision) throws Exception {
    Scenario beta =
        Scenario.of(REQUEST, "beta", decision, T0.plusSeconds(5)).withText("Beta's own output.");
    String outputId = EventIds.nameBased("output", REQUEST, "beta");
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(AuditEvents.verdict(beta))
            .setEventId(EventIds.nameBased("verdict-event", REQUEST, "beta"))
            .setVerdictId(EventIds.nameBased("verdict", REQUEST, "beta"))
            .setOutputId(outputId)
            .build();
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(beta))
                    .setEventId(EventIds.nameBased("output-event", REQUEST, "beta"))
                    .setOutputId(outputId)
                    .build()),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
    return verdict;
  }

  /** Runs one background round; every verdict is "explained" as a note naming it. */
  private void explainHeld() throws Exception {
    VerdictExplanations naming =
        (verdict, output) ->
            VerdictExplanations.Explanation.notExplained(
                "explained " + verdict.getVerdictId() + " of " + verdict.getTenantId());
    new RecordedExplanations(
            database.dataSource(),
            new AuditQueries(database.dataSource()),
            naming,
            Clock.fixed(T0.plusSeconds(60), ZoneOffset.UTC))
        .explainHeld(100, () -> true);
  }

  private static final String EXPLANATIONS =
      "select count(*) from api_action where action = 'requests.explain' and request_id = '"
          + REQUEST
          + "'";

  /**
   * Beta's newer verdict releases its own output: acme's held verdict is still the newest of acme's
   * request, and is explained. The search's "no newer verdict" check was by request id alone, so
   * beta's verdict hid acme's from the background explainer (fails without the fix: none recorded
   * against acme's verdict).
   */
  @Test
  void shouldExplainATenantsHeldVerdictThatAnotherTenantsNewerVerdictFollows() throws Exception {
    ModerationVerdict beta = betasVerdict(Decision.RELEASE);

    explainHeld();

    assertThat(
            count(
                EXPLANATIONS
                    + " and target = '"
                    + acme().verdictId()
                    + "' and tenant_id = 'acme'"
                    + " and details->>'detail' = 'explained "
                    + acme().verdictId()
                    + " of acme'"))
        .as("acme's held verdict is explained")
        .isEqualTo(1);
    assertThat(count(EXPLANATIONS + " and target = '" + beta.getVerdictId() + "'"))
        .as("beta's released verdict is not held")
        .isZero();
  }

  /**
   * Both verdicts held: each is explained, as its own tenant's. The explainer explained the newest
   * verdict of any tenant under the id, so acme's candidate showed beta's verdict, recorded as
   * beta's, and acme's verdict was never explained (fails without the fix).
   */
  @Test
  void shouldExplainEachTenantsHeldVerdictUnderOneRequestIdAsItsOwn() throws Exception {
    ModerationVerdict beta = betasVerdict(Decision.BLOCK);

    explainHeld();

    assertThat(
            count(
                EXPLANATIONS
                    + " and target = '"
                    + acme().verdictId()
                    + "' and tenant_id = 'acme'"
                    + " and details->>'detail' = 'explained "
                    + acme().verdictId()
                    + " of acme'"))
        .as("acme's held verdict is explained to acme")
        .isEqualTo(1);
    assertThat(
            count(
                EXPLANATIONS
                    + " and target = '"
                    + beta.getVerdictId()
                    + "' and tenant_id = 'beta'"
                    + " and details->>'explainedBefore' is null"))
        .as("beta's, once, as beta's")
        .isEqualTo(1);
    assertThat(count(EXPLANATIONS))
        .as("nothing else: acme's candidate did not show beta's verdict")
        .isEqualTo(2);
  }

  private long count(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
