package io.genguard.audit.evidence;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AuditChain;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.Problems;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.schemas.ContentHash;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks an evidence bundle ({@link EvidenceBundle}) with nothing but the bundle and the anchor
 * signing keys' public halves: no database, no network. Each record's content must hash to the
 * digest at its place in a segment, each segment's digests must chain from its previous hash to the
 * hash its anchor line names, and each anchor line must be signed by a trusted key; a record shown
 * without its content must name the retention or erasure record of the bundle that removed it. A
 * bundle is complete only when at least one record with its content proven is a record of the
 * request it names, of the tenant it names: the bundle's {@code requestId} and {@code tenantId} are
 * the holder's word otherwise (a removed record of chain version 2 has no request in what the chain
 * hashed for it that the bundle could show; one of version 3 keeps its canonical text, with the
 * event's SHA-256 in place of the event, so its request, tenant, type and time are proven).
 * Whatever the bundle holds, the check answers with findings, never an exception: a bundle is input
 * from outside.
 */
public final class EvidenceCheck {
  /** The largest bundle file read, in bytes. */
  public static final int MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

  /**
   * The most JSON tokens (values, member names, and the starts and ends of objects and arrays) a
   * bundle may hold. The largest a service writes ({@link EvidenceBundle#MAX_RECORDS} records and
   * segments, {@link EvidenceBundle#MAX_LINKS} links, one token each) holds about half; reading
   * stops at the limit, so a hostile bundle of many tiny values cannot build a tree of gigabytes
   * before its records are counted. The JSON texts inside the bundle's (each record's canonical
   * text, and the event inside it) may hold as many again, all of them together: the check stops
   * with the same finding once they hold more.
   */
  public static final long MAX_TOKENS =
      2 * EvidenceBundle.MAX_LINKS + 100L * EvidenceBundle.MAX_RECORDS;

  private static final ObjectMapper JSON =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxTokenCount(MAX_TOKENS)
                          .maxDocumentLength(MAX_BUNDLE_BYTES)
                          .build())
                  .build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();
  private static final HexFormat HEX = HexFormat.of();

  /** How the detail of a record whose content the issuer withheld begins. */
  public static final String WITHHELD_DETAIL = "content withheld by the issuer: ";

  private EvidenceCheck() {}

  /** What the check says of one record of the bundle. */
  public enum Status {
    /** Its content hashes to the digest that a signed anchor line covers. */
    PROVEN,
    /**
     * Retention or an erasure removed its content; its digest's place in the chain is proven, its
     * content is not in the bundle, and a retention or erasure record of the bundle (its {@code
     * removedBySeq}) accounts for the removal.
     */
    CONTENT_REMOVED,
    /** Newer than the newest anchor when the bundle was made: content shown, nothing proven. */
    NOT_ANCHORED,
    /** Something about it does not hold (see the detail and the problems). */
    NOT_PROVEN
  }

  /**
   * One record's finding.
   *
   * @param anchorSeq the seq of the anchor line that covers it (null when none does)
   * @param anchoredAt when that line was written, as it says
   * @param keyId the key that signed that line (null when unsigned or not checked)
   */
  public record RecordFinding(
      long seq,
      String eventType,
      Status status,
      String detail,
      Long anchorSeq,
      String anchoredAt,
      String keyId) {}

  /**
   * The check's result.
   *
   * @param records one finding per record, in seq order
   * @param problems what does not hold, each naming where; empty when the bundle holds up
   * @param links digests checked over all segments
   * @param signaturesChecked false when the check ran without keys: the anchor lines were then
   *     taken on trust and must be compared with a copy of the anchor file kept elsewhere
   * @param policies the SHA-256 of each policy file a record names, and whether the bundle holds
   *     that file (with that digest)
   * @param requestProven whether a record of the bundle whose content is proven is a record of
   *     {@code requestId} (and, when it names a tenant, of {@code tenantId}): what ties the
   *     bundle's records to the request it names
   * @param eventIdConflicts how many event id conflicts the bundle lists ({@code
   *     eventIdConflicts}): other content read under a record's id, not on the chain, so shown on
   *     the issuer's word and never proven; they neither make a bundle incomplete nor hold it up,
   *     but one that contradicts the record it contests in the bundle (its event id, seq or
   *     recorded payload SHA-256) is a problem
   */
  public record Result(
      String requestId,
      String tenantId,
      List<RecordFinding> records,
      List<String> problems,
      int segments,
      long links,
      boolean signaturesChecked,
      Map<String, Boolean> policies,
      boolean requestProven,
      int eventIdConflicts) {

    /** Nothing in the bundle contradicts itself or its signatures. */
    public boolean intact() {
      return problems.isEmpty();
    }

    /**
     * Intact, every record's place in the chain is proven by an anchor line, and a proven record
     * ties them to the request ({@link #requestProven}).
     */
    public boolean complete() {
      return intact() && requestProven && everyPlaceProven();
    }

    /** Every record's place in the chain is proven by an anchor line, its content too if shown. */
    private boolean everyPlaceProven() {
      return !records.isEmpty()
          && records.stream()
              .allMatch(r -> r.status() == Status.PROVEN || r.status() == Status.CONTENT_REMOVED);
    }

    /** One line for people. */
    public String summary() {
      long proven = records.stream().filter(r -> r.status() == Status.PROVEN).count();
      long removed = records.stream().filter(r -> r.status() == Status.CONTENT_REMOVED).count();
      long pending = records.stream().filter(r -> r.status() == Status.NOT_ANCHORED).count();
      long withheld = records.stream().filter(r -> r.detail().startsWith(WITHHELD_DETAIL)).count();
      String counts =
          proven
              + " of "
              + records.size()
              + " records proven"
              + (removed > 0 ? ", " + removed + " with content removed (retention or erasure)" : "")
              + (pending > 0 ? ", " + pending + " not yet anchored" : "")
              + (withheld > 0 ? ", " + withheld + " withheld by the issuer" : "")
              + " ("
              + segments
              + " segment(s), "
              + links
              + " links)"
              + (eventIdConflicts > 0
                  ? "; "
                      + eventIdConflicts
                      + " event id conflict(s) listed: other content read under a record's id,"
                      + " not on the chain and not proven"
                  : "");
      if (!intact()) {
        return "Evidence does NOT hold for request " + requestId + ": " + problems.get(0);
      }
      return (complete() ? "Evidence holds for request " : "Evidence incomplete for request ")
          + requestId
          + ": "
          + (requestProven || !everyPlaceProven()
              ? ""
              : "nothing in the bundle proves these records are request "
                  + requestId
                  + "'s (no record of it"
                  + (tenantId == null ? "" : " and of tenant " + tenantId)
                  + " with its content is proven); ")
          + counts
          + (signaturesChecked ? "" : "; anchor signatures NOT checked");
    }
  }

  /**
   * Checks bundle text.
   *
   * @param keys the anchor signing keys' public halves; null to take the anchor lines on trust (for
   *     unsigned anchor files), which the result says
   */
  public static Result check(String bundleText, VerificationKeyRing keys) {
    JsonNode bundle;
    try {
      bundle = JSON.readTree(bundleText);
    } catch (JsonProcessingException e) {
      return unreadable(e, keys);
    }
    return check(bundle, keys);
  }

  /**
   * Reads a bundle from a stream, within {@link #MAX_BUNDLE_BYTES} and {@link #MAX_TOKENS}: a tool
   * that checks a file reads it once, without holding its text, and hands the tree to {@link
   * #check(JsonNode, VerificationKeyRing)}.
   *
   * @throws JsonProcessingException when it is not JSON or over a limit ({@link #unreadable})
   */
  public static JsonNode read(InputStream bundle) throws IOException {
    return JSON.readTree(bundle);
  }

  /** The result for a bundle that {@link #read} could not read: the one finding says why. */
  public static Result unreadable(JsonProcessingException e, VerificationKeyRing keys) {
    if (e instanceof StreamConstraintsException) {
      return failed(
          "the bundle is larger than a bundle can be (" + e.getOriginalMessage() + ")", keys);
    }
    return failed("the bundle is not JSON (" + e.getOriginalMessage() + ")", keys);
  }

  /** Checks a parsed bundle; see {@link #check(String, VerificationKeyRing)}. */
  public static Result check(JsonNode bundle, VerificationKeyRing keys) {
    if (bundle == null || !bundle.isObject()) {
      return failed("the bundle is not a JSON object", keys);
    }
    String format = bundle.path("format").asText(null);
    if (!EvidenceBundle.FORMAT.equals(format)
        && !EvidenceBundle.FORMAT_3.equals(format)
        && !EvidenceBundle.FORMAT_2.equals(format)
        && !EvidenceBundle.FORMAT_1.equals(format)) {
      return failed(
          "the bundle's format is "
              + bundle.path("format")
              + ", not \""
              + EvidenceBundle.FORMAT
              + "\", \""
              + EvidenceBundle.FORMAT_3
              + "\", \""
              + EvidenceBundle.FORMAT_2
              + "\" or \""
              + EvidenceBundle.FORMAT_1
              + "\" (the ones this build reads)",
          keys);
    }
    String requestId = bundle.path("requestId").isTextual() ? bundle.get("requestId").asText() : "";
    if (requestId.isEmpty()) {
      return failed("the bundle names no requestId", keys);
    }
    String tenantId = bundle.path("tenantId").isTextual() ? bundle.get("tenantId").asText() : null;
    Problems problems = new Problems();
    JsonNode records = bundle.path("records");
    JsonNode segments = bundle.path("segments");
    if (!records.isArray() || records.isEmpty()) {
      problems.add("the bundle holds no records");
    }
    if (!segments.isArray()) {
      problems.add("\"segments\" is not a list");
    }
    if (records.size() > EvidenceBundle.MAX_RECORDS
        || segments.size() > EvidenceBundle.MAX_RECORDS) {
      return failed(
          "the bundle holds more than "
              + EvidenceBundle.MAX_RECORDS
              + " records or segments; a request has a handful",
          keys);
    }
    if (!problems.isEmpty()) {
      return new Result(
          requestId,
          tenantId,
          List.of(),
          problems.list(),
          0,
          0,
          keys != null,
          Map.of(),
          false,
          conflicts(bundle));
    }

    // Each segment: the digests it chains, by seq, and the anchor line that covers them.
    Map<Long, byte[]> digests = new HashMap<>();
    Map<Long, Covered> coveredBy = new HashMap<>();
    long links = 0;
    int segmentNumber = 0;
    for (JsonNode segment : segments) {
      segmentNumber++;
      Covered covered = checkSegment(segmentNumber, segment, keys, problems, digests);
      if (covered == null) {
        continue;
      }
      links += covered.lastSeq - covered.firstSeq + 1;
      if (links > EvidenceBundle.MAX_LINKS) {
        problems.add("the bundle holds more than " + EvidenceBundle.MAX_LINKS + " links");
        break;
      }
      for (long seq = covered.firstSeq; seq <= covered.lastSeq; seq++) {
        if (coveredBy.put(seq, covered) != null) {
          problems.add("seq " + seq + " is in two segments");
          break;
        }
      }
    }
    Set<Long> notAnchored = new HashSet<>();
    for (JsonNode seq : bundle.path("notAnchored")) {
      if (seq.isIntegralNumber() && seq.canConvertToLong()) {
        notAnchored.add(seq.asLong());
      }
    }

    TreeMap<Long, RecordFinding> findings = new TreeMap<>();
    Map<String, Long> policiesNamed = new TreeMap<>();
    // Since format 2: the bulk actions on the request's unfinished flows, checked against them.
    Flows flows = EvidenceBundle.FORMAT_1.equals(format) ? null : new Flows();
    // Every removal of content, checked against the record that accounts for it; since format 3
    // such a record may be a retention record of no request.
    Removals removals =
        new Removals(
            EvidenceBundle.FORMAT.equals(format) || EvidenceBundle.FORMAT_3.equals(format));
    NestedTexts texts = new NestedTexts();
    // The request's own records with their content (not the bulk actions nor the retention records
    // of no request): the tenant each names.
    Map<Long, String> own = new HashMap<>();
    // Each record's event id and payload SHA-256 as its canonical text says, by seq.
    Map<Long, Chained> chained = new HashMap<>();
    int recordNumber = 0;
    for (JsonNode record : records) {
      recordNumber++;
      RecordFinding finding =
          checkRecord(
              recordNumber,
              record,
              requestId,
              coveredBy,
              digests,
              notAnchored,
              problems,
              policiesNamed,
              flows,
              removals,
              texts,
              own,
              chained);
      if (texts.overLimit()) {
        return failed(
            "the bundle is larger than a bundle can be (its records' canonical texts and the"
                + " events in them hold more than "
                + MAX_TOKENS
                + " JSON tokens)",
            keys);
      }
      if (finding != null && findings.put(finding.seq(), finding) != null) {
        problems.add("seq " + finding.seq() + " is listed twice among the records");
      }
    }
    removals.check(requestId, tenantId, findings, problems);
    checkConflicts(bundle.path("eventIdConflicts"), chained, problems);
    if (flows != null) {
      flows.check(tenantId, findings, problems);
    }
    boolean requestProven = ownership(requestId, tenantId, own, findings, problems);
    Set<String> included = checkPolicies(bundle.path("policies"), problems);
    Map<String, Boolean> policies = new TreeMap<>();
    policiesNamed.keySet().forEach(sha256 -> policies.put(sha256, included.contains(sha256)));
    return new Result(
        requestId,
        tenantId,
        List.copyOf(findings.values()),
        problems.list(),
        segments.size(),
        links,
        keys != null,
        policies,
        requestProven,
        conflicts(bundle));
  }

  /** A record's event id and payload SHA-256 as its canonical text says (null when it has none). */
  private record Chained(String eventId, String payloadSha256) {}

  /**
   * Compares each listed event id conflict with itself (its {@code payload} text, when shown, must
   * hash to its {@code payloadSha256}) and, when its contested record is in the bundle, with that
   * record: the listing is the issuer's word, and must not contradict what the chain hashed. A
   * conflict naming a seq the bundle holds must name that record's event id and its payload's
   * SHA-256 ({@code recordedPayloadSha256}); one naming the event id of a record of the bundle must
   * name its seq. A conflict whose record is not in the bundle (a record of another request, or
   * withheld from a tenant's token: no seq) has nothing to be compared with.
   */
  private static void checkConflicts(
      JsonNode conflicts, Map<Long, Chained> chained, Problems problems) {
    Map<String, Long> seqOfEvent = new HashMap<>();
    chained.forEach((seq, record) -> seqOfEvent.put(record.eventId(), seq));
    int number = 0;
    for (JsonNode conflict : conflicts) {
      number++;
      if (!conflict.isObject()) {
        continue;
      }
      String eventId = conflict.path("eventId").asText("");
      String listed = "event id conflict " + number + " (event " + eventId + ")";
      JsonNode payload = conflict.path("payload");
      String payloadSha256 = conflict.path("payloadSha256").asText(null);
      if (payload.isTextual()
          && payloadSha256 != null
          && !ContentHash.sha256Hex(payload.asText()).equals(payloadSha256)) {
        problems.add(
            listed
                + ": its payload does not hash to its payloadSha256 ("
                + payloadSha256
                + "): the listing was changed");
      }
      JsonNode seqNode = conflict.path("recordedSeq");
      // A whole number too large for a long names no seq the bundle holds, as any other it lacks.
      boolean namesSeq = seqNode.isIntegralNumber();
      Long seq = namesSeq && seqNode.canConvertToLong() ? seqNode.asLong() : null;
      Chained record = seq == null ? null : chained.get(seq);
      if (record == null) {
        Long seqInBundle = seqOfEvent.get(eventId);
        if (namesSeq && seqInBundle != null) {
          problems.add(
              listed
                  + ": it names seq "
                  + seqNode.bigIntegerValue()
                  + " as the record it contests, but the bundle holds that event at seq "
                  + seqInBundle);
        }
        continue;
      }
      if (!record.eventId().equals(eventId)) {
        problems.add(
            listed
                + ": it names seq "
                + seq
                + " as the record it contests, but seq "
                + seq
                + " in the bundle is event "
                + record.eventId());
        continue;
      }
      String recordedSha256 = conflict.path("recordedPayloadSha256").asText(null);
      if (record.payloadSha256() != null && !record.payloadSha256().equals(recordedSha256)) {
        problems.add(
            listed
                + ": the SHA-256 it lists for the record it contests (recordedPayloadSha256 "
                + recordedSha256
                + ") is not the SHA-256 of seq "
                + seq
                + "'s payload in the bundle ("
                + record.payloadSha256()
                + "): the listing or the record was changed");
      }
    }
  }

  /** How many event id conflicts the bundle lists (objects in its {@code eventIdConflicts}). */
  private static int conflicts(JsonNode bundle) {
    int count = 0;
    for (JsonNode conflict : bundle.path("eventIdConflicts")) {
      if (conflict.isObject()) {
        count++;
      }
    }
    return count;
  }

  /**
   * Whether a proven record is the request's own, of the bundle's tenant; a proven record of the
   * request that names another tenant is a problem: the bundle's tenant, which decides which
   * retention records account for removals, would be the holder's word.
   */
  private static boolean ownership(
      String requestId,
      String tenantId,
      Map<Long, String> own,
      Map<Long, RecordFinding> findings,
      Problems problems) {
    boolean proven = false;
    for (Map.Entry<Long, String> record : new TreeMap<>(own).entrySet()) {
      RecordFinding finding = findings.get(record.getKey());
      // A removed record of chain version 3 is in own only when its columns are proven.
      if (finding == null
          || (finding.status() != Status.PROVEN && finding.status() != Status.CONTENT_REMOVED)) {
        continue;
      }
      String tenant = record.getValue();
      if (tenant != null && !tenant.equals(tenantId)) {
        String wrong =
            "it is a record of request "
                + requestId
                + " of tenant "
                + tenant
                + ", but the bundle names tenant "
                + tenantId;
        problems.add("seq " + finding.seq() + " (" + finding.eventType() + "): " + wrong);
        findings.put(finding.seq(), with(finding, Status.NOT_PROVEN, wrong));
      } else {
        proven = true;
      }
    }
    return proven;
  }

  /**
   * How many anchor lines the bundle holds to compare with a copy of the anchor file: one per
   * segment, read or not (a bundle that is no object, or whose {@code segments} is missing or no
   * list, has none). With none, {@link #compareWithCopy} has nothing to compare, and its empty list
   * of problems must not be read as every line found in the copy.
   */
  public static int anchorLines(JsonNode bundle) {
    JsonNode segments = bundle == null ? MissingNode.getInstance() : bundle.path("segments");
    return segments.isArray() ? segments.size() : 0;
  }

  /**
   * What a comparison with a copy of the anchor file found.
   *
   * @param linesCompared the segments' anchor lines looked up in the copy: those that are anchor
   *     lines, found there or not, each segment's on its own (two segments naming one seq count
   *     twice); a segment whose anchor line is not one is not counted but named in {@code problems}
   * @param problems each naming the segment, in the segments' order; empty when every line looked
   *     up is in the copy as written and every segment's line was looked up
   */
  public record AnchorCopyComparison(int linesCompared, List<String> problems) {
    public AnchorCopyComparison {
      problems = List.copyOf(problems);
    }
  }

  /**
   * Compares each segment's anchor line with a copy of the anchor file kept elsewhere (fetched from
   * {@code GET /api/v1/audit/anchors} earlier, or the witness topic's lines): each must be in the
   * copy as written. This holds without the signing keys, for unsigned anchor files, and against a
   * holder of the key who rewrites lines later. A segment whose anchor line is not one is among the
   * problems, as not compared (the check names why). Each segment's line is compared on its own:
   * two segments that name one seq (the check says the seq "is in two segments") may show one line
   * the copy has and one made up, and the made-up one must be named, not hidden behind the other. A
   * bundle without anchor lines ({@link #anchorLines} 0) has no problem here: compare nothing then.
   * The copy is read whole in every case, also with nothing to look up in it (no bundle, none of
   * its lines an anchor line), so that one that is no anchor file is refused whatever the bundle
   * holds.
   *
   * @param bundle a bundle already read ({@link #read}); null for one that could not be read
   * @throws IllegalArgumentException when the copy is not an anchor file (its line and reason)
   */
  public static AnchorCopyComparison compareWithCopy(JsonNode bundle, Path copy)
      throws IOException {
    // Each segment's anchor line, in the bundle's order: never keyed by seq alone; null when the
    // segment's anchor line is not one. The problems are named in the segments' order.
    record Wanted(int segment, AnchorLog.AnchorLine line) {}
    List<Wanted> wanted = new ArrayList<>();
    Set<Long> seqs = new HashSet<>();
    int number = 0;
    JsonNode segments = bundle == null ? MissingNode.getInstance() : bundle.path("segments");
    for (JsonNode segment : segments.isArray() ? segments : MissingNode.getInstance()) {
      number++;
      AnchorLog.AnchorLine line = null;
      try {
        line = AnchorLog.parse("segment", 1, segment.path("anchor").asText(""));
        seqs.add(line.anchor().seq());
      } catch (IllegalArgumentException e) {
        // The check itself names why; here it is one line not compared, never one found.
      }
      wanted.add(new Wanted(number, line));
    }
    Map<Long, String> found = new HashMap<>();
    AnchorLog.readFrom(
        copy,
        AnchorLog.Position.START,
        line -> {
          if (seqs.contains(line.anchor().seq())) {
            found.put(line.anchor().seq(), line.text());
          }
        });
    List<String> problems = new ArrayList<>();
    int linesCompared = 0;
    for (Wanted each : wanted) {
      if (each.line() == null) {
        problems.add(
            "segment "
                + each.segment()
                + "'s anchor line is not an anchor line, so it was not compared with "
                + copy);
        continue;
      }
      linesCompared++;
      long seq = each.line().anchor().seq();
      String kept = found.get(seq);
      String segment = "segment " + each.segment() + "'s anchor line (seq " + seq + ")";
      if (kept == null) {
        problems.add(
            segment
                + " is not in "
                + copy
                + ": the copy is older than the bundle, or the line was made up");
      } else if (!kept.equals(each.line().text())) {
        problems.add(
            segment
                + " differs from the one in "
                + copy
                + ": one of them was rewritten after the copy was taken");
      }
    }
    return new AnchorCopyComparison(linesCompared, problems);
  }

  /**
   * A checked segment: the seqs it covers and the anchor line that covers them.
   *
   * @param number the segment's place in the bundle, from 1
   * @param holds false when its chain or its anchor line does not hold (a problem says why); its
   *     records are then not proven, without a problem of their own each
   */
  private record Covered(
      int number, long firstSeq, long lastSeq, String anchoredAt, String keyId, boolean holds) {}

  private static Covered checkSegment(
      int number,
      JsonNode segment,
      VerificationKeyRing keys,
      Problems problems,
      Map<Long, byte[]> digests) {
    String where = "segment " + number;
    byte[] hash = hex(segment.path("prevHash"));
    JsonNode firstSeq = segment.path("firstSeq");
    JsonNode list = segment.path("digests");
    if (hash == null
        || !firstSeq.isIntegralNumber()
        || !firstSeq.canConvertToLong()
        || firstSeq.asLong() < 1
        || !list.isArray()
        || list.isEmpty()
        || !segment.path("anchor").isTextual()) {
      problems.add(
          where + " lacks a prevHash (64 hex), a firstSeq (at least 1), digests or an anchor line");
      return null;
    }
    AnchorLog.AnchorLine line;
    try {
      line = AnchorLog.parse("evidence " + where + "'s anchor", 1, segment.get("anchor").asText());
    } catch (IllegalArgumentException e) {
      problems.add(e.getMessage());
      return null;
    }
    long first = firstSeq.asLong();
    long last = first + list.size() - 1;
    Covered broken = new Covered(number, first, last, null, null, false);
    if (line.anchor().seq() != last) {
      problems.add(
          where
              + " chains seqs "
              + first
              + "-"
              + last
              + " but its anchor line is for seq "
              + line.anchor().seq());
      return broken;
    }
    MessageDigest sha256 = sha256();
    long seq = first;
    for (JsonNode digestNode : list) {
      byte[] digest = hex(digestNode);
      if (digest == null) {
        problems.add(where + ": the digest for seq " + seq + " is not 64 hex characters");
        return broken;
      }
      digests.put(seq, digest);
      sha256.update(hash);
      sha256.update(digest);
      hash = sha256.digest();
      seq++;
    }
    if (!HEX.formatHex(hash).equalsIgnoreCase(line.anchor().hashHex())) {
      problems.add(
          where
              + ": the digests chain to "
              + HEX.formatHex(hash)
              + " at seq "
              + last
              + ", not to the anchored "
              + line.anchor().hashHex()
              + ": a digest or the previous hash was changed");
      return broken;
    }
    if (keys != null) {
      if (!line.signed()) {
        problems.add(where + ": its anchor line (seq " + last + ") is not signed");
        return broken;
      }
      if (!AnchorLog.signatureHolds(line, keys)) {
        problems.add(
            where
                + ": the signature of its anchor line (seq "
                + last
                + ", key '"
                + line.keyId()
                + "') does not hold with the keys "
                + keys.ids()
                + ": the line was edited or not written by the key's holder");
        return broken;
      }
    }
    return new Covered(
        number, first, last, line.anchoredAt(), keys == null ? null : line.keyId(), true);
  }

  private static RecordFinding checkRecord(
      int number,
      JsonNode record,
      String requestId,
      Map<Long, Covered> coveredBy,
      Map<Long, byte[]> digests,
      Set<Long> notAnchored,
      Problems problems,
      Map<String, Long> policiesNamed,
      Flows flows,
      Removals removals,
      NestedTexts texts,
      Map<Long, String> own,
      Map<Long, Chained> chained) {
    JsonNode seqNode = record.path("seq");
    if (!seqNode.isIntegralNumber() || !seqNode.canConvertToLong()) {
      problems.add("record " + number + " has no seq");
      return null;
    }
    long seq = seqNode.asLong();
    String eventType = record.path("eventType").asText("");
    Covered covered = coveredBy.get(seq);
    JsonNode canonical = record.path("canonical");
    String claimed = "seq " + seq + " (" + eventType + ")";
    if (covered != null && !covered.holds()) {
      return finding(
          seq,
          eventType,
          Status.NOT_PROVEN,
          "segment " + covered.number() + ", which holds it, does not hold",
          null);
    }
    if (!canonical.isTextual() && record.path("withheld").isTextual()) {
      // The issuer kept its content back, and said why: its place may be proven, nothing else.
      return finding(
          seq,
          eventType,
          Status.NOT_PROVEN,
          WITHHELD_DETAIL + record.get("withheld").asText(),
          covered);
    }
    if (canonical.isTextual() && record.path("removedAt").isTextual()) {
      return checkRemovedVersionThree(
          seq,
          eventType,
          canonical.asText(),
          record,
          requestId,
          covered,
          digests,
          notAnchored,
          problems,
          flows,
          removals,
          texts,
          own,
          chained);
    }
    if (!canonical.isTextual()) {
      if (!record.path("removedAt").isTextual()) {
        problems.add(
            claimed + " has neither its canonical text nor the time its content was removed");
        return finding(seq, eventType, Status.NOT_PROVEN, "no content", covered);
      }
      String removed =
          "content removed (retention or erasure) at " + record.get("removedAt").asText();
      if (covered != null || notAnchored.contains(seq)) {
        // Whether a record of the bundle accounts for the removal: Removals.check.
        removals.removed(seq, record);
        if (flows != null && UnfinishedFlows.EVENT_TYPE.equals(eventType)) {
          flows.removedFlow(seq);
        }
      }
      if (covered != null) {
        return finding(
            seq,
            eventType,
            Status.CONTENT_REMOVED,
            removed
                + "; its place in the chain is proven, its type and time are as the issuer says",
            covered);
      }
      if (notAnchored.contains(seq)) {
        return finding(
            seq,
            eventType,
            Status.NOT_ANCHORED,
            removed + "; newer than the newest anchor when the bundle was made",
            null);
      }
      problems.add(claimed + " is in no segment, and the bundle does not say it is not anchored");
      return finding(seq, eventType, Status.NOT_PROVEN, "in no segment", null);
    }
    String text = canonical.asText();
    String wrong =
        contentProblem(
            text,
            record.path("payload"),
            seq,
            eventType,
            requestId,
            policiesNamed,
            flows,
            removals,
            texts,
            own,
            chained);
    if (wrong != null) {
      problems.add(claimed + ": " + wrong);
      return finding(seq, eventType, Status.NOT_PROVEN, wrong, covered);
    }
    if (covered == null) {
      if (notAnchored.contains(seq)) {
        return finding(
            seq,
            eventType,
            Status.NOT_ANCHORED,
            "newer than the newest anchor when the bundle was made: shown, not proven; ask for"
                + " the bundle again after the next anchor",
            null);
      }
      problems.add(claimed + " is in no segment, and the bundle does not say it is not anchored");
      return finding(seq, eventType, Status.NOT_PROVEN, "in no segment", null);
    }
    byte[] digest = ContentHash.sha256(text);
    if (!MessageDigest.isEqual(digest, digests.get(seq))) {
      problems.add(
          claimed
              + ": its content hashes to "
              + HEX.formatHex(digest)
              + ", not to the digest the chain holds at its place: the content was changed");
      return finding(seq, eventType, Status.NOT_PROVEN, "content changed", covered);
    }
    return finding(seq, eventType, Status.PROVEN, "content and place proven", covered);
  }

  /**
   * A record of chain version 3 whose content was removed: its canonical text (the event's SHA-256
   * in place of the event) is still what the chain hashed, so its place and every column (request,
   * tenant, type, time) are proven, not only said by the issuer. The removal is then checked
   * against those proven columns, and a proven removed record of the request ties the bundle to it
   * as a proven record with its content does.
   */
  private static RecordFinding checkRemovedVersionThree(
      long seq,
      String eventType,
      String text,
      JsonNode record,
      String requestId,
      Covered covered,
      Map<Long, byte[]> digests,
      Set<Long> notAnchored,
      Problems problems,
      Flows flows,
      Removals removals,
      NestedTexts texts,
      Map<Long, String> own,
      Map<Long, Chained> chained) {
    String claimed = "seq " + seq + " (" + eventType + ")";
    String removedAt = record.get("removedAt").asText();
    JsonNode node;
    String wrong = null;
    try {
      node = texts.read(text);
    } catch (JsonProcessingException e) {
      node = null;
      wrong = "its canonical text is not JSON (" + e.getOriginalMessage() + ")";
    }
    String recordRequest = null;
    if (node != null) {
      recordRequest = node.path("requestId").isTextual() ? node.get("requestId").asText() : null;
      if (!node.isObject() || !CanonicalJson.write(node).equals(text)) {
        wrong = "its canonical text is not canonical JSON (sorted keys, compact)";
      } else if (node.path("chainVersion").asInt() != 3
          || !node.path("payloadSha256").isTextual()
          || node.has("payload")) {
        wrong = "its content was removed, but its canonical text is not of chain version 3";
      } else if (node.path("seq").asLong(-1) != seq) {
        wrong = "its canonical text is for seq " + node.path("seq") + ", not " + seq;
      } else if (!eventType.equals(node.path("eventType").asText(null))) {
        wrong = "its canonical text is a " + node.path("eventType") + " record, not " + eventType;
      } else if (!record.path("recordedAt").asText("").equals(node.path("recordedAt").asText())) {
        wrong =
            "its canonical text was recorded at "
                + node.path("recordedAt")
                + ", not "
                + record.path("recordedAt");
      } else if (!requestId.equals(recordRequest)
          && !(recordRequest == null && flows != null && ActionLog.EVENT_TYPE.equals(eventType))) {
        wrong =
            "its canonical text is a record of request "
                + node.path("requestId")
                + ", not of "
                + requestId;
      }
    }
    if (wrong == null && covered != null) {
      byte[] digest = ContentHash.sha256(text);
      if (!MessageDigest.isEqual(digest, digests.get(seq))) {
        wrong =
            "its canonical text hashes to "
                + HEX.formatHex(digest)
                + ", not to the digest the chain holds at its place: it was changed";
      }
    }
    if (wrong != null) {
      problems.add(claimed + ": " + wrong);
      return finding(seq, eventType, Status.NOT_PROVEN, wrong, covered);
    }
    String removed = "content removed (retention or erasure) at " + removedAt;
    if (covered == null && !notAnchored.contains(seq)) {
      problems.add(claimed + " is in no segment, and the bundle does not say it is not anchored");
      return finding(seq, eventType, Status.NOT_PROVEN, "in no segment", null);
    }
    chained.put(
        seq, new Chained(node.path("eventId").asText(""), node.get("payloadSha256").asText()));
    // The removal is checked against what the chain hashed: its request and tenant too.
    com.fasterxml.jackson.databind.node.ObjectNode proven = record.deepCopy();
    proven.set("requestId", node.path("requestId"));
    proven.set("tenantId", node.path("tenantId"));
    removals.removed(seq, proven);
    if (flows != null && UnfinishedFlows.EVENT_TYPE.equals(eventType)) {
      flows.removedFlow(seq);
    }
    if (covered == null) {
      return finding(
          seq,
          eventType,
          Status.NOT_ANCHORED,
          removed + "; newer than the newest anchor when the bundle was made",
          null);
    }
    if (requestId.equals(recordRequest)) {
      own.put(seq, node.path("tenantId").isTextual() ? node.get("tenantId").asText() : null);
    }
    return finding(
        seq,
        eventType,
        Status.CONTENT_REMOVED,
        removed
            + "; its place in the chain, request, tenant, type and time are proven (chain"
            + " version 3)",
        covered);
  }

  /**
   * What is wrong with a record's canonical text, or null when it is a record of the request (or,
   * with {@code flows}, a bulk action on unfinished flows, which {@link Flows#check} checks; or, in
   * format 3, a retention record of no request, which {@link Removals#check} checks).
   */
  private static String contentProblem(
      String text,
      JsonNode payloadApart,
      long seq,
      String eventType,
      String requestId,
      Map<String, Long> policiesNamed,
      Flows flows,
      Removals removals,
      NestedTexts texts,
      Map<Long, String> own,
      Map<Long, Chained> chained) {
    JsonNode node;
    try {
      node = texts.read(text);
    } catch (JsonProcessingException e) {
      return "its canonical text is not JSON (" + e.getOriginalMessage() + ")";
    }
    if (node == null || !node.isObject() || !CanonicalJson.write(node).equals(text)) {
      return "its canonical text is not canonical JSON (sorted keys, compact), so not what the"
          + " chain hashes";
    }
    int version = node.path("chainVersion").asInt();
    if (version != 2 && version != AuditChain.CURRENT_VERSION) {
      return "its canonical text is not of chain version 2 or " + AuditChain.CURRENT_VERSION;
    }
    String payloadSha256 = node.path("payloadSha256").asText(null);
    if (version == 3) {
      // The canonical text holds the event's SHA-256; the event is beside it.
      if (!payloadApart.isTextual()
          || !node.path("payloadSha256").isTextual()
          || node.has("payload")) {
        return "it is a record of chain version 3 without its payload beside its canonical text";
      }
      if (!ContentHash.sha256Hex(payloadApart.asText())
          .equals(node.get("payloadSha256").asText())) {
        return "its payload does not hash to the payloadSha256 of its canonical text: the"
            + " payload was changed";
      }
      ((com.fasterxml.jackson.databind.node.ObjectNode) node)
          .put("payload", payloadApart.asText()); // read below as version 2's is
    }
    if (node.path("seq").asLong(-1) != seq) {
      return "its canonical text is for seq " + node.path("seq") + ", not " + seq;
    }
    if (version == 2 && node.path("payload").isTextual()) {
      payloadSha256 = ContentHash.sha256Hex(node.get("payload").asText());
    }
    chained.put(seq, new Chained(node.path("eventId").asText(""), payloadSha256));
    if (flows != null
        && node.path("requestId").isNull()
        && ActionLog.EVENT_TYPE.equals(eventType)
        && eventType.equals(node.path("eventType").asText(null))) {
      flows.bulkAction(seq, texts.payload(node));
      return null;
    }
    if (removals.detachedAllowed()
        && node.path("requestId").isNull()
        && Retention.EVENT_TYPE.equals(eventType)
        && eventType.equals(node.path("eventType").asText(null))) {
      removals.retention(seq, texts.payload(node), true);
      return null;
    }
    if (!requestId.equals(node.path("requestId").asText(null))) {
      return "its canonical text is a record of request "
          + node.path("requestId")
          + ", not of "
          + requestId;
    }
    if (!eventType.equals(node.path("eventType").asText(null))) {
      return "its canonical text is a " + node.path("eventType") + " record, not " + eventType;
    }
    own.put(seq, node.path("tenantId").isTextual() ? node.get("tenantId").asText() : null);
    JsonNode payload = texts.payload(node);
    if (payload != null && payload.path("policySha256").isTextual()) {
      policiesNamed.putIfAbsent(payload.get("policySha256").asText(), seq);
    }
    if (flows != null && UnfinishedFlows.EVENT_TYPE.equals(eventType) && payload != null) {
      flows.flow(payload);
    }
    if (Retention.EVENT_TYPE.equals(eventType)) {
      removals.retention(seq, payload, false); // an erasure of the request
    }
    return null;
  }

  /**
   * The JSON texts inside a bundle's text that one check reads: each record's canonical text, and
   * the event inside it (its {@code payload} text). Each is read within {@link #MAX_TOKENS}, as the
   * bundle is, and all of them together count against {@link #MAX_TOKENS} too: the check stops once
   * they hold more ({@link #overLimit}), after the record that took them past it. Otherwise a dozen
   * records whose events (text of up to 20 million characters each) hold millions of tiny values
   * would build trees of gigabytes that the bundle's own limit never sees.
   */
  private static final class NestedTexts {
    private long tokens;

    /**
     * The text parsed (a missing node when it is empty).
     *
     * @throws JsonProcessingException when it is not JSON or over the limit
     */
    JsonNode read(String text) throws JsonProcessingException {
      try (JsonParser parser = JSON.createParser(text)) {
        try {
          JsonNode node = JSON.readTree(parser);
          return node == null ? MissingNode.getInstance() : node;
        } finally {
          tokens += parser.currentTokenCount(); // a parser that stopped: what it read so far
        }
      } catch (StreamConstraintsException e) {
        tokens = Math.max(tokens, MAX_TOKENS + 1);
        throw e;
      } catch (JsonProcessingException e) {
        throw e;
      } catch (IOException e) {
        throw new UncheckedIOException("Reading a string does no I/O", e);
      }
    }

    /** The event a record's canonical text holds (its {@code payload} text, parsed), or null. */
    JsonNode payload(JsonNode canonical) {
      JsonNode payload = canonical.path("payload");
      if (!payload.isTextual()) {
        return null;
      }
      try {
        return read(payload.asText());
      } catch (JsonProcessingException e) {
        return null;
      }
    }

    /** Whether the texts read so far hold more than {@link #MAX_TOKENS} tokens together. */
    boolean overLimit() {
      return tokens > MAX_TOKENS;
    }
  }

  /**
   * The records whose content the bundle says was removed, and the retention and erasure records
   * ({@code RetentionApplied}) it holds. A removal counts only when the record it names ({@code
   * removedBySeq}) is a retention or erasure record of the bundle, with its content, whose content
   * takes the removed record in, as the chain's verifier checks a tombstone ({@link
   * ChainVerifier.RetentionRecord#unjustified}): after it, its cutoff after the record's time, and
   * of its request (an erasure) or its tenant (a tenant's period, or the default's). Otherwise
   * whoever holds a bundle could take any record's content out and the bundle would still hold.
   * What the check cannot see: which record a removed one was (its type and time are as the issuer
   * says), so a record the removal did take in is all it asks for.
   */
  private static final class Removals {
    private final boolean detachedAllowed;
    private final Map<Long, JsonNode> removed = new TreeMap<>();
    private final Map<Long, JsonNode> retention = new HashMap<>();
    private final Set<Long> detached = new TreeSet<>();

    /**
     * @param detachedAllowed whether the bundle may hold retention records of no request (format 3)
     */
    Removals(boolean detachedAllowed) {
      this.detachedAllowed = detachedAllowed;
    }

    boolean detachedAllowed() {
      return detachedAllowed;
    }

    /** A record whose content was removed, anchored or newer than the newest anchor. */
    void removed(long seq, JsonNode record) {
      removed.put(seq, record);
    }

    /**
     * A retention or erasure record with its content; {@code detached}: of no request, in the
     * bundle only for the removals it accounts for.
     */
    void retention(long seq, JsonNode payload, boolean detached) {
      retention.put(seq, payload);
      if (detached) {
        this.detached.add(seq);
      }
    }

    void check(
        String requestId, String tenantId, Map<Long, RecordFinding> findings, Problems problems) {
      Set<Long> used = new HashSet<>();
      removed.forEach(
          (seq, record) -> {
            RecordFinding finding = findings.get(seq);
            if (finding == null
                || (finding.status() != Status.CONTENT_REMOVED
                    && finding.status() != Status.NOT_ANCHORED)) {
              return;
            }
            JsonNode bySeq = record.path("removedBySeq");
            long by = bySeq.isIntegralNumber() && bySeq.canConvertToLong() ? bySeq.asLong() : -1;
            RecordFinding justification = by < 0 ? null : findings.get(by);
            String unjustified;
            if (by < 0) {
              unjustified = "its content was removed, but it names no removedBySeq";
            } else if (justification == null) {
              unjustified =
                  "its content was removed by seq "
                      + by
                      + ", says the bundle, but that record is not in it: nothing in the bundle"
                      + " accounts for the removal"
                      + (detachedAllowed
                          ? ""
                          : " (bundles before format "
                              + EvidenceBundle.FORMAT_3
                              + " leave out retention records of no request: ask for the bundle"
                              + " again)");
            } else if (justification.status() == Status.NOT_PROVEN) {
              // A problem names that record already, or the issuer withheld its content.
              findings.put(
                  seq,
                  with(
                      finding,
                      Status.NOT_PROVEN,
                      "content removed by seq " + by + ", which is not proven"));
              return;
            } else if (!retention.containsKey(by)) {
              unjustified =
                  "its content was removed by seq "
                      + by
                      + ", says the bundle, but that is a "
                      + justification.eventType()
                      + " record, not a retention or erasure record with its content";
            } else {
              unjustified = accountedFor(seq, record, by, requestId, tenantId);
            }
            String claimed = "seq " + seq + " (" + finding.eventType() + ")";
            if (unjustified != null) {
              problems.add(claimed + ": " + unjustified);
              findings.put(seq, with(finding, Status.NOT_PROVEN, unjustified));
              return;
            }
            used.add(by);
            findings.put(
                seq, with(finding, finding.status(), finding.detail() + "; " + describe(by)));
          });
      for (long seq : detached) {
        if (!used.contains(seq)) {
          problems.add(
              "seq "
                  + seq
                  + " is a retention record of no request that accounts for the removal of none"
                  + " of the bundle's records");
        }
      }
    }

    /** Why retention record {@code by} does not account for record {@code seq}'s removal. */
    private String accountedFor(
        long seq, JsonNode record, long by, String requestId, String tenantId) {
      ChainVerifier.RetentionRecord justification;
      try {
        justification = ChainVerifier.RetentionRecord.read(retention.get(by));
      } catch (IllegalArgumentException e) {
        return "its content was removed by seq " + by + ", whose content is not a retention record";
      }
      Instant recordedAt;
      try {
        recordedAt = Instant.parse(record.path("recordedAt").asText(""));
      } catch (java.time.format.DateTimeParseException e) {
        return "its recordedAt " + record.path("recordedAt") + " is not an instant";
      }
      // A removed record of chain version 3 carries its proven request and tenant; of version 2,
      // the bundle's word.
      String outside =
          justification.unjustified(
              seq,
              record.path("eventType").asText(""),
              record.has("tenantId") ? record.get("tenantId").asText(null) : tenantId,
              record.has("requestId") ? record.get("requestId").asText(null) : requestId,
              recordedAt,
              by);
      return outside == null
          ? null
          : "its content was removed by seq " + by + ", which does not account for it: " + outside;
    }

    /** The record that accounts for a removal, for the finding. */
    private String describe(long by) {
      JsonNode payload = retention.get(by);
      String scope = payload.path("scope").asText("");
      if (scope.equals("REQUEST")) {
        return "erased by the erasure record at seq " + by;
      }
      return "removed by the retention record at seq "
          + by
          + " ("
          + (scope.equals("TENANT")
              ? "tenant " + payload.path("tenantId").asText() + "'s period"
              : "the default period")
          + ", cutoff "
          + payload.path("cutoff").asText()
          + ")";
    }
  }

  /**
   * The request's unfinished flows ({@code FlowUnfinished} records) and the bulk actions on them
   * (an {@code unfinished.dismiss} or {@code unfinished.resend} of every open flow of a kind
   * recorded before an instant, of one tenant or all: a record of no request). A bulk action is in
   * a bundle only because it covers one of the request's flows, and the check says so: same kind,
   * its tenant (if it names one) the flow's, the flow's record recorded before its instant.
   */
  private static final class Flows {
    private final List<JsonNode> flows = new ArrayList<>();
    private final TreeSet<Long> removedFlows = new TreeSet<>();
    private final Map<Long, JsonNode> bulkActions = new TreeMap<>();

    void flow(JsonNode payload) {
      flows.add(payload);
    }

    /** A {@code FlowUnfinished} record whose content was removed (an erasure, retention). */
    void removedFlow(long seq) {
      removedFlows.add(seq);
    }

    void bulkAction(long seq, JsonNode payload) {
      bulkActions.put(seq, payload);
    }

    /**
     * Each bulk action must cover a flow of the bundle. When none with content does, but the bundle
     * holds a flow record of its tenant, before it, whose content was removed (an erasure of the
     * request keeps the bulk action, a record of no request, and empties the flow's), the action is
     * shown, its cover not checked.
     */
    void check(String tenantId, Map<Long, RecordFinding> findings, Problems problems) {
      bulkActions.forEach(
          (seq, action) -> {
            String what = action == null ? "" : action.path("action").asText("");
            if (!what.equals("unfinished.dismiss") && !what.equals("unfinished.resend")) {
              problems.add(
                  "seq "
                      + seq
                      + " is an action of no request that is not a bulk action on unfinished"
                      + " flows");
              return;
            }
            if (flows.stream().anyMatch(flow -> covers(action, flow))) {
              return;
            }
            String tenant = action.path("tenantId").asText(null);
            Long removedFlow =
                tenant == null || tenant.equals(tenantId) ? removedFlows.lower(seq) : null;
            if (removedFlow == null) {
              problems.add(
                  "seq "
                      + seq
                      + " ("
                      + what
                      + ") covers none of the request's unfinished flows in the bundle");
              return;
            }
            RecordFinding finding = findings.get(seq);
            if (finding != null) {
              findings.put(
                  seq,
                  with(
                      finding,
                      finding.status(),
                      finding.detail()
                          + "; which flow it covers is not checked: the request's flow record"
                          + " (seq "
                          + removedFlow
                          + ") lost its content"));
            }
          });
    }

    private static boolean covers(JsonNode action, JsonNode flow) {
      JsonNode details = action.path("details");
      Instant before;
      Instant recorded;
      try {
        before = Instant.parse(details.path("recordedBefore").asText(""));
        recorded = Instant.parse(flow.path("recordedAt").asText(""));
      } catch (java.time.format.DateTimeParseException e) {
        return false;
      }
      String tenant = action.path("tenantId").asText(null);
      return details.path("kind").asText("").equals(flow.path("kind").asText(null))
          && (tenant == null || tenant.equals(flow.path("tenantId").asText(null)))
          && recorded.isBefore(before);
    }
  }

  /**
   * Each policy file in the bundle must have the digest it is listed under; returns the digests of
   * those that do.
   */
  private static Set<String> checkPolicies(JsonNode policies, Problems problems) {
    Set<String> included = new HashSet<>();
    for (JsonNode policy : policies) {
      String sha256 = policy.path("sha256").asText("");
      if (!policy.path("text").isTextual()) {
        problems.add("policy file " + sha256 + " has no text");
      } else if (!ContentHash.sha256Hex(policy.get("text").asText()).equals(sha256)) {
        problems.add(
            "the policy file listed as "
                + sha256
                + " has another SHA-256: it is not the file the verdict names");
      } else {
        included.add(sha256);
      }
    }
    return included;
  }

  /** The same finding with another status and detail. */
  private static RecordFinding with(RecordFinding finding, Status status, String detail) {
    return new RecordFinding(
        finding.seq(),
        finding.eventType(),
        status,
        detail,
        finding.anchorSeq(),
        finding.anchoredAt(),
        finding.keyId());
  }

  private static RecordFinding finding(
      long seq, String eventType, Status status, String detail, Covered covered) {
    return new RecordFinding(
        seq,
        eventType,
        status,
        detail,
        covered == null ? null : covered.lastSeq,
        covered == null ? null : covered.anchoredAt,
        covered == null ? null : covered.keyId);
  }

  private static Result failed(String problem, VerificationKeyRing keys) {
    return new Result(
        null, null, List.of(), List.of(problem), 0, 0, keys != null, Map.of(), false, 0);
  }

  private static byte[] hex(JsonNode node) {
    if (!node.isTextual() || !node.asText().matches("[0-9a-fA-F]{64}")) {
      return null;
    }
    return HEX.parseHex(node.asText().toLowerCase(java.util.Locale.ROOT));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
  }
}
