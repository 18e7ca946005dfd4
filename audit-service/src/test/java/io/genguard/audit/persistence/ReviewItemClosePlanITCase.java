package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.PlanDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit writer closes a batch's review items in one statement ({@link
 * AuditWriter#CLOSE_FINALS}), driven by the batch's final outcomes: PostgreSQL reads review_item
 * through an index (its primary key, or the open items' state), never the whole table, on a table
 * of 100,000 items, whether a tenth of them or all are open.
 */
class ReviewItemClosePlanITCase {
  private static final Logger LOG = LoggerFactory.getLogger(ReviewItemClosePlanITCase.class);
  private static final int ITEMS = 100_000;
  private static PlanDatabase database;

  @BeforeAll
  static void seed() throws Exception {
    database = PlanDatabase.create("review_item_close_plan_it");
    // A held outcome per record, and an item for each, of two tenants; nine in ten are closed.
    database.seed(
        ITEMS,
        "'held-' || g",
        "'ReleaseGateOutcome'",
        "case when g % 2 = 0 then 'acme' else 'beta' end",
        "'item-' || g",
        "'content.held'",
        "'{}'",
        "insert into review_item (request_id, output_id, tenant_id, verdict_id, gate_event_id,"
            + " held_at, state) select request_id, 'output-' || seq, tenant_id, 'verdict-' || seq,"
            + " event_id, now(), case when seq % 10 = 0 then 'PENDING' else 'RELEASED' end"
            + " from audit_log",
        "analyze review_item");
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void closingABatchsItemsReadsReviewItemThroughAnIndex() throws Exception {
    // A tenth of the items open (PENDING): a batch of 500 finals and one of 20.
    assertReadThroughAnIndex(plan(500), "500 finals, a tenth of the items open");
    assertReadThroughAnIndex(plan(20), "20 finals, a tenth of the items open");
    // Every item open (a queue nobody works on).
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("update review_item set state = 'PENDING'");
      statement.execute("analyze review_item");
    }
    assertReadThroughAnIndex(plan(500), "500 finals, every item open");
  }

  /** The plan of the close of {@code finals} finals, most for requests never held. */
  private static String plan(int finals) throws Exception {
    String[] requests =
        IntStream.rangeClosed(1, finals).mapToObj(i -> "item-" + (i * 97)).toArray(String[]::new);
    String[] tenants =
        IntStream.rangeClosed(1, finals)
            .mapToObj(i -> i % 2 == 0 ? "acme" : "beta")
            .toArray(String[]::new);
    String[] outcomes =
        IntStream.rangeClosed(1, finals).mapToObj(i -> "RELEASED").toArray(String[]::new);
    return database.plan(
        AuditWriter.CLOSE_FINALS,
        (connection, statement) -> {
          statement.setArray(1, connection.createArrayOf("text", requests));
          statement.setArray(2, connection.createArrayOf("text", tenants));
          statement.setArray(3, connection.createArrayOf("text", outcomes));
        });
  }

  private static void assertReadThroughAnIndex(String plan, String shape) {
    LOG.info("Plan of the review items' close on {} items, {}:\n{}", ITEMS, shape, plan);
    assertThat(plan)
        .as("plan of the writer's close of a batch's review items, " + shape)
        .doesNotContain("Seq Scan on review_item")
        .containsPattern("(Index|Index Only|Bitmap Index) Scan (using|on) review_item_\\w+");
  }
}
