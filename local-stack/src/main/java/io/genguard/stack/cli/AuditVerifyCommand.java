package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.persistence.AnchorIndex;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AnchorWitness;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.schemas.BoundedFiles;
import io.genguard.schemas.Topics;
import io.genguard.schemas.UnusablePaths;
import io.genguard.stack.GenGuardStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.CommonClientConfigs;
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
      names = "--from-seq",
      paramLabel = "SEQ",
      description =
          "With --from-hash: a head an earlier verification printed (head seq and hash), kept"
              + " outside the database; only the records from it on are walked, which proves they"
              + " extend what the head committed to. The records before it are re-checked only by"
              + " a whole walk (without these options).")
  Long fromSeq;

  @Option(
      names = "--from-hash",
      paramLabel = "HEX",
      description = "The hash printed for --from-seq.")
  String fromHash;

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

  @Option(
      names = "--anchor-keys",
      paramLabel = "FILE",
      description =
          "Public keys (id:base64 lines) the anchor file's lines must be signed with, as the audit"
              + " service writes them beside it (ANCHOR_FILE.keys); keep a copy away from the"
              + " service. Every line after the first signed one must be signed and follow the line"
              + " before it. Default with --stack-dir: the stack's "
              + GenGuardStack.ANCHOR_FILE
              + ".keys when it exists.")
  Path anchorKeyFile;

  @Option(
      names = "--witness",
      paramLabel = "HOST:PORT",
      description =
          "Kafka bootstrap servers of the cluster that holds the anchor witness topic"
              + " (GENGUARD_AUDIT_ANCHOR_WITNESS_TOPIC): every line there must be in the anchor"
              + " file as written, and the chain must hold the witnessed heads too, which shows a"
              + " file cut or rewritten together with the chain. For the embedded stack, while it"
              + " runs: the broker address it prints at start.")
  String witnessBootstrap;

  @Option(
      names = "--witness-topic",
      paramLabel = "TOPIC",
      defaultValue = Topics.AUDIT_ANCHOR_WITNESS,
      description = "The witness topic (default: ${DEFAULT-VALUE}).")
  String witnessTopic;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ChainVerifier.Anchor anchor = head("--anchor-seq", anchorSeq, "--anchor-hash", anchorHash);
    ChainVerifier.Anchor from = head("--from-seq", fromSeq, "--from-hash", fromHash);
    // Heads to check the chain against: the one given, the file's, the witness's, each kept
    // compactly (AnchorIndex), as a year of anchors is half a million lines.
    List<AnchorIndex> heads = new ArrayList<>();
    if (anchor != null) {
      heads.add(AnchorIndex.of(anchor));
    }
    Path file = anchorFile != null ? anchorFile : stackAnchors(database.stackDir);
    if (witnessBootstrap != null && file == null && database.stackDir == null) {
      throw new IllegalArgumentException(
          "--witness compares an anchor file with its witness: give --anchors FILE too");
    }
    Path keyFile = anchorKeyFile != null ? anchorKeyFile : stackAnchorKeys(file, database.stackDir);
    if (keyFile != null && file == null) {
      throw new IllegalArgumentException(
          "--anchor-keys checks the signatures of an anchor file: give --anchors FILE too");
    }
    // The signatures are checked as the file is read.
    VerificationKeyRing keys = keyFile == null ? null : anchorKeys(keyFile);
    AnchorLog.Indexed read;
    if (witnessBootstrap != null) {
      // Against a witness, a file emptied or removed is a finding, not a usage error.
      read = file == null ? null : readAnchorsIfAny(file, keys);
      if (read == null) {
        System.err.println("The anchor file is missing or holds no anchor; comparing the witness");
        read = new AnchorLog.Indexed(new AnchorIndex(), false, null);
      }
    } else {
      read = file == null ? null : readAnchors(file, keys);
    }
    if (read != null) {
      heads.add(read.lines());
    }
    AnchorWitness.WitnessCheck witnessed = null;
    if (witnessBootstrap != null) {
      AnchorWitness.WitnessLines lines =
          AnchorWitness.readLines(
              Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, witnessBootstrap),
              witnessTopic,
              Duration.ofSeconds(30));
      witnessed = AnchorWitness.check(witnessTopic, read.lines(), lines);
      heads.add(lines.lines());
    }
    AnchorLog.SignatureCheck signatures = read == null ? null : read.signatures();
    List<ChainVerifier.Anchor> anchors = AnchorIndex.merged(heads);
    ChainVerifier.Verification result;
    try (AuditDatabase db = database.connect(false)) {
      result =
          from == null
              ? ChainVerifier.verify(db.dataSource(), anchors)
              : ChainVerifier.verifyFrom(db.dataSource(), from, anchors);
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
    ObjectMapper mapper = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    if (json) {
      ObjectNode out = mapper.valueToTree(result);
      // As the API's verification: a file edited without the key, or that its witness contradicts,
      // fails the whole check.
      out.put("valid", valid(result, signatures, witnessed));
      if (signatures != null) {
        out.set("anchorSignatures", mapper.valueToTree(signatures));
      }
      if (witnessed != null) {
        out.set("anchorWitness", mapper.valueToTree(witnessed));
      }
      System.out.println(mapper.writeValueAsString(out));
    } else {
      System.out.println(result.summary());
      if (signatures != null) {
        System.out.println(signatureSummary(signatures, keyFile));
      }
      if (witnessed != null) {
        System.out.println(witnessed.summary());
      }
    }
    return valid(result, signatures, witnessed) ? 0 : 1;
  }

  /**
   * A head given as two options (a seq and its hash, as a previous verification printed them), or
   * null when neither is.
   */
  private static ChainVerifier.Anchor head(
      String seqOption, Long seq, String hashOption, String hash) {
    return ChainVerifier.Anchor.given(
        seqOption, seq == null ? null : seq.toString(), hashOption, hash);
  }

  private static boolean valid(
      ChainVerifier.Verification result,
      AnchorLog.SignatureCheck signatures,
      AnchorWitness.WitnessCheck witnessed) {
    return result.valid()
        && (signatures == null || signatures.valid())
        && (witnessed == null || witnessed.valid());
  }

  static String signatureSummary(AnchorLog.SignatureCheck check, Path keyFile) {
    if (check.valid()) {
      return "Anchor signatures OK: "
          + check.signed()
          + " line(s) signed with the keys of "
          + keyFile
          + ", each following the one before"
          + (check.unsignedBefore() > 0
              ? "; " + check.unsignedBefore() + " unsigned line(s) before the first signed one"
              : "");
    }
    return "Anchor signatures BROKEN ("
        + check.problems().size()
        + " problem(s), keys from "
        + keyFile
        + "):\n  "
        + String.join("\n  ", check.problems());
  }

  /** The public keys beside the stack's anchor file, if that is the file checked and they exist. */
  static Path stackAnchorKeys(Path anchorFile, Path stackDir) {
    if (anchorFile == null
        || stackDir == null
        || !anchorFile.equals(stackDir.resolve(GenGuardStack.ANCHOR_FILE))) {
      return null;
    }
    Path keys = AnchorLog.publicKeyFile(anchorFile);
    if (!Files.exists(keys)) {
      return null;
    }
    System.err.println("Checking the anchors' signatures with " + keys);
    return keys;
  }

  /**
   * Refuses a file named by {@code flag} that is a directory or that this user cannot read: input
   * the user gave, a usage error (exit 2) as a missing file is, where reading it failed the run
   * (exit 1). A missing file is left to the caller, which says so in its own words.
   */
  static void requireReadableFile(String flag, Path file) {
    String why = UnusablePaths.whyNotAFileToRead(file);
    if (why != null && !why.equals(UnusablePaths.MISSING)) {
      throw new IllegalArgumentException(flag + " " + file + " " + why);
    }
  }

  /**
   * As {@link #requireReadableFile}, and a missing file is refused too, with "does not exist": for
   * a command that checks every file it is given before it reads any.
   */
  static void requireExistingFile(String flag, Path file) {
    String why = UnusablePaths.whyNotAFileToRead(file);
    if (why != null) {
      throw new IllegalArgumentException(flag + " " + file + " " + why);
    }
  }

  static VerificationKeyRing anchorKeys(Path keyFile) throws IOException {
    requireReadableFile("--anchor-keys", keyFile);
    String entries;
    try {
      // Read up to the limit only: a device such as /dev/zero has no size to check first.
      entries = BoundedFiles.readUtf8(keyFile, 64 * 1024);
    } catch (BoundedFiles.TooLargeException e) {
      throw new IllegalArgumentException(
          "--anchor-keys "
              + keyFile
              + " is larger than 65536 bytes; a key file has a line of about 60 per key");
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--anchor-keys " + keyFile + " does not exist");
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalArgumentException(
          "--anchor-keys " + keyFile + " is not UTF-8 text, so not a key file");
    }
    try {
      return VerificationKeyRing.parse(entries, "--anchor-keys " + keyFile);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--anchor-keys " + keyFile + " is not a file of id:base64 public keys: " + e.getMessage(),
          e);
    }
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

  /**
   * The file's anchors, with its signatures checked against {@code keys} (none when null), or null
   * when it does not exist or holds none.
   */
  private static AnchorLog.Indexed readAnchorsIfAny(Path file, VerificationKeyRing keys)
      throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    requireReadableFile("--anchors", file);
    AnchorLog.Indexed read = AnchorLog.index(file, keys);
    return read.lines().isEmpty() ? null : read;
  }

  private static AnchorLog.Indexed readAnchors(Path file, VerificationKeyRing keys)
      throws IOException {
    requireReadableFile("--anchors", file);
    AnchorLog.Indexed read;
    try {
      read = AnchorLog.index(file, keys);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--anchors " + file + " does not exist");
    }
    if (read.lines().isEmpty()) {
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
    return read;
  }
}
