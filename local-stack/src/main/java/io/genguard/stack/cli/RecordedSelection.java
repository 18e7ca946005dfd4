package io.genguard.stack.cli;

import io.genguard.audit.explain.RecordedVerdicts;
import io.genguard.audit.persistence.AuditDatabase;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Which recorded verdicts {@code audit replay} and {@code audit what-if} judge again. */
final class RecordedSelection {
  static final int MAX_LIMIT = 10_000;

  @Option(
      names = "--request",
      paramLabel = "ID",
      description = "A request whose verdicts to judge (repeatable). Default: the newest verdicts.")
  List<String> requests = new ArrayList<>();

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "100",
      description =
          "Without --request: how many of the newest verdicts (default 100, at most 10000).")
  int limit;

  /**
   * The selected verdicts ({@link RecordedVerdicts}).
   *
   * @throws IllegalArgumentException for a limit out of range, or when none is recorded
   */
  List<RecordedVerdicts.Row> load(AuditDatabase db) throws SQLException {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "--limit must be from 1 to " + MAX_LIMIT + ", got " + limit);
    }
    List<RecordedVerdicts.Row> rows = RecordedVerdicts.load(db.dataSource(), requests, limit);
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(
          requests.isEmpty()
              ? "The audit store holds no verdict to judge"
              : "No verdict recorded for " + String.join(", ", requests));
    }
    return rows;
  }
}
