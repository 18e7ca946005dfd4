package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.release.Retractions;
import io.genguard.audit.security.Caller;
import io.genguard.schemas.BoundedFiles;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.TenantIds;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code genguard audit retract}: takes released outputs down from the command line, as {@code POST
 * /api/v1/requests/{id}/retract} and {@code POST /api/v1/retractions} do, for an incident script:
 * the requests named (on the line, or in a file such as {@code audit what-if --json}'s output), or
 * every output released in a window. Each comes down in its own transaction with its own {@code
 * requests.retract} action; the notices wait in the audit service's outbox, which a running audit
 * service sends to {@code content.retractions}.
 */
@Command(
    name = "retract",
    mixinStandardHelpOptions = true,
    description = {
      "Take released outputs down: those of the requests named (--request, --ids-from) or those"
          + " released in a window (--released-from, --released-before). Each is recorded as a"
          + " requests.retract action with the reason; the notices go out on content.retractions"
          + " from the audit service's outbox (a running audit service sends them within a"
          + " second). Prints one JSON object.",
      "A request id two tenants released under is taken down as the tenant named: --tenant for"
          + " every id named, or a line of --ids-from that names its own (requestId,tenantId, or"
          + " a JSON object's tenantId, as audit what-if --json prints it); named without one it"
          + " is skipped.",
      "Exit 0 = every one named or selected came down (or, with --dry-run, would), 4 = some"
          + " were skipped (not released, taken down already, not in the audit store), 3 = none"
          + " was named or selected, 1 = refused (the reason on standard error)."
    })
final class AuditRetractCommand implements Callable<Integer> {
  /** Largest --ids-from file read. */
  static final int MAX_IDS_FILE_BYTES = 16 << 20;

  /** Most requests one run takes down by id (the API's limit a call, times 100). */
  static final int MAX_IDS = 100 * Retractions.MAX_BULK;

  @Mixin AuditStoreOptions database;

  @Spec CommandSpec spec;

  @Option(
      names = "--request",
      paramLabel = "ID",
      description = "A request whose released output comes down (repeatable).")
  List<String> requests = new ArrayList<>();

  @Option(
      names = "--ids-from",
      paramLabel = "FILE",
      description =
          "Request ids to take down, one a line ('-' reads standard input): a bare id, an id and"
              + " its tenant (requestId,tenantId; neither holds a comma, so a line with two is"
              + " refused), or a JSON object with requestId (and tenantId, the tenant whose"
              + " release comes down). Lines of `audit what-if --json` count"
              + " only where the candidate policy would hold what was released (CHANGED from"
              + " RELEASE to REVIEW or BLOCK); its summary line is passed over. Blank lines and #"
              + " comments too.")
  String idsFrom;

  @Option(
      names = "--released-from",
      paramLabel = "INSTANT",
      description = "Released at or after this instant (ISO-8601, e.g. 2026-12-05T09:00:00Z).")
  Instant releasedFrom;

  @Option(
      names = "--released-before",
      paramLabel = "INSTANT",
      description = "Released before this instant.")
  Instant releasedBefore;

  @Option(
      names = "--tenant",
      description =
          "With a window: only this tenant's. With --request or --ids-from: the tenant whose"
              + " release of each id comes down (of an id two tenants released under, needed).")
  String tenant;

  @Option(
      names = "--policy-sha256",
      paramLabel = "SHA256",
      description = "With a window: only those whose verdict was decided under this policy file.")
  String policySha256;

  @Option(
      names = "--include-reviewed",
      description = "With a window: also those a person approved in review.")
  boolean includeReviewed;

  @Option(
      names = "--reason",
      description = "Why they come down; it stays in the chain (required unless --dry-run).")
  String reason;

  @Option(names = "--dry-run", description = "List what would come down; change nothing.")
  boolean dryRun;

  private final ObjectMapper mapper = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    boolean byWindow = releasedFrom != null || releasedBefore != null;
    boolean byIds = !requests.isEmpty() || idsFrom != null;
    if (byWindow == byIds) {
      throw new IllegalArgumentException(
          "Name the requests (--request ID, --ids-from FILE) or a release window"
              + " (--released-from and --released-before), one or the other");
    }
    if (byIds && (policySha256 != null || includeReviewed)) {
      throw new IllegalArgumentException(
          "--policy-sha256 and --include-reviewed select within a release window; requests named"
              + " by id are taken as named");
    }
    if (tenant != null) {
      requireTenant(tenant, "--tenant");
    }
    if (byWindow && (releasedFrom == null || releasedBefore == null)) {
      throw new IllegalArgumentException(
          "A release window needs both --released-from and --released-before");
    }
    if (!dryRun && (reason == null || reason.isBlank())) {
      throw new IllegalArgumentException(
          "--reason is required: why they come down (e.g. \"policy 2026-12-05.1 released hate,"
              + " ticket T-1182\"); it stays in the chain. --dry-run lists them without one");
    }
    // What the audit service would refuse, refused before the store is reached and naming the
    // flags: a usage error (exit 2), not a failed run.
    if (byWindow && !releasedFrom.isBefore(releasedBefore)) {
      throw new IllegalArgumentException(
          "--released-from "
              + releasedFrom
              + " is not before --released-before "
              + releasedBefore
              + "; the window would hold no release");
    }
    if (policySha256 != null && !ContentHash.isSha256Hex(policySha256)) {
      throw new IllegalArgumentException(
          "--policy-sha256 is not a policy file's SHA-256 (64 lowercase hex digits, as verdicts"
              + " carry it)");
    }
    if (!dryRun) {
      try {
        InvalidInputException.oneLine("--reason", reason.strip(), Retractions.MAX_REASON);
      } catch (InvalidInputException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
    Caller caller =
        Caller.system("audit retract (command line, user " + System.getProperty("user.name") + ")");
    Outcome outcome = new Outcome();
    try (AuditDatabase db = database.connect(false)) {
      Retractions retractions =
          new Retractions(
              db.dataSource(),
              Clock.systemUTC(),
              "--tenant TENANT with --request or --ids-from, or a requestId,tenantId line in the"
                  + " --ids-from file",
              // The command that shows a request's story (its records), not the API's path.
              requestId -> "./genguard audit evidence --request " + requestId + " --out FILE");
      if (byIds) {
        Named named = named();
        outcome.passedOver = named.passedOver();
        // In their order, in calls of at most MAX_BULK: a run of ids named without a tenant as
        // the API's requestIds, a run of releases each named with its tenant as its releases.
        List<Retractions.Selected> chunk = new ArrayList<>();
        for (Retractions.Selected release : named.releases()) {
          if (!chunk.isEmpty()
              && (chunk.size() == Retractions.MAX_BULK
                  || (chunk.get(0).tenantId() == null) != (release.tenantId() == null))) {
            outcome.add(retract(retractions, chunk, caller));
            chunk = new ArrayList<>();
          }
          chunk.add(release);
        }
        if (!chunk.isEmpty()) {
          outcome.add(retract(retractions, chunk, caller));
        }
      } else {
        Retractions.Selection selection =
            new Retractions.Selection(
                tenant, releasedFrom, releasedBefore, policySha256, includeReviewed);
        Retractions.Bulk bulk;
        do {
          bulk = retractions.retractAll(selection, reason, dryRun, caller);
          outcome.add(bulk);
          // What came down leaves the selection, so the next call selects the rest; a dry run
          // changes nothing, and a call that took none down would select the same again.
        } while (bulk.more() && !dryRun && !bulk.retracted().isEmpty());
        outcome.more = bulk.more();
      }
      outcome.noticesWaiting = noticesWaiting(db);
    }
    System.out.println(mapper.writeValueAsString(outcome.json(mapper, dryRun)));
    if (outcome.noticesWaiting > 0) {
      spec.commandLine()
          .getErr()
          .println(
              outcome.noticesWaiting
                  + " retraction notice(s) wait in the audit service's outbox for content.retractions;"
                  + " a running audit service sends them within a second");
    }
    if (!outcome.skipped.isEmpty()) {
      return 4;
    }
    return outcome.selected.isEmpty() ? 3 : 0;
  }

  /** One call taking down releases named alike: all with their tenant, or all without. */
  private Retractions.Bulk retract(
      Retractions retractions, List<Retractions.Selected> chunk, Caller caller)
      throws java.sql.SQLException {
    if (chunk.get(0).tenantId() == null) {
      return retractions.retractEach(
          chunk.stream().map(Retractions.Selected::requestId).toList(), reason, dryRun, caller);
    }
    return retractions.retractReleases(chunk, reason, dryRun, caller);
  }

  /** What the runs' calls did, together. */
  private static final class Outcome {
    final List<String> selected = new ArrayList<>();
    final List<Retractions.Retracted> retracted = new ArrayList<>();

    /**
     * Why, by request id: of a request id skipped more than once (for two tenants, or named with
     * and without one), every reason, each with its tenant ({@link #skippedBy}).
     */
    final Map<String, List<Retractions.Skipped>> skipped = new LinkedHashMap<>();

    final List<Retractions.Selected> releases = new ArrayList<>();
    final List<Retractions.Skipped> skippedReleases = new ArrayList<>();
    boolean more;
    int passedOver;
    long noticesWaiting;

    void add(Retractions.Bulk bulk) {
      selected.addAll(bulk.requestIds());
      retracted.addAll(bulk.retracted());
      // From each skipped release, not the call's map by request id, which keeps one reason of
      // an id skipped for two tenants; and added to, not put, so a later call's reason leaves an
      // earlier one's.
      for (Retractions.Skipped one : bulk.skippedReleases()) {
        skipped.computeIfAbsent(one.requestId(), id -> new ArrayList<>()).add(one);
      }
      releases.addAll(bulk.releases());
      skippedReleases.addAll(bulk.skippedReleases());
    }

    /**
     * The {@code skipped} printed: by request id, its reason; of one skipped more than once, each
     * reason after its tenant ("tenant acme: ...; tenant globex: ..."), none lost.
     */
    Map<String, String> skippedBy() {
      Map<String, String> byId = new LinkedHashMap<>();
      skipped.forEach(
          (id, ones) ->
              byId.put(
                  id,
                  ones.size() == 1
                      ? ones.get(0).reason()
                      : String.join(
                          "; ",
                          ones.stream()
                              .map(
                                  one ->
                                      (one.tenantId() == null
                                              ? "no tenant named"
                                              : "tenant " + one.tenantId())
                                          + ": "
                                          + one.reason())
                              .toList())));
      return byId;
    }

    ObjectNode json(ObjectMapper mapper, boolean dryRun) {
      ObjectNode out = mapper.createObjectNode();
      out.put("dryRun", dryRun);
      out.set("requestIds", mapper.valueToTree(selected));
      ArrayNode done = out.putArray("retracted");
      for (Retractions.Retracted one : retracted) {
        done.addObject()
            .put("requestId", one.requestId())
            .put("tenantId", one.tenantId())
            .put("outputId", one.outputId())
            .put("releasedEventId", one.releasedEventId())
            .put("basis", one.basis().name())
            .put("actionId", one.actionId())
            .put("retractedAt", one.retractedAt().toString());
      }
      out.set("skipped", mapper.valueToTree(skippedBy()));
      // As the API answers (forty-ninth session): each release with its tenant, since two tenants
      // may use one request id; requestIds and skipped stay for the scripts that read them.
      ArrayNode selectedReleases = out.putArray("releases");
      for (Retractions.Selected one : releases) {
        selectedReleases
            .addObject()
            .put("requestId", one.requestId())
            .put("tenantId", one.tenantId());
      }
      ArrayNode skippedOnes = out.putArray("skippedReleases");
      for (Retractions.Skipped one : skippedReleases) {
        skippedOnes
            .addObject()
            .put("requestId", one.requestId())
            .put("tenantId", one.tenantId())
            .put("reason", one.reason());
      }
      out.put("more", more);
      out.put("whatIfRowsNotHeld", passedOver);
      out.put("noticesWaiting", noticesWaiting);
      return out;
    }
  }

  /** Retraction notices in the outbox that no audit service has sent yet (this run's and older). */
  private static long noticesWaiting(AuditDatabase db) throws java.sql.SQLException {
    try (java.sql.Connection connection = db.dataSource().getConnection();
        java.sql.Statement statement = connection.createStatement();
        java.sql.ResultSet rs =
            statement.executeQuery(
                "select count(*) from review_outbox where topic = '"
                    + io.genguard.schemas.Topics.CONTENT_RETRACTIONS.name()
                    + "' and published_at is null")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * The releases named, each once, in order: a request id, and the tenant whose release comes down
   * (null where none was named: the only tenant's).
   *
   * @param passedOver lines of a what-if run that do not hold a released output
   */
  record Named(List<Retractions.Selected> releases, int passedOver) {
    /** The request ids named, in order (one named for two tenants twice). */
    List<String> ids() {
      return releases.stream().map(Retractions.Selected::requestId).toList();
    }
  }

  private Named named() throws IOException {
    Set<Retractions.Selected> releases = new LinkedHashSet<>();
    for (String id : requests) {
      releases.add(new Retractions.Selected(requireId(id, "--request"), tenant));
    }
    int passedOver = 0;
    if (idsFrom != null) {
      Named read = idsFrom.equals("-") ? read(System.in, "standard input") : read(Path.of(idsFrom));
      for (Retractions.Selected release : read.releases()) {
        releases.add(asTenant(release));
      }
      passedOver = read.passedOver();
    }
    if (releases.size() > MAX_IDS) {
      throw new IllegalArgumentException(
          releases.size()
              + " request ids named; one run takes at most "
              + MAX_IDS
              + ": split the list");
    }
    return new Named(List.copyOf(releases), passedOver);
  }

  /**
   * A release read from the file, as {@code --tenant}'s where the line names no tenant; refused
   * where it names another tenant than {@code --tenant}.
   */
  private Retractions.Selected asTenant(Retractions.Selected release) {
    if (tenant == null) {
      return release;
    }
    if (release.tenantId() == null) {
      return new Retractions.Selected(release.requestId(), tenant);
    }
    if (!release.tenantId().equals(tenant)) {
      throw new IllegalArgumentException(
          "--ids-from names request "
              + release.requestId()
              + " of tenant "
              + release.tenantId()
              + ", not of --tenant "
              + tenant
              + ": leave --tenant out to take each line's tenant, or split the file");
    }
    return release;
  }

  static Named read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--ids-from " + file + " is not a readable file");
    }
    try {
      return parse(BoundedFiles.readUtf8(file, MAX_IDS_FILE_BYTES), file.toString());
    } catch (BoundedFiles.TooLargeException e) {
      throw new IllegalArgumentException(tooLarge(file.toString()), e);
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(notUtf8(file.toString()), e);
    }
  }

  static Named read(InputStream in, String source) throws IOException {
    byte[] bytes = in.readNBytes(MAX_IDS_FILE_BYTES + 1);
    if (bytes.length > MAX_IDS_FILE_BYTES) {
      throw new IllegalArgumentException(tooLarge(source));
    }
    try {
      return parse(
          StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString(), source);
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(notUtf8(source), e);
    }
  }

  private static String tooLarge(String source) {
    return source + " is larger than " + (MAX_IDS_FILE_BYTES >> 20) + " MiB; split it";
  }

  private static String notUtf8(String source) {
    return source + " is not valid UTF-8 text";
  }

  /**
   * Ids a line, as {@code --ids-from} describes; refuses the input, naming the line, where a line
   * is neither an id, a JSON object with one, a what-if row nor its summary.
   */
  static Named parse(String text, String source) {
    // One object a line, whole: two objects pasted onto one line, or text after the object, are
    // refused rather than read as the first object alone.
    ObjectMapper mapper =
        new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    Set<Retractions.Selected> releases = new LinkedHashSet<>();
    int passedOver = 0;
    int number = 0;
    for (String line : text.lines().toList()) {
      number++;
      String where = source + " line " + number;
      String entry = line.strip();
      if (entry.isEmpty() || entry.startsWith("#")) {
        continue;
      }
      if (!entry.startsWith("{")) {
        // Read from the last comma: neither a request id nor a tenant id holds one, so a line
        // with two is refused for its request part, the one a comma cannot stand in.
        int comma = entry.lastIndexOf(',');
        releases.add(
            comma < 0
                ? new Retractions.Selected(requireId(entry, where), null)
                : new Retractions.Selected(
                    requireLineId(entry.substring(0, comma).strip(), where),
                    requireTenant(entry.substring(comma + 1).strip(), where)));
        continue;
      }
      JsonNode row;
      try {
        row = mapper.readTree(entry);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(where + " is not valid JSON: " + e.getOriginalMessage());
      }
      if (!row.isObject()) {
        throw new IllegalArgumentException(where + " is not a JSON object");
      }
      if (!row.has("requestId")) {
        if (row.has("verdicts") && row.has("policy")) {
          continue; // what-if's summary line
        }
        throw new IllegalArgumentException(
            where + " is a JSON object without requestId, so it names no request");
      }
      if (!row.get("requestId").isTextual()) {
        throw new IllegalArgumentException(where + ": requestId is not a string");
      }
      String id = requireId(row.get("requestId").asText(), where);
      String tenantId = null;
      if (row.hasNonNull("tenantId")) {
        if (!row.get("tenantId").isTextual()) {
          throw new IllegalArgumentException(where + ": tenantId is not a string");
        }
        tenantId = requireTenant(row.get("tenantId").asText(), where);
      }
      if (row.has("outcome") && !heldNowReleasedThen(row)) {
        passedOver++; // a what-if row whose candidate would not hold a released output
        continue;
      }
      releases.add(new Retractions.Selected(id, tenantId));
    }
    return new Named(List.copyOf(releases), passedOver);
  }

  /** A what-if row of a released output that the candidate would hold (REVIEW or BLOCK). */
  private static boolean heldNowReleasedThen(JsonNode row) {
    String candidate = row.path("candidate").asText("");
    return row.path("outcome").asText("").equals("CHANGED")
        && row.path("recorded").asText("").equals("RELEASE")
        && (candidate.equals("REVIEW") || candidate.equals("BLOCK"));
  }

  private static String requireTenant(String tenantId, String where) {
    if (!TenantIds.isValid(tenantId)) {
      throw refused(where, tenantId, 64, "is not a tenant id (" + TenantIds.RULE + ")");
    }
    return tenantId;
  }

  /** The request part of a {@code REQUEST,TENANT} line, refused with why where it holds a comma. */
  private static String requireLineId(String id, String where) {
    if (id.indexOf(',') >= 0) {
      throw refused(
          where,
          id,
          40,
          "holds a comma, and a request id holds none (1-128 letters, digits, '.', '_', ':' or"
              + " '-') nor does a tenant id: a line is REQUEST or REQUEST,TENANT, or a JSON"
              + " object {\"requestId\": ..., \"tenantId\": ...}");
    }
    return requireId(id, where);
  }

  private static String requireId(String id, String where) {
    if (!Cursor.ID.matcher(id).matches()) {
      throw refused(
          where, id, 40, "is not a request id (1-128 letters, digits, '.', '_', ':' or '-')");
    }
    return id;
  }

  /**
   * {@code value} refused at {@code where}: quoted, cut after {@code shown} characters, its control
   * characters as '?' (not echoed to the terminal), then {@code why}.
   */
  private static IllegalArgumentException refused(
      String where, String value, int shown, String why) {
    String cut = value.length() > shown ? value.substring(0, shown) + "..." : value;
    return new IllegalArgumentException(
        where + ": '" + cut.replaceAll("\\p{Cntrl}", "?") + "' " + why);
  }
}
