package io.genguard.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * Which failures of a write the ingestor takes for a refusal of the batch (written one event at a
 * time, a refused event as a dead letter) and which for an outage (retried as it is).
 */
class AuditIngestorTest {
  private static SQLException failure(String state) {
    return new SQLException("failed", state);
  }

  @Test
  void shouldTakeACardinalityViolationForARefusalOfTheBatch() {
    // Two rows of one batch upserting one row: the same batch is refused on every retry.
    assertThat(AuditIngestor.refusesForContent(failure("21000"))).isTrue();
    assertThat(
            AuditIngestor.refusesForContent(
                new SQLException(
                    "wrapped", null, new BatchUpdateException("Batch entry 0", "21000", 0, null))))
        .as("found among the causes")
        .isTrue();
  }

  @Test
  void shouldTakeContentFailuresForRefusalsAndTheRestForOutages() {
    assertThat(AuditIngestor.refusesForContent(failure("22021"))).as("a NUL character").isTrue();
    assertThat(AuditIngestor.refusesForContent(failure("23502"))).as("a null id").isTrue();
    assertThat(AuditIngestor.refusesForContent(failure("54000"))).as("an index row").isTrue();
    assertThat(AuditIngestor.refusesForContent(failure("23505")))
        .as("a unique violation: judged by refuses()")
        .isFalse();
    assertThat(AuditIngestor.refusesForContent(failure("08006"))).as("connection lost").isFalse();
    assertThat(AuditIngestor.refusesForContent(failure("40P01"))).as("a deadlock").isFalse();
    assertThat(AuditIngestor.refusesForContent(failure("53100"))).as("disk full").isFalse();
    assertThat(AuditIngestor.refusesForContent(failure("42501")))
        .as("a missing grant: the same for every event, retried until fixed")
        .isFalse();
    assertThat(AuditIngestor.refusesForContent(failure(null))).isFalse();
  }
}
