package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.stack.GenGuardStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit verify}: recomputes the audit hash chain in a database and reports the
 * first broken link. Reads only; exit status 0 when the chain holds, 1 when it is broken.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description =
        "Recompute the audit hash chain and report the first broken link (exit 0 = intact, 1 = broken).")
final class AuditVerifyCommand implements Callable<Integer> {
  @Mixin AuditStoreOptions database;

  @Option(
      names = "--anchor-seq",
      paramLabel = "SEQ",
      description =
          "With --anchor-hash: a head recorded earlier; detects removal of the newest records.")
  Long anchorSeq;

  @Option(
      names = "--anchor-hash",
      paramLabel = "HEX",
      description = "The hash recorded for --anchor-seq.")
  String anchorHash;

  @Option(
      names = "--anchors",
      paramLabel = "FILE",
      description =
          "An anchor file the audit service wrote (GENGUARD_AUDIT_ANCHOR_FILE): every head in"
              + " it must still be in the chain, which shows records removed and a chain rebuilt"
              + " after an edit. Default with --stack-dir: the stack's "
              + GenGuardStack.ANCHOR_FILE
              + " when it exists.")
  Path anchorFile;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if ((anchorSeq == null) != (anchorHash == null)) {
      throw new IllegalArgumentException(
          "--anchor-seq and --anchor-hash go together: give both, as a previous"
              + " verification printed them (head seq and hash)");
    }
    if (anchorHash != null && !anchorHash.matches("[0-9a-fA-F]{64}")) {
      throw new IllegalArgumentException(
          "--anchor-hash '" + anchorHash + "' is not 64 hexadecimal characters");
    }
    if (anchorSeq != null && anchorSeq < 1) {
      throw new IllegalArgumentException(
          "--anchor-seq is a record number, at least 1; got " + anchorSeq);
    }
    List<ChainVerifier.Anchor> anchors = new ArrayList<>();
    if (anchorSeq != null) {
      anchors.add(new ChainVerifier.Anchor(anchorSeq, anchorHash));
    }
    Path file = anchorFile != null ? anchorFile : stackAnchors(database.stackDir);
    if (file != null) {
      anchors.addAll(readAnchors(file));
    }
    ChainVerifier.Verification result;
    try (AuditDatabase db = database.connect(false)) {
      result = ChainVerifier.verify(db.dataSource(), anchors);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot read the audit chain at "
              + database.jdbcUrl
              + ": "
              + e.getMessage()
              + (e.getMessage() != null && e.getMessage().contains("does not exist")
                  ? " (is this a GenGuard audit database, migrated by a current audit service?)"
                  : ""),
          e);
    }
    if (json) {
      System.out.println(
          new ObjectMapper()
              .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
              .writeValueAsString(result));
    } else {
      System.out.println(result.summary());
    }
    return result.valid() ? 0 : 1;
  }

  /** The embedded stack's anchor file in {@code stackDir}, if there is one. */
  static Path stackAnchors(Path stackDir) {
    if (stackDir == null) {
      return null;
    }
    Path file = stackDir.resolve(GenGuardStack.ANCHOR_FILE);
    if (!Files.exists(file)) {
      return null;
    }
    System.err.println("Checking the anchors in " + file);
    return file;
  }

  private static List<ChainVerifier.Anchor> readAnchors(Path file) throws IOException {
    AnchorLog.Anchors read;
    try {
      read = AnchorLog.read(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--anchors " + file + " does not exist");
    }
    if (read.anchors().isEmpty()) {
      throw new IllegalArgumentException(
          "--anchors "
              + file
              + " holds no complete anchor, so it proves nothing; the audit service appends one"
              + " once the chain has records");
    }
    if (read.incompleteLastLine()) {
      System.err.println(
          "Note: the last line of " + file + " is incomplete (a write torn by a crash); left out");
    }
    return read.anchors();
  }
}
