package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.InvalidInputException;
import io.genguard.audit.explain.RecordedVerdicts.Selection;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.events.v1.Decision;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which recorded verdicts {@code audit replay}, {@code audit what-if} and the what-if route judge
 * again, on real PostgreSQL: the newest, one tenant's, a window's, or a sample spread over all of
 * them; given requests' alone.
 */
class RecordedVerdictsITCase {
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  private static AuditDatabase database;

  @BeforeAll
  static void store() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("recorded_verdicts_it");
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    // A quiet tenant on four days, recorded first; then a busy one, one request a day for 40 days.
    List<IncomingEvent> events = new ArrayList<>();
    for (int day = 0; day < 4; day++) {
      events.addAll(AuditEvents.story(scenario("quiet-" + day, "quiet", day)));
    }
    for (int day = 0; day < 40; day++) {
      events.addAll(AuditEvents.story(scenario("busy-" + day, "busy", day)));
    }
    new AuditWriter(database.dataSource(), Clock.systemUTC()).write(events);
  }

  private static Scenario scenario(String requestId, String tenant, int day) {
    return Scenario.of(requestId, tenant, Decision.RELEASE, T0.plus(Duration.ofDays(day)));
  }

  @AfterAll
  static void close() {
    database.close();
  }

  private static List<String> requests(Selection selection) throws Exception {
    return RecordedVerdicts.load(database.dataSource(), selection).stream()
        .map(row -> row.decoded().verdict().getRequestId())
        .toList();
  }

  private static Selection select(
      String tenant, Instant since, Instant until, boolean spread, int limit) {
    return new Selection(List.of(), tenant, since, until, spread, limit);
  }

  @Test
  void shouldTakeTheNewestVerdictsNewestFirst() throws Exception {
    assertThat(requests(Selection.newest(3))).containsExactly("busy-39", "busy-38", "busy-37");
  }

  @Test
  void shouldFindAQuietTenantThatTheNewestVerdictsLeaveOut() throws Exception {
    assertThat(requests(Selection.newest(10))).noneMatch(id -> id.startsWith("quiet-"));
    assertThat(requests(select("quiet", null, null, false, 10)))
        .containsExactly("quiet-3", "quiet-2", "quiet-1", "quiet-0");
    assertThat(requests(select("nobody", null, null, false, 10))).isEmpty();
  }

  @Test
  void shouldTakeOnlyVerdictsDecidedInTheWindow() throws Exception {
    Instant since = T0.plus(Duration.ofDays(10));
    Instant until = T0.plus(Duration.ofDays(20));
    List<String> window = requests(select(null, since, until, false, 100));
    assertThat(window).hasSize(10).first().isEqualTo("busy-19");
    assertThat(window).last().isEqualTo("busy-10");
    // The start is in the window, the end is not; a tenant narrows it further.
    assertThat(requests(select("quiet", T0.plus(Duration.ofDays(1)), null, false, 100)))
        .containsExactly("quiet-3", "quiet-2", "quiet-1");
    assertThat(requests(select("quiet", null, T0.plus(Duration.ofDays(1)), false, 100)))
        .containsExactly("quiet-0");
  }

  @Test
  void shouldSpreadASampleOverEverythingRecordedTheSameEveryTime() throws Exception {
    List<String> sample = requests(select(null, null, null, true, 10));
    assertThat(sample).hasSize(10).doesNotHaveDuplicates();
    assertThat(requests(select(null, null, null, true, 10))).isEqualTo(sample);
    // Not the newest ten: the sample reaches back over the whole store, and is shown newest first.
    assertThat(sample).isNotEqualTo(requests(Selection.newest(10)));
    assertThat(sample).anyMatch(id -> day(id) < 30);
    List<String> newestFirst = new ArrayList<>(sample);
    newestFirst.sort(
        java.util.Comparator.comparing((String id) -> id.startsWith("busy-"))
            .thenComparingInt(RecordedVerdictsITCase::day)
            .reversed());
    assertThat(sample).isEqualTo(newestFirst);
    // A sample as large as the selection is all of it.
    assertThat(requests(select("quiet", null, null, true, 10)))
        .containsExactly("quiet-3", "quiet-2", "quiet-1", "quiet-0");
  }

  private static int day(String requestId) {
    return Integer.parseInt(requestId.substring(requestId.indexOf('-') + 1));
  }

  @Test
  void shouldTakeGivenRequestsInChainOrder() throws Exception {
    assertThat(requests(Selection.of(List.of("busy-5", "quiet-2", "missing"))))
        .containsExactly("quiet-2", "busy-5");
  }

  @Test
  void shouldRefuseASelectionThatCannotMeanAnything() {
    assertThatThrownBy(() -> new Selection(List.of("busy-5"), "busy", null, null, false, 10))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("either by request or by tenant");
    assertThatThrownBy(() -> select("no spaces allowed", null, null, false, 10))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not a tenant id");
    assertThatThrownBy(() -> select(null, T0, T0, false, 10))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("must be before until");
    assertThat(select("busy", T0, null, true, 5).describe())
        .isEqualTo("5 verdicts spread over those of tenant busy decided from " + T0);
    assertThat(select("busy", T0, null, true, 5).toMap())
        .containsExactly(
            java.util.Map.entry("tenantId", "busy"),
            java.util.Map.entry("since", T0.toString()),
            java.util.Map.entry("sample", "spread"),
            java.util.Map.entry("limit", 5));
  }
}
