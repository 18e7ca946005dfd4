package io.genguard.stack.cli;

import io.genguard.audit.InvalidInputException;
import io.genguard.audit.explain.RecordedVerdicts;
import io.genguard.audit.persistence.AuditDatabase;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** Which recorded verdicts {@code audit replay} and {@code audit what-if} judge again. */
final class RecordedSelection {
  static final int MAX_LIMIT = 10_000;

  @Option(
      names = "--request",
      paramLabel = "ID",
      description =
          "A request whose verdicts to judge (repeatable; refused, naming it, when one has no"
              + " verdict recorded). Default: the newest verdicts.")
  List<String> requests = new ArrayList<>();

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "100",
      description = "Without --request: how many verdicts (default 100, at most 10000).")
  int limit;

  @Option(
      names = "--tenant",
      paramLabel = "TENANT",
      description = "Without --request: only this tenant's verdicts.")
  String tenant;

  @Option(
      names = "--since",
      paramLabel = "INSTANT",
      description =
          "Without --request: only verdicts decided at or after this ISO-8601 UTC instant, e.g."
              + " 2026-12-01T00:00:00Z.")
  String since;

  @Option(
      names = "--until",
      paramLabel = "INSTANT",
      description = "Without --request: only verdicts decided before this ISO-8601 UTC instant.")
  String until;

  @Option(
      names = "--spread",
      description =
          "Without --request: take --limit verdicts spread over the whole selection (the same ones"
              + " every run) instead of the newest.")
  boolean spread;

  /**
   * The selected verdicts ({@link RecordedVerdicts}).
   *
   * @throws IllegalArgumentException for a limit out of range, options that do not go together, a
   *     tenant id that cannot be one, a window that ends before it starts, when none is recorded,
   *     or when a request asked for by --request has no verdict recorded (naming each)
   */
  List<RecordedVerdicts.Row> load(AuditDatabase db) throws SQLException {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "--limit must be from 1 to " + MAX_LIMIT + ", got " + limit);
    }
    RecordedVerdicts.Selection selection;
    try {
      selection =
          new RecordedVerdicts.Selection(
              requests,
              tenant,
              instant("--since", since),
              instant("--until", until),
              spread,
              limit);
    } catch (InvalidInputException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    List<RecordedVerdicts.Row> rows = RecordedVerdicts.load(db.dataSource(), selection);
    if (rows.isEmpty() && requests.isEmpty()) {
      throw new IllegalArgumentException(
          "The audit store holds no verdict to judge among " + selection.describe());
    }
    List<String> missing = missing(rows);
    if (!missing.isEmpty()) {
      // Refused whole: a summary of the others would read as if every request asked for was judged.
      Set<String> asked = new LinkedHashSet<>(requests);
      throw new IllegalArgumentException(
          "No verdict recorded for "
              + String.join(", ", missing)
              + " ("
              + missing.size()
              + " of the "
              + asked.size()
              + " requests asked for; a request without one was never judged, or retention"
              + " removed its verdict), so nothing was judged: check the ids, or leave those out");
    }
    return rows;
  }

  /** The requests asked for by --request that none of {@code rows} is a verdict of. */
  private List<String> missing(List<RecordedVerdicts.Row> rows) {
    Set<String> found = new HashSet<>();
    for (RecordedVerdicts.Row row : rows) {
      found.add(row.decoded().verdict().getRequestId().toString());
    }
    return new LinkedHashSet<>(requests).stream().filter(id -> !found.contains(id)).toList();
  }

  private static Instant instant(String option, String value) {
    if (value == null) {
      return null;
    }
    try {
      Instant instant = Instant.parse(value.trim());
      if (instant.isBefore(Instant.parse("0001-01-01T00:00:00Z"))
          || instant.isAfter(Instant.parse("9999-12-31T23:59:59Z"))) {
        throw new IllegalArgumentException(
            option + " '" + value + "' is outside the years 1 to 9999 the audit store records");
      }
      return instant;
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          option + " '" + value + "' is not an ISO-8601 UTC instant such as 2026-12-01T00:00:00Z");
    }
  }
}
