package io.genguard.audit.evidence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AuditChain;
import io.genguard.audit.persistence.RequestOwner;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.query.EventIdConflicts;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.audit.retention.Retention;
import io.genguard.schemas.ContentHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * An evidence bundle: what the audit chain recorded about one request (its request, output,
 * verdict, gate outcome, review and the actions on it), with what a third party needs to check,
 * without access to the database, that these are the records the chain holds and that the chain
 * held them when a signed anchor line was written. {@link EvidenceCheck} checks one.
 *
 * <p>Format {@value #FORMAT}, one JSON object:
 *
 * <ul>
 *   <li>{@code requestId}, {@code tenantId}, {@code issuedAt}, {@code issuedBy};
 *   <li>{@code records}: each {@code {seq, eventType, recordedAt, canonical}}, where {@code
 *       canonical} is the record's canonical JSON exactly as the chain hashed it. For a record of
 *       chain version 2 its {@code payload} field is the event as canonical JSON text; a record of
 *       chain version 3 (since format 4) holds the event's SHA-256 there ({@code payloadSha256}),
 *       and the bundle record carries the event itself as {@code payload}. A record whose content
 *       retention removed has {@code removedAt} and {@code removedBySeq} (the seq of the retention
 *       or erasure record that removed it); one of chain version 2 has no {@code canonical} then,
 *       one of version 3 keeps it (without {@code payload}), which proves the removed record's
 *       request, tenant, type and time. Since format 2 also the bulk actions that dismissed one of
 *       the request's unfinished flows or sent it again, every one of them ({@code ApiAction}
 *       records of no request, whose selection covers the flow's {@code FlowUnfinished} record);
 *       since format 3 also the retention records ({@code RetentionApplied} records of no request)
 *       that removed the content of its records, so that every removal is accounted for in the
 *       bundle (an erasure's record is the request's own). In a bundle for a tenant's token, a
 *       default-period retention record that lists the tenants with periods of their own ({@code
 *       excludedTenants}: other customers' ids) has {@code withheld} (why) instead of {@code
 *       canonical}: its place is in a segment, its content is not, and the check shows it, and the
 *       removals it made, as not proven;
 *   <li>{@code segments}: each {@code {prevHash, firstSeq, digests, anchor}}: the hash of the
 *       record before {@code firstSeq}, the SHA-256 digest of every record from {@code firstSeq} to
 *       the anchor's seq (the bundle's own records and, for the records between them, only their
 *       digests, which show nothing of other requests), and the anchor line that covers them, as
 *       the anchor file holds it;
 *   <li>{@code notAnchored}: seqs of records newer than the newest anchor line, shown but not
 *       proven;
 *   <li>{@code throughSeq}, when the issuer anchored the head for the bundle (the API does): the
 *       records are those of the chain up to that seq, and the retention or erasure records that
 *       removed their content; records of the request appended after it are in a later bundle;
 *   <li>{@code policies}: the policy files the verdicts name, {@code {sha256, text}}, when the
 *       archive holds them and the caller may see them;
 *   <li>{@code eventIdConflicts} (since the forty-sixth session, in format 4, which older checkers
 *       read without it): the other content read under the id of one of the request's records, or
 *       naming the request under a recorded id ({@link EventIdConflicts}; {@code payload} is its
 *       canonical JSON text). Not on the hash chain, so no digest or anchor covers them: the check
 *       counts them and says they are not proven; a record they contest is proven as recorded, and
 *       a row that contradicts it (event id, seq, recorded payload SHA-256) is a problem.
 * </ul>
 *
 * <p>Checking: for each segment, {@code h = prevHash}, then for each digest {@code d} in order
 * {@code h = SHA-256(h || d)}; {@code h} must be the anchor line's hash at its seq, and the line's
 * Ed25519 signature must hold with a key the checker trusts (the anchor file's {@code .keys}, kept
 * apart from the service). Each record's {@code SHA-256(canonical)} must be the digest at its seq.
 * A bundle's size grows with the records written between a request's records and the anchor after
 * them (at most one anchor interval's worth a segment).
 */
public final class EvidenceBundle {
  /**
   * The format this build writes (since the fortieth session): the third, with records of chain
   * version 3 (canonical text with the event's SHA-256, the event beside it; a removed record's
   * canonical text kept). The third added to the second the retention records that removed the
   * content of the request's records (records of no request, each the {@code removedBySeq} of one
   * of its records).
   */
  public static final String FORMAT = "genguard-evidence-4";

  /**
   * The third format (the thirty-sixth to the thirty-ninth session), which this build still reads:
   * the fourth without records of chain version 3.
   */
  public static final String FORMAT_3 = "genguard-evidence-3";

  /**
   * The second format (the thirtieth to the thirty-fifth session), which this build still reads:
   * the first, plus the bulk actions on the request's unfinished flows (records of no request, each
   * covering one of its {@code FlowUnfinished} records).
   */
  public static final String FORMAT_2 = "genguard-evidence-2";

  /** The first format (before the thirtieth session), which this build still reads. */
  public static final String FORMAT_1 = "genguard-evidence-1";

  /** Most records one bundle holds (a request has a handful). */
  public static final int MAX_RECORDS = 10_000;

  /** Most digests one bundle holds (67 bytes each as JSON: about 130 MB). */
  public static final long MAX_LINKS = 2_000_000;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private EvidenceBundle() {}

  /** A bundle that cannot be made as asked; the message says why and what to do. */
  public static final class EvidenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EvidenceException(String message) {
      super(message);
    }
  }

  /**
   * What to put in a bundle.
   *
   * @param requestId the request
   * @param tenantScope only a record of this tenant may be shown (null: any)
   * @param tenant whose records, where two tenants use the request id: that tenant's records and
   *     those of no tenant (null: every record under the id, as before the fiftieth session, when
   *     only one tenant has records under it)
   * @param anchorFile the audit service's anchor file
   * @param policies the archive to take the verdicts' policy files from; null to leave them out
   * @param issuedBy who asked, as the bundle names them
   * @param maxLinks most digests the bundle may hold
   * @param throughSeq the last seq whose records the bundle shows (the head just anchored), null
   *     for every record: records appended after it (an erasure's notice read back from its topic
   *     while the bundle is made) are left for a later bundle, rather than shown as not anchored
   */
  public record Request(
      String requestId,
      String tenantScope,
      String tenant,
      Path anchorFile,
      PolicyArchive policies,
      String issuedBy,
      long maxLinks,
      Long throughSeq) {

    /** The records {@code tenantScope} may see (its own tenant's, or every tenant's). */
    public Request(
        String requestId,
        String tenantScope,
        Path anchorFile,
        PolicyArchive policies,
        String issuedBy,
        long maxLinks,
        Long throughSeq) {
      this(
          requestId,
          tenantScope,
          tenantScope,
          anchorFile,
          policies,
          issuedBy,
          maxLinks,
          throughSeq);
    }

    /** Every record of the request, anchored or not (the command line's bundle). */
    public Request(
        String requestId,
        String tenantScope,
        Path anchorFile,
        PolicyArchive policies,
        String issuedBy,
        long maxLinks) {
      this(requestId, tenantScope, anchorFile, policies, issuedBy, maxLinks, null);
    }
  }

  /**
   * Why a default-period retention record is withheld from a tenant's bundle: its content names the
   * tenants with periods of their own.
   */
  public static final String WITHHELD_OTHER_TENANTS =
      "withheld from a tenant's bundle: this default-period retention record lists the tenants"
          + " with retention periods of their own (excludedTenants), other customers' ids; the"
          + " bundle of a global compliance token holds it, and proves the removals it made";

  /**
   * Why an erasure record is withheld from one tenant's bundle: it erased a request id two tenants
   * use and names the other tenant (the checks tie a request's records to the bundle's tenant). An
   * erasure written before the fifty-first session is such a record (one, naming the lowest tenant,
   * for every tenant's records); since then such an erasure writes one record per tenant, each in
   * its own tenant's bundle.
   */
  public static final String WITHHELD_OTHER_TENANTS_ERASURE =
      "withheld from this tenant's bundle: this erasure removed the records of every tenant using"
          + " the request id and names another of them; that tenant's bundle (for a global"
          + " compliance token) holds it, and proves the removals it made";

  /**
   * Makes the bundle of a request.
   *
   * @return empty when the chain holds no record of the request that the scope may see
   * @throws EvidenceException when the chain does not reach an anchor it should (changed since), a
   *     record cannot be proven this way, or the bundle would exceed {@code maxLinks}
   */
  public static Optional<ObjectNode> build(DataSource dataSource, Request request, Instant now)
      throws SQLException, IOException {
    return build(dataSource, request, now, null);
  }

  /**
   * Makes the bundle of a request in one transaction, each of whose statements may run at most
   * {@code readTimeout}.
   *
   * @param readTimeout how long each statement may run; null for no limit of its own (the command
   *     line's)
   * @return empty when the chain holds no record of the request that the scope may see
   * @throws EvidenceException when the chain does not reach an anchor it should (changed since), a
   *     record cannot be proven this way, or the bundle would exceed {@code maxLinks}
   * @throws QueryTimedOutException when PostgreSQL cancelled a statement after the read timeout
   */
  public static Optional<ObjectNode> build(
      DataSource dataSource, Request request, Instant now, ReadTimeout readTimeout)
      throws SQLException, IOException {
    try {
      return read(
          dataSource,
          readTimeout,
          connection -> {
            // The command line's bundle (no tenant named) holds every record under the id.
            Optional<RequestOwner> subject =
                request.tenant() == null
                    ? RequestOwner.find(connection, request.requestId(), request.tenantScope())
                    : owner(connection, request.requestId(), request.tenant());
            if (subject.isEmpty()) {
              return Optional.empty();
            }
            try {
              return Optional.of(bundle(connection, request, subject.get().tenantId(), now));
            } catch (IOException e) {
              throw new UncheckedIOException(e); // out of the transaction, then thrown as it was
            }
          });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static ObjectNode bundle(
      Connection connection, Request request, String tenant, Instant now)
      throws SQLException, IOException {
    List<Row> rows =
        records(
            connection,
            request.requestId(),
            request.tenantScope(),
            request.tenant(),
            request.throughSeq());
    Map<Long, AnchorLog.AnchorLine> anchors = covering(request.anchorFile(), rows);
    ObjectNode bundle = NODES.objectNode();
    bundle.put("format", FORMAT);
    bundle.put("requestId", request.requestId());
    bundle.put("tenantId", tenant);
    bundle.put("issuedAt", now.toString());
    bundle.put("issuedBy", request.issuedBy());
    if (request.throughSeq() != null) {
      bundle.put("throughSeq", request.throughSeq());
    }
    ArrayNode records = bundle.putArray("records");
    ArrayNode notAnchored = NODES.arrayNode();
    Set<String> policies = new LinkedHashSet<>();
    for (Row row : rows) {
      records.add(row.json(policies));
      if (!anchors.containsKey(row.seq())) {
        notAnchored.add(row.seq());
      }
    }
    bundle.set("segments", segments(connection, rows, anchors, request.maxLinks()));
    bundle.set("notAnchored", notAnchored);
    // Not on the chain, so not covered by the segments' digests nor by anything else the check
    // proves: shown on the issuer's word, so that a reviewer sees that a record was contested.
    // A tenant's bundle lists that tenant's conflicts as its story does, as seen by that tenant
    // (another tenant's content withheld), a global token's too: before the fifty-first session
    // a global token's bundle of one tenant listed every tenant's, with their content.
    String view = request.tenant() != null ? request.tenant() : request.tenantScope();
    bundle.set(
        "eventIdConflicts",
        EventIdConflicts.of(connection, request.requestId(), request.tenant(), view, true));
    ArrayNode files = bundle.putArray("policies");
    if (request.policies() != null) {
      for (String sha256 : policies) {
        archived(request.policies(), sha256)
            .ifPresent(text -> files.addObject().put("sha256", sha256).put("text", text));
      }
    }
    // The bundle is checked before it leaves: it must hold up without the signatures.
    EvidenceCheck.Result self = EvidenceCheck.check(bundle, null);
    if (!self.intact()) {
      throw new EvidenceException(
          "The chain does not prove its records of request "
              + request.requestId()
              + " as anchored: "
              + self.problems().get(0)
              + "; run audit verify");
    }
    return bundle;
  }

  /**
   * The request, if the chain holds records of it that {@code tenantScope} may see ({@link
   * RequestOwner#find}).
   */
  public static Optional<RequestOwner> find(
      DataSource dataSource, String requestId, String tenantScope) throws SQLException {
    return find(dataSource, requestId, tenantScope, null);
  }

  /**
   * Whose bundle: {@code tenant} when it has a pipeline record under the request id, or every
   * record naming a tenant names it ({@link RequestOwner#find}); with no tenant named, the
   * request's only tenant.
   *
   * @throws ConflictException when no tenant is named and more than one tenant has pipeline records
   *     under the request id (two tenants may use one), naming them
   */
  private static Optional<RequestOwner> owner(
      Connection connection, String requestId, String tenant) throws SQLException {
    List<String> tenants = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select distinct tenant_id from audit_log where request_id = ?"
                + " and tenant_id is not null and event_type <> '"
                + ActionLog.EVENT_TYPE
                + "' order by tenant_id")) {
      query.setString(1, requestId);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          tenants.add(rs.getString(1));
        }
      }
    }
    if (tenant != null && tenants.contains(tenant)) {
      return Optional.of(new RequestOwner(requestId, tenant));
    }
    if (tenant == null && tenants.size() > 1) {
      // Only a global token names no tenant: the 409 lists the tenants, as the story's does.
      throw new ConflictException(
          "Request "
              + requestId
              + " has records of more than one tenant ("
              + String.join(", ", tenants)
              + "), which use the same request id: name the tenant whose evidence it is (the"
              + " \"tenant\" query parameter)",
          tenants);
    }
    return RequestOwner.find(connection, requestId, tenant);
  }

  /**
   * As {@link #find(DataSource, String, String)}, its query under {@code readTimeout} (null: no
   * limit of its own).
   *
   * @throws QueryTimedOutException when PostgreSQL cancelled it after the read timeout
   */
  public static Optional<RequestOwner> find(
      DataSource dataSource, String requestId, String tenantScope, ReadTimeout readTimeout)
      throws SQLException {
    return read(dataSource, readTimeout, connection -> owner(connection, requestId, tenantScope));
  }

  /** Runs {@code work} in a transaction, under {@code readTimeout} where it is not null. */
  private static <T> T read(
      DataSource dataSource, ReadTimeout readTimeout, Transactions.Work<T> work)
      throws SQLException {
    return readTimeout == null
        ? Transactions.inTransaction(dataSource, work)
        : readTimeout.read(dataSource, work);
  }

  /** One audit_log row of the request. */
  private record Row(
      long seq,
      int chainVersion,
      String eventType,
      Instant recordedAt,
      String canonical,
      String payload,
      String policySha256,
      byte[] prevHash,
      Instant removedAt,
      Long removedBySeq,
      String withheld) {

    /** The same row without its content, and why. */
    Row withheld(String why) {
      return new Row(
          seq, chainVersion, eventType, recordedAt, null, null, null, prevHash, null, null, why);
    }

    ObjectNode json(Set<String> policies) {
      ObjectNode record = NODES.objectNode();
      record.put("seq", seq);
      record.put("eventType", eventType);
      record.put("recordedAt", recordedAt.toString());
      if (withheld != null) {
        record.put("withheld", withheld);
      } else if (removedAt == null) {
        record.put("canonical", canonical);
        if (chainVersion >= 3) {
          record.put("payload", payload); // the canonical text holds only its SHA-256
        }
        if (policySha256 != null) {
          policies.add(policySha256);
        }
      } else {
        if (canonical != null) {
          record.put("canonical", canonical); // chain version 3: its columns stay proven
        }
        record.put("removedAt", removedAt.toString());
        record.put("removedBySeq", removedBySeq);
      }
      return record;
    }
  }

  /** The SHA-256 of the policy file a recorded event names (a verdict's), or null. */
  private static String policyNamed(String payload) {
    try {
      String sha256 = JSON.readTree(payload).path("policySha256").asText("");
      return ContentHash.isSha256Hex(sha256) ? sha256 : null;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("The chain's payloads are JSON", e);
    }
  }

  /** An unfinished flow of the bundle's tenant (a parameter twice; null: every tenant's). */
  private static final String FLOW_OF_TENANT =
      " and (?::text is null or f.tenant_id is null or f.tenant_id = ?::text)";

  private static final String COLUMNS =
      "select seq, chain_version, event_id, event_type, tenant_id, request_id, source_topic,"
          + " source_partition, source_offset, payload, recorded_at, prev_hash,"
          + " tombstoned_at, tombstone_seq, payload_sha256 from audit_log";

  /**
   * The request's records, the bulk actions on its unfinished flows, and the retention records of
   * no request that removed the content of any of them, in seq order; up to {@code throughSeq}
   * (when not null), but for the retention and erasure records that removed those records' content.
   */
  private static List<Row> records(
      Connection connection, String requestId, String tenantScope, String tenant, Long throughSeq)
      throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            COLUMNS
                // One tenant's records where two use the request id (and those of no tenant):
                // before the fiftieth session a bundle held every tenant's under the id.
                + " where request_id = ? and (?::text is null or tenant_id is null"
                + " or tenant_id = ?::text) union all "
                + COLUMNS
                // The bulk actions that dismissed one of its unfinished flows or sent it again
                // (every one): actions of no request, which only the flows' rows link to it. Of
                // the bundle's tenant's flows alone, as the flows' own records above: before the
                // fifty-first session another tenant's flow under the id brought its bulk action
                // in without the flow, and the bundle failed its own check.
                + " where request_id is null and event_id in (select a.event_id from api_action a"
                + " where a.request_id is null and a.action_id in ("
                // Both kinds named, so that the (kind, request_id) index serves.
                + "select f.dismiss_action from unfinished_flow f"
                + " where f.kind in ('NO_ANSWER', 'NO_GATE_OUTCOME') and f.request_id = ?"
                + FLOW_OF_TENANT
                + " union select r.action_id from unfinished_flow f"
                + " join unfinished_flow_resend r on r.flow_event_id = f.event_id"
                + " where f.kind in ('NO_ANSWER', 'NO_GATE_OUTCOME') and f.request_id = ?"
                + FLOW_OF_TENANT
                + "))"
                + " order by seq limit "
                + (MAX_RECORDS + 1))) {
      query.setString(1, requestId);
      query.setString(2, tenant);
      query.setString(3, tenant);
      query.setString(4, requestId);
      query.setString(5, tenant);
      query.setString(6, tenant);
      query.setString(7, requestId);
      query.setString(8, tenant);
      query.setString(9, tenant);
      read(query, requestId, rows);
    }
    if (throughSeq != null) {
      // Later records wait for a later bundle; an erasure of the request that removed the content
      // of one shown stays, as the record that accounts for the removal.
      Set<Long> removers = new HashSet<>();
      rows.stream()
          .filter(row -> row.seq() <= throughSeq && row.removedBySeq() != null)
          .forEach(row -> removers.add(row.removedBySeq()));
      rows.removeIf(row -> row.seq() > throughSeq && !removers.contains(row.seq()));
    }
    // The retention records that removed content, where they are not the request's own (an
    // erasure's record is): a record of no request, as the justification of a removal the check
    // accepts only with the record that accounts for it.
    Set<Long> included = new HashSet<>();
    Set<Long> removedBy = new TreeSet<>();
    for (Row row : rows) {
      included.add(row.seq());
      if (row.removedBySeq() != null) {
        removedBy.add(row.removedBySeq());
      }
    }
    removedBy.removeAll(included);
    if (!removedBy.isEmpty()) {
      try (PreparedStatement query =
          connection.prepareStatement(
              COLUMNS
                  // Of no request, or the request's erasure naming another tenant (before the
                  // fifty-first session an erasure of a request id two tenants use wrote one
                  // record, naming the lowest; since then one per tenant), left out above.
                  + " where seq = any(?) and (request_id is null or request_id = ?)"
                  + " and event_type = '"
                  + Retention.EVENT_TYPE
                  + "' order by seq")) {
        query.setArray(1, connection.createArrayOf("bigint", removedBy.toArray()));
        query.setString(2, requestId);
        List<Row> retention = new ArrayList<>();
        read(query, requestId, retention);
        for (Row row : retention) {
          // The request's own erasure, fetched here, names another tenant than the bundle's (the
          // lowest of a request id two tenants use, in an erasure written before the fifty-first
          // session): the checks tie a request's records to the tenant the bundle names, so it is
          // withheld from any one tenant's bundle.
          boolean erasure = requestId.equals(requestOf(row.payload()));
          String scope = erasure ? tenant : tenantScope;
          rows.add(
              scope != null && namesOtherTenants(row.payload(), scope)
                  ? row.withheld(erasure ? WITHHELD_OTHER_TENANTS_ERASURE : WITHHELD_OTHER_TENANTS)
                  : row);
        }
      }
      rows.sort(Comparator.comparingLong(Row::seq));
    }
    return rows;
  }

  /**
   * Whether a retention record's content names tenants other than {@code tenant}: a default
   * period's record lists every tenant with a period of its own.
   */
  private static boolean namesOtherTenants(String content, String tenant) {
    try {
      JsonNode payload = JSON.readTree(content == null ? "{}" : content);
      if (payload.path("scope").asText("").equals("REQUEST")
          && payload.path("tenantId").isTextual()
          && !tenant.equals(payload.path("tenantId").asText())) {
        return true; // an erasure of a request id another tenant uses too, naming that tenant
      }
      for (JsonNode excluded : payload.path("excludedTenants")) {
        if (!tenant.equals(excluded.asText())) {
          return true;
        }
      }
      return false;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("The chain's payloads are JSON", e);
    }
  }

  /** The request a retention record erased, or null (a retention period's record). */
  private static String requestOf(String content) {
    try {
      return JSON.readTree(content == null ? "{}" : content).path("requestId").asText(null);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("The chain's payloads are JSON", e);
    }
  }

  /** Adds the rows a query finds, within {@link #MAX_RECORDS}. */
  private static void read(PreparedStatement query, String requestId, List<Row> rows)
      throws SQLException {
    try (ResultSet rs = query.executeQuery()) {
      while (rs.next()) {
        if (rows.size() == MAX_RECORDS) {
          throw new EvidenceException(
              "Request "
                  + requestId
                  + " has more than "
                  + MAX_RECORDS
                  + " audit records, more than one bundle holds");
        }
        long seq = rs.getLong("seq");
        int version = rs.getInt("chain_version");
        if (version < 2) {
          throw new EvidenceException(
              "Record "
                  + seq
                  + " of request "
                  + requestId
                  + " was written before chain version 2, whose links need every record's"
                  + " whole content; only audit verify checks it");
        }
        Instant recordedAt = rs.getObject("recorded_at", OffsetDateTime.class).toInstant();
        String payload = rs.getString("payload");
        // Version 2's canonical text holds the payload, so a tombstone has none; version 3's holds
        // the payload's SHA-256, kept after the payload is gone.
        String canonical =
            payload == null && version < 3 ? null : AuditChain.canonical(AuditChain.Entry.read(rs));
        OffsetDateTime removedAt = rs.getObject("tombstoned_at", OffsetDateTime.class);
        long tombstoneSeq = rs.getLong("tombstone_seq");
        Long removedBy = rs.wasNull() ? null : tombstoneSeq;
        rows.add(
            new Row(
                seq,
                version,
                rs.getString("event_type"),
                recordedAt,
                canonical,
                payload,
                payload == null ? null : policyNamed(payload),
                rs.getBytes("prev_hash"),
                removedAt == null ? null : removedAt.toInstant(),
                removedBy,
                null));
      }
    }
  }

  /**
   * For each record, the first anchor line at or after it. The file is read a chunk at a time, from
   * its start until every record is covered (or to its end); its heads grow line by line (the log
   * appends only a head past its last), so each record takes the first line that reaches it.
   */
  private static Map<Long, AnchorLog.AnchorLine> covering(Path anchorFile, List<Row> rows)
      throws IOException {
    Map<Long, AnchorLog.AnchorLine> covering = new LinkedHashMap<>();
    int[] next = {0};
    try {
      AnchorLog.readFrom(
          anchorFile,
          AnchorLog.Position.START,
          line -> {
            while (next[0] < rows.size() && rows.get(next[0]).seq() <= line.anchor().seq()) {
              covering.put(rows.get(next[0]).seq(), line);
              next[0]++;
            }
            if (next[0] == rows.size()) {
              throw ALL_COVERED;
            }
          });
    } catch (NoSuchFileException e) {
      // Nothing anchored yet: every record is shown as not anchored.
    } catch (AllCovered e) {
      // The rest of the file covers nothing the bundle needs.
    }
    return covering;
  }

  /** Stops reading the anchor file once every record is covered. */
  private static final class AllCovered extends IOException {
    private static final long serialVersionUID = 1L;

    AllCovered() {
      super("every record is covered", null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  private static final AllCovered ALL_COVERED = new AllCovered();

  /** One segment per anchor line that covers records: from the first of them to the anchor. */
  private static ArrayNode segments(
      Connection connection, List<Row> rows, Map<Long, AnchorLog.AnchorLine> anchors, long maxLinks)
      throws SQLException {
    ArrayNode segments = NODES.arrayNode();
    long links = 0;
    AnchorLog.AnchorLine current = null;
    for (Row row : rows) {
      AnchorLog.AnchorLine line = anchors.get(row.seq());
      if (line == null || line == current) {
        continue;
      }
      current = line;
      long first = row.seq();
      long last = line.anchor().seq();
      links += last - first + 1;
      if (links > maxLinks) {
        throw new EvidenceException(
            "The bundle would hold "
                + links
                + " or more links, over the limit of "
                + maxLinks
                + ": the records between this request's and the anchor after them are too many"
                + " (anchor more often, GENGUARD_AUDIT_ANCHOR_INTERVAL_SECONDS)");
      }
      ObjectNode segment = segments.addObject();
      segment.put("prevHash", AuditChain.hex(row.prevHash()));
      segment.put("firstSeq", first);
      segment.set("digests", digests(connection, first, last));
      segment.put("anchor", line.text());
    }
    return segments;
  }

  /** The stored digests of seqs {@code first..last}, read in pages; every seq must be there. */
  private static ArrayNode digests(Connection connection, long first, long last)
      throws SQLException {
    ArrayNode digests = NODES.arrayNode();
    long expected = first;
    // In the bundle's transaction, so a cursor: the rows are read a page at a time.
    try (PreparedStatement query =
        connection.prepareStatement(
            "select seq, chain_version, entry_digest from audit_log where seq between ? and ?"
                + " order by seq")) {
      query.setFetchSize(10_000);
      query.setLong(1, first);
      query.setLong(2, last);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong(1);
          if (seq != expected) {
            throw new EvidenceException(
                "Record " + expected + " is missing from the audit chain; run audit verify");
          }
          if (rs.getInt(2) < 2) {
            throw new EvidenceException(
                "Record "
                    + seq
                    + " was written before chain version 2, so it has no digest to stand for it");
          }
          digests.add(AuditChain.hex(rs.getBytes(3)));
          expected++;
        }
      }
    }
    if (expected != last + 1) {
      throw new EvidenceException(
          "Records "
              + expected
              + "-"
              + last
              + " are missing from the audit chain, though an anchor covers them; run audit"
              + " verify");
    }
    return digests;
  }

  private static Optional<String> archived(PolicyArchive archive, String sha256)
      throws SQLException {
    try {
      return Optional.of(archive.get(sha256).yaml());
    } catch (NotFoundException e) {
      return Optional.empty(); // the bundle names the digest; the file was not archived
    }
  }
}
