package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.evidence.EvidenceBundle;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.RequestOwner;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.schemas.ReplacingFiles;
import io.genguard.stack.GenGuardStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code genguard audit evidence}: writes a request's evidence bundle from the audit database and
 * the anchor file. Reads only: it anchors nothing, so records newer than the newest anchor are
 * shown in the bundle but not proven (the API's evidence route anchors the head first). Of a
 * request id two tenants use, one tenant's records ({@code --tenant}, as the route's {@code
 * ?tenant=}): without it such an id is refused, naming the tenants, and nothing is written (before
 * the fifty-second session the bundle held every tenant's records and failed its own check).
 */
@Command(
    name = "evidence",
    mixinStandardHelpOptions = true,
    description =
        "Write a request's evidence bundle: its audit records, with the digests and the signed"
            + " anchor lines that prove them to someone without the database (check it with"
            + " audit verify-evidence). Exit 0 = written, 1 = the chain does not prove the records.")
final class AuditEvidenceCommand implements Callable<Integer> {
  @Mixin AuditStoreOptions database;

  @Spec CommandSpec spec;

  @Option(names = "--request", paramLabel = "ID", required = true, description = "The request.")
  String requestId;

  @Option(
      names = "--tenant",
      paramLabel = "T",
      description =
          "Whose records, where two tenants use the request id (needed then): that tenant's and"
              + " those of no tenant, as the API's ?tenant= gives them.")
  String tenant;

  @Option(
      names = "--out",
      paramLabel = "FILE",
      required = true,
      description = "Where to write the bundle (JSON).")
  Path out;

  @Option(
      names = "--anchors",
      paramLabel = "FILE",
      description =
          "The audit service's anchor file (GENGUARD_AUDIT_ANCHOR_FILE). Default with --stack-dir:"
              + " the stack's "
              + GenGuardStack.ANCHOR_FILE
              + ".")
  Path anchorFile;

  @Option(
      names = "--max-links",
      paramLabel = "N",
      description =
          "Most digests the bundle may hold (default: ${DEFAULT-VALUE}, about 130 MB); the records"
              + " between the request's and the anchor after them count.")
  long maxLinks = EvidenceBundle.MAX_LINKS;

  @Override
  public Integer call() throws Exception {
    if (maxLinks < 1) {
      throw new IllegalArgumentException("--max-links must be at least 1; got " + maxLinks);
    }
    Path file =
        anchorFile != null
            ? anchorFile
            : database.stackDir == null
                ? null
                : database.stackDir.resolve(GenGuardStack.ANCHOR_FILE);
    if (file == null) {
      throw new IllegalArgumentException(
          "An evidence bundle proves records against the anchor file: give --anchors FILE (or"
              + " --stack-dir DIR of an embedded stack)");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "--anchors "
              + file
              + " does not exist or is not a file: nothing has been anchored there");
    }
    if (Files.exists(out) && Files.isSameFile(out, file)) {
      throw new IllegalArgumentException(
          "--out " + out + " is the anchor file the bundle is proved against; write it elsewhere");
    }
    Clock clock = Clock.systemUTC();
    Optional<ObjectNode> bundle;
    try (AuditDatabase db = database.connect(false)) {
      // Whose records, as the API's route decides: the tenant named, or the id's only tenant. Its
      // bundle is then built for that tenant, so that another tenant's records written meanwhile
      // stay out of it.
      Optional<RequestOwner> owner;
      try {
        owner = EvidenceBundle.find(db.dataSource(), requestId, tenant);
      } catch (ConflictException e) {
        throw new IllegalArgumentException(
            "Request "
                + requestId
                + " has records of more than one tenant ("
                + String.join(", ", e.tenants())
                + "), which use the same request id: name the tenant whose evidence it is with"
                + " --tenant T; nothing was written");
      }
      if (owner.isEmpty()) {
        throw new IllegalArgumentException(
            "The audit chain holds no record of request "
                + requestId
                + (tenant == null ? "" : " of tenant " + tenant));
      }
      bundle =
          EvidenceBundle.build(
              db.dataSource(),
              new EvidenceBundle.Request(
                  requestId,
                  null,
                  owner.get().tenantId(),
                  file,
                  new PolicyArchive(db.dataSource(), clock),
                  "audit evidence (command line, user " + System.getProperty("user.name") + ")",
                  maxLinks,
                  null),
              clock.instant());
    } catch (EvidenceBundle.EvidenceException e) {
      spec.commandLine().getErr().println(e.getMessage());
      return 1;
    }
    if (bundle.isEmpty()) {
      throw new IllegalArgumentException("The audit chain holds no record of request " + requestId);
    }
    // Written beside it, then moved into place: a failed write leaves no half bundle at --out.
    ObjectNode written = bundle.get();
    ReplacingFiles.write(
        out,
        ReplacingFiles.OnStop.REMOVE,
        line -> spec.commandLine().getErr().println("audit evidence: " + line),
        stream -> new ObjectMapper().writeValue(stream, written));
    EvidenceCheck.Result result = EvidenceCheck.check(bundle.get(), null);
    long pending =
        result.records().stream()
            .filter(r -> r.status() == EvidenceCheck.Status.NOT_ANCHORED)
            .count();
    spec.commandLine()
        .getErr()
        .println(
            "Wrote the evidence of request "
                + requestId
                + " to "
                + out
                + ": "
                + result.records().size()
                + " records, "
                + result.segments()
                + " segment(s), "
                + result.links()
                + " links"
                + (pending > 0
                    ? "; "
                        + pending
                        + " record(s) newer than the newest anchor are shown, not proven (ask again"
                        + " after the next anchor, or through the API, which anchors first)"
                    : "")
                + ". Check it with: ./genguard audit verify-evidence --in "
                + out
                + " --anchor-keys "
                + file
                + ".keys");
    return 0;
  }
}
