package io.genguard.stack.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.provenance.manifest.VerificationKeyRing;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit verify-evidence}: checks an evidence bundle with the anchor keys' public
 * halves alone, no database, no network; prints what each record says and whether it is proven.
 */
@Command(
    name = "verify-evidence",
    mixinStandardHelpOptions = true,
    description =
        "Check an evidence bundle (audit evidence, or GET /api/v1/requests/ID/evidence) with the"
            + " anchor signing keys' public halves alone: no database, no network. Exit 0 = every"
            + " record proven, 1 = anything else.")
final class AuditVerifyEvidenceCommand implements Callable<Integer> {
  @Option(names = "--in", paramLabel = "FILE", required = true, description = "The bundle.")
  Path in;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Trust trust;

  static final class Trust {
    @Option(
        names = "--anchor-keys",
        paramLabel = "FILE",
        description =
            "Public keys (id:base64 lines) the anchor lines must be signed with: the audit"
                + " service's ANCHOR_FILE.keys (GET /api/v1/audit/anchors/keys), from a copy kept"
                + " away from the service, never from the bundle's issuer alone.")
    Path keyFile;

    @Option(
        names = "--unsigned",
        description =
            "Take the anchor lines on trust (an anchor file written without signing keys); then"
                + " compare each bundle's anchor line with a copy of the anchor file kept"
                + " elsewhere.")
    boolean unsigned;
  }

  @Option(
      names = "--anchors",
      paramLabel = "FILE",
      description =
          "A copy of the anchor file kept apart from the service (GET /api/v1/audit/anchors,"
              + " fetched earlier): each anchor line of the bundle must be in it as written. Needs"
              + " no keys, so it is what makes --unsigned worth something, and it also shows a line"
              + " rewritten later by whoever holds the key.")
  Path anchorCopy;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    // Each file named is checked before any is read: a missing file, a directory or an unreadable
    // file is a usage error, whatever the others hold (a bundle that is not JSON included).
    AuditVerifyCommand.requireExistingFile("--in", in);
    if (!trust.unsigned) {
      AuditVerifyCommand.requireExistingFile("--anchor-keys", trust.keyFile);
    }
    if (anchorCopy != null) {
      AuditVerifyCommand.requireExistingFile("--anchors", anchorCopy);
    }
    VerificationKeyRing keys = trust.unsigned ? null : AuditVerifyCommand.anchorKeys(trust.keyFile);
    JsonNode bundle;
    EvidenceCheck.Result result;
    try (InputStream stream = open(in)) {
      // Read once, as a tree within the bundle's limits; the text itself is never held.
      bundle = EvidenceCheck.read(stream);
      result = EvidenceCheck.check(bundle, keys);
    } catch (JsonProcessingException e) {
      bundle = null;
      result = EvidenceCheck.unreadable(e, keys);
    }
    // A bundle that is not JSON, or JSON but no object, or an object without segments ({} too) has
    // no anchor line to compare: the copy is then not compared, and no problems (an empty list)
    // must not read as every line found in it. Nor is it compared when no segment's anchor line is
    // one: none was looked up in the copy (each is named among the copy's problems). The copy is
    // read whatever the bundle holds, so that one that is no anchor file is refused (exit 2) in
    // every case, as a missing one is: the recipient's own record, to be mended before the next
    // bundle, not a finding about this one. Before the forty-ninth session it was read only when
    // the bundle had segments.
    boolean readable = bundle != null && bundle.isObject();
    int anchorLines = readable ? EvidenceCheck.anchorLines(bundle) : 0;
    List<String> copyProblems = null;
    int linesCompared = 0;
    if (anchorCopy != null) {
      try {
        EvidenceCheck.AnchorCopyComparison comparison =
            EvidenceCheck.compareWithCopy(readable ? bundle : null, anchorCopy);
        linesCompared = comparison.linesCompared();
        // With none looked up, the problems name each segment as not compared: never empty.
        copyProblems = anchorLines > 0 ? comparison.problems() : null;
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException("--anchors " + anchorCopy + " does not exist");
      }
    }
    boolean copyCompared = linesCompared > 0;
    boolean holds = result.complete() && (copyProblems == null || copyProblems.isEmpty());
    ObjectMapper mapper = new ObjectMapper();
    if (json) {
      ObjectNode body = mapper.valueToTree(result);
      body.put("intact", result.intact());
      body.put("complete", result.complete());
      if (anchorCopy != null) {
        body.put("anchorCopyCompared", copyCompared);
        // How many of the segments' anchor lines were looked up in the copy (found there or not;
        // not those that are no anchor line): 0 when not compared.
        body.put("anchorLinesCompared", linesCompared);
        // null when not compared: an empty list says every anchor line is in the copy.
        body.set("anchorCopyProblems", mapper.valueToTree(copyProblems));
      }
      body.put("holds", holds);
      System.out.println(mapper.writeValueAsString(body));
    } else {
      System.out.println(result.summary());
      Map<Long, String> described = bundle == null ? Map.of() : describe(mapper, bundle);
      for (EvidenceCheck.RecordFinding record : result.records()) {
        System.out.println(
            "  seq "
                + record.seq()
                + " "
                + record.eventType()
                + ": "
                + record.status()
                + (record.anchorSeq() == null
                    ? ""
                    : " by the anchor at seq "
                        + record.anchorSeq()
                        + " written "
                        + record.anchoredAt()
                        + (record.keyId() == null ? "" : ", signed by " + record.keyId()))
                + (record.status() == EvidenceCheck.Status.PROVEN
                    ? ""
                    : " (" + record.detail() + ")")
                + described.getOrDefault(record.seq(), ""));
      }
      result
          .policies()
          .forEach(
              (sha256, included) ->
                  System.out.println(
                      "  policy file "
                          + sha256
                          + (included
                              ? ": in the bundle, its SHA-256 checked"
                              : ": named by a verdict, not in the bundle (GET /api/v1/policies/"
                                  + sha256
                                  + " with a global token)")));
      for (String problem : result.problems()) {
        System.out.println("  problem: " + problem);
      }
      if (anchorCopy != null && !copyCompared) {
        System.out.println(
            "  The anchor copy "
                + anchorCopy
                + " was not compared: "
                + (!readable
                    ? "the bundle could not be read."
                    : anchorLines == 0
                        ? "the bundle has no anchor lines (no segments)."
                        : "no segment's anchor line is an anchor line."));
      }
      if (copyProblems != null && (copyCompared || !copyProblems.isEmpty())) {
        System.out.println(
            copyProblems.isEmpty()
                ? "  Every anchor line of the bundle is in " + anchorCopy + " as written."
                : "  Anchor lines against "
                    + anchorCopy
                    + ":\n    "
                    + String.join("\n    ", copyProblems));
      }
      if (!result.signaturesChecked() && anchorCopy == null) {
        System.out.println(
            "  The anchor lines were taken on trust (--unsigned): compare them with a copy of the"
                + " anchor file kept elsewhere (--anchors FILE).");
      }
    }
    return holds ? 0 : 1;
  }

  /** The bundle file, refused with its limit when larger than a bundle can be. */
  private static InputStream open(Path in) throws IOException {
    try {
      if (Files.size(in) > EvidenceCheck.MAX_BUNDLE_BYTES) {
        throw new IllegalArgumentException(
            "--in "
                + in
                + " is larger than "
                + EvidenceCheck.MAX_BUNDLE_BYTES
                + " bytes, more than a bundle holds");
      }
      return Files.newInputStream(in);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--in " + in + " does not exist");
    }
  }

  /** What each record with content says, in a few words, by seq (best effort, for people). */
  private static Map<Long, String> describe(ObjectMapper mapper, JsonNode bundle) {
    Map<Long, String> described = new HashMap<>();
    try {
      for (JsonNode record : bundle.path("records")) {
        if (!record.path("canonical").isTextual() || record.has("removedAt")) {
          continue;
        }
        // Chain version 3 keeps the event beside its canonical text (which holds its SHA-256).
        JsonNode event =
            mapper.readTree(
                record.path("payload").isTextual()
                    ? record.get("payload").asText()
                    : mapper.readTree(record.get("canonical").asText()).path("payload").asText(""));
        List<String> facts = new ArrayList<>();
        for (String field : List.of("decision", "outcome", "action")) {
          if (event.path(field).isTextual()) {
            facts.add(field + " " + event.get(field).asText());
          }
        }
        if (event.path("caller").path("name").isTextual()) {
          facts.add("by " + event.get("caller").get("name").asText());
        }
        if (event.path("reviewer").isTextual()) {
          facts.add("by " + event.get("reviewer").asText());
        }
        for (JsonNode reason : event.path("reasons")) {
          String message = reason.isTextual() ? reason.asText() : reason.path("message").asText("");
          if (!message.isEmpty()) {
            facts.add("reason: " + message);
          }
        }
        if (event.path("policySha256").isTextual()) {
          facts.add("policy " + event.get("policySha256").asText());
        }
        if (!facts.isEmpty()) {
          described.put(record.path("seq").asLong(), "\n      " + String.join("; ", facts));
        }
      }
    } catch (JsonProcessingException e) {
      // The check has said what is wrong with the bundle; nothing more to describe.
    }
    return described;
  }
}
