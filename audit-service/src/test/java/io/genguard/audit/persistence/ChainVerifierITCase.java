package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.ChainVerifier.Problem;
import io.genguard.audit.persistence.ChainVerifier.Verification;
import io.genguard.events.v1.Decision;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.SyncFailedException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tamper evidence: an attacker with SQL access edits, deletes or reorders records; verify finds it.
 */
class ChainVerifierITCase {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private AuditDatabase database;

  @BeforeEach
  void freshDatabaseWithTwentyRecords(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("chain_", test);
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    for (int i = 0; i < 5; i++) {
      writer.write(AuditEvents.story(Scenario.of("req-" + i, "acme", Decision.REVIEW, NOW)));
    }
  }

  @AfterEach
  void close() {
    database.close();
  }

  @Test
  void shouldVerifyAnUntouchedChain() throws Exception {
    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.valid()).as(result.summary()).isTrue();
    assertThat(result.records()).isEqualTo(20);
    assertThat(result.headSeq()).isEqualTo(20);
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(result.headHash())
          .isEqualTo(AuditChain.hex(ChainAppender.tail(connection).hash()));
    }
    assertThat(result.summary()).startsWith("Audit chain OK: 20 records");
  }

  @Test
  void shouldReportTheEditedRecordWhenAPayloadIsChangedWithSql() throws Exception {
    execute(
        "update audit_log set payload = replace(payload, 'Generated text', 'Harmless text') where seq = 6");

    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.valid()).isFalse();
    assertThat(result.firstBreak().seq()).isEqualTo(6);
    assertThat(result.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
    assertThat(result.records()).isEqualTo(5);
    assertThat(result.summary()).contains("BROKEN at seq 6").contains("Records 1..5 verified");
  }

  @Test
  void shouldVerifyOnlyTheRecordsFromAHeadAnEarlierVerificationReported() throws Exception {
    Verification first = ChainVerifier.verify(database.dataSource());
    ChainVerifier.Anchor head = new ChainVerifier.Anchor(first.headSeq(), first.headHash());
    new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("req-more", "acme", Decision.RELEASE, NOW)));

    Verification next = ChainVerifier.verifyFrom(database.dataSource(), head, List.of());

    assertThat(next.valid()).as(next.summary()).isTrue();
    assertThat(next.fromSeq()).isEqualTo(20);
    assertThat(next.records()).as("the head and the four after it").isEqualTo(5);
    assertThat(next.headSeq()).isEqualTo(24);
    assertThat(next.summary()).startsWith("Audit chain OK from seq 20: 5 records");
    assertThat(ChainVerifier.verify(database.dataSource()).headHash()).isEqualTo(next.headHash());

    // Anchors before the head are not checked; those from it on are.
    Verification anchored =
        ChainVerifier.verifyFrom(
            database.dataSource(),
            head,
            List.of(
                new ChainVerifier.Anchor(3, "0".repeat(64)),
                new ChainVerifier.Anchor(24, next.headHash())));
    assertThat(anchored.valid()).as(anchored.summary()).isTrue();
    assertThat(anchored.anchorsMatched()).isEqualTo(1);

    // A head whose hash the chain does not have, or whose record it no longer holds.
    Verification wrongHash =
        ChainVerifier.verifyFrom(
            database.dataSource(), new ChainVerifier.Anchor(20, "0".repeat(64)), List.of());
    assertThat(wrongHash.firstBreak().seq()).isEqualTo(20);
    assertThat(wrongHash.firstBreak().problem()).isEqualTo(Problem.ANCHOR_MISMATCH);
    assertThat(wrongHash.firstBreak().detail()).contains("the head to start from says seq 20");
    assertThat(wrongHash.summary()).doesNotContain("Records");
    Verification gone =
        ChainVerifier.verifyFrom(
            database.dataSource(), new ChainVerifier.Anchor(99, first.headHash()), List.of());
    assertThat(gone.firstBreak().problem()).isEqualTo(Problem.ANCHOR_MISMATCH);
    assertThat(gone.firstBreak().detail()).contains("which the chain no longer holds");

    // A record after the head edited.
    execute(
        "update audit_log set payload = replace(payload, 'Generated text', 'Harmless text') where seq = 22");
    Verification edited = ChainVerifier.verifyFrom(database.dataSource(), head, List.of());
    assertThat(edited.firstBreak().seq()).isEqualTo(22);
    assertThat(edited.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
    assertThat(edited.summary()).contains("Records 20..21 verified");
  }

  @Test
  void shouldShowAChainRewrittenBeforeTheHeadButNotReCheckTheRecordsBeforeIt() throws Exception {
    Verification first = ChainVerifier.verify(database.dataSource());
    ChainVerifier.Anchor head = new ChainVerifier.Anchor(first.headSeq(), first.headHash());
    execute(
        "update audit_log set payload = replace(payload, 'Generated text', 'Forged text') where seq = 6");

    // Edited alone, record 6 is before the head: only the whole walk sees it.
    assertThat(ChainVerifier.verifyFrom(database.dataSource(), head, List.of()).valid()).isTrue();
    assertThat(ChainVerifier.verify(database.dataSource()).firstBreak().seq()).isEqualTo(6);

    // Rebuilt up to the record before the head, the head's link re-pointed and its hash kept: the
    // head no longer hashes to what it says.
    rebuildChain(6, 19);
    execute(
        "update audit_log set prev_hash = (select hash from audit_log where seq = 19) where seq = 20");
    Verification relinked = ChainVerifier.verifyFrom(database.dataSource(), head, List.of());
    assertThat(relinked.firstBreak().seq()).isEqualTo(20);
    assertThat(relinked.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);

    // Rebuilt through the head: its hash is not the one kept.
    rebuildChain(6, 20);
    Verification rebuilt = ChainVerifier.verifyFrom(database.dataSource(), head, List.of());
    assertThat(rebuilt.firstBreak().seq()).isEqualTo(20);
    assertThat(rebuilt.firstBreak().problem()).isEqualTo(Problem.ANCHOR_MISMATCH);
    assertThat(rebuilt.firstBreak().detail()).contains("the chain was rewritten");
  }

  @Test
  void shouldReportAnEditedColumnOutsideThePayload() throws Exception {
    execute("update audit_log set tenant_id = 'globex' where seq = 9");

    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.firstBreak().seq()).isEqualTo(9);
    assertThat(result.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
  }

  @Test
  void shouldReportAForgedRecordWhoseDigestAndHashWereRecomputedButNotItsSuccessors()
      throws Exception {
    // A careful attacker recomputes the edited record's digest and hash: its successor's link
    // breaks.
    execute(
        "update audit_log set payload = replace(payload, 'Generated text', 'Forged text') where seq = 4");
    rebuildChain(4, 4);

    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.firstBreak().seq()).isEqualTo(5);
    assertThat(result.firstBreak().problem()).isEqualTo(Problem.PREVIOUS_HASH_MISMATCH);
  }

  @Test
  void shouldReportDeletedRecordsAsAGapInTheSequence() throws Exception {
    deleteRecords("seq in (12, 13)");

    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.firstBreak().seq()).isEqualTo(14);
    assertThat(result.firstBreak().problem()).isEqualTo(Problem.SEQUENCE_GAP);
    assertThat(result.firstBreak().detail()).contains("expected seq 12 but found 14");
  }

  @Test
  void shouldReportRecordsSwappedInOrder() throws Exception {
    execute("update audit_log set seq = -1 where seq = 7");
    execute("update audit_log set seq = 7 where seq = 8");
    execute("update audit_log set seq = 8 where seq = -1");

    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.firstBreak().seq()).isEqualTo(7);
    assertThat(result.firstBreak().problem()).isEqualTo(Problem.PREVIOUS_HASH_MISMATCH);
  }

  @Test
  void shouldReportContentRemovedWithoutARetentionRecord() throws Exception {
    execute(
        "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = 20 where seq = 3");

    Verification result = ChainVerifier.verify(database.dataSource());

    assertThat(result.firstBreak().seq()).isEqualTo(3);
    assertThat(result.firstBreak().problem()).isEqualTo(Problem.UNJUSTIFIED_TOMBSTONE);
  }

  @Test
  void shouldDetectRemovalOfTheNewestRecordsAgainstAnAnchor() throws Exception {
    Verification before = ChainVerifier.verify(database.dataSource());
    ChainVerifier.Anchor anchor = new ChainVerifier.Anchor(before.headSeq(), before.headHash());
    deleteRecords("seq >= 19");

    assertThat(ChainVerifier.verify(database.dataSource()).valid())
        .as("without an anchor a truncated chain still links")
        .isTrue();
    Verification anchored = ChainVerifier.verify(database.dataSource(), anchor);

    assertThat(anchored.valid()).isFalse();
    assertThat(anchored.firstBreak().problem()).isEqualTo(Problem.ANCHOR_MISMATCH);
    assertThat(anchored.firstBreak().detail()).contains("chain ends at seq 18");
  }

  @Test
  void shouldExposeAChainRebuiltAfterAnEditAgainstTheAnchorFile(@TempDir Path dir)
      throws Exception {
    AnchorLog anchors = new AnchorLog(dir.resolve("anchors.jsonl"), Clock.systemUTC());
    assertThat(anchors.publish(database.dataSource()).outcome())
        .isEqualTo(AnchorLog.Outcome.APPENDED);
    // Someone who can write the database edits record 6 and recomputes every hash from there on.
    execute(
        "update audit_log set payload = replace(payload, 'Generated text', 'Forged text') where seq = 6");
    rebuildChain(6, 20);

    assertThat(ChainVerifier.verify(database.dataSource()).valid())
        .as("a rebuilt chain links again; only a head kept elsewhere shows the rewrite")
        .isTrue();
    Verification anchored =
        ChainVerifier.verify(database.dataSource(), AnchorLog.read(anchors.file()).anchors());
    assertThat(anchored.valid()).isFalse();
    assertThat(anchored.firstBreak().seq()).isEqualTo(20);
    assertThat(anchored.firstBreak().problem()).isEqualTo(Problem.ANCHOR_MISMATCH);
    assertThat(anchored.firstBreak().detail()).contains("the chain was rewritten");

    String before = Files.readString(anchors.file());
    AnchorLog.Published next = anchors.publish(database.dataSource());
    assertThat(next.outcome()).isEqualTo(AnchorLog.Outcome.CONFLICT);
    assertThat(next.detail()).contains("record 20 has hash").contains("the chain was rewritten");
    assertThat(Files.readString(anchors.file()))
        .as("the evidence stays as it was")
        .isEqualTo(before);
  }

  @Test
  void shouldAnchorTheHeadEachTimeTheChainGrewAndVerifyAgainstEveryAnchor(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("audit").resolve("anchors.jsonl");
    AnchorLog anchors = new AnchorLog(file, Clock.systemUTC());
    assertThat(anchors.publish(database.dataSource()).anchor().seq()).isEqualTo(20);
    assertThat(anchors.publish(database.dataSource()).outcome())
        .isEqualTo(AnchorLog.Outcome.UNCHANGED);
    new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("req-more", "acme", Decision.RELEASE, NOW)));
    assertThat(anchors.publish(database.dataSource()).anchor().seq()).isEqualTo(24);

    // A restarted service continues the file, and cuts a line a crash left incomplete.
    Files.writeString(file, "{\"seq\":30,\"ha", StandardOpenOption.APPEND);
    assertThat(AnchorLog.read(file).incompleteLastLine()).isTrue();
    AnchorLog restarted = new AnchorLog(file, Clock.systemUTC());
    assertThat(restarted.publish(database.dataSource()).outcome())
        .isEqualTo(AnchorLog.Outcome.UNCHANGED);
    AnchorLog.Anchors read = AnchorLog.read(file);
    assertThat(read.incompleteLastLine()).isFalse();
    assertThat(read.anchors()).extracting(ChainVerifier.Anchor::seq).containsExactly(20L, 24L);

    Verification result = ChainVerifier.verify(database.dataSource(), read.anchors());
    assertThat(result.valid()).as(result.summary()).isTrue();
    assertThat(result.anchorsMatched()).isEqualTo(2);
    assertThat(result.summary()).endsWith("2 anchor(s) matched");
  }

  @Test
  void shouldSignEachAnchorSoThatTheirPublicKeysAloneShowAForgedOrCutFile(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    // A line from before signing was turned on, then signed ones, across a restart.
    new AnchorLog(file, Clock.systemUTC()).publish(database.dataSource());
    Path keyFile = dir.resolve("anchor-signing-keys");
    SigningKeyRing keys = ProvenanceKeys.signingKeysAt(keyFile, "anchor-1");
    AnchorLog signed = new AnchorLog(file, Clock.systemUTC(), keys);
    for (String request : List.of("req-s1", "req-s2", "req-s3")) {
      if (request.equals("req-s3")) {
        signed = new AnchorLog(file, Clock.systemUTC(), keys);
      }
      new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
          .write(AuditEvents.story(Scenario.of(request, "acme", Decision.RELEASE, NOW)));
      assertThat(signed.publish(database.dataSource()).outcome())
          .isEqualTo(AnchorLog.Outcome.APPENDED);
    }
    String publicKeys = Files.readString(AnchorLog.publicKeyFile(file));
    assertThat(publicKeys)
        .as("public halves only")
        .startsWith("anchor-1:")
        .isNotEqualTo(Files.readString(keyFile));
    VerificationKeyRing verification = VerificationKeyRing.parse(publicKeys, "anchor keys");
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(4);

    AnchorLog.SignatureCheck check = AnchorLog.checkSignatures(AnchorLog.read(file), verification);
    assertThat(check.problems()).isEmpty();
    assertThat(check.signed()).isEqualTo(3);
    assertThat(check.unsignedBefore()).isEqualTo(1);
    assertThat(AnchorLog.index(file, verification).signatures()).isEqualTo(check);
    assertThat(ChainVerifier.verify(database.dataSource(), AnchorLog.read(file).anchors()).valid())
        .isTrue();

    // Someone who can write the file but does not hold the key:
    assertThat(signatureProblems(file, verification, withOtherHash(lines, 2)))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("line 3 (seq 28): the signature does not match the line");
    assertThat(signatureProblems(file, verification, without(lines, 2)))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("line 3 (seq 32) does not follow the line before it");
    assertThat(signatureProblems(file, verification, without(lines, 0, 1)))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("line 1 (seq 28) does not follow the line before it");
    assertThat(
            signatureProblems(
                file, verification, List.of(lines.get(0), lines.get(1), unsigned(lines.get(3)))))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("line 3 is not signed, though a line before it is");
    assertThat(
            signatureProblems(
                file, verification, lines.stream().map(ChainVerifierITCase::unsigned).toList()))
        .containsExactly("no line is signed (4 unsigned lines)");
    assertThat(
            signatureProblems(
                file,
                SigningKeyRing.of(io.genguard.provenance.manifest.SigningKey.generate("anchor-1"))
                    .verificationKeys(),
                lines))
        .as("another key under the same id")
        .hasSize(3)
        .allMatch(problem -> problem.contains("the signature does not match the line"));
    assertThat(
            signatureProblems(
                file,
                VerificationKeyRing.parse(
                    publicKeys.replace("anchor-1:", "anchor-2:"), "renamed key"),
                lines))
        .hasSize(3)
        .allMatch(problem -> problem.contains("which is not among the verification keys"));
  }

  @Test
  void shouldCutWhatAFailedAppendWroteSoThatTheNextLinesStillVerify(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    // How the next line fails, once: part of it written (a full disk), or all of it and then the
    // sync (an I/O error).
    AtomicReference<String> failNext = new AtomicReference<>();
    AnchorLog.LineWriter failing =
        (out, line) -> {
          String how = failNext.getAndSet(null);
          if ("partial".equals(how)) {
            out.write(line, 0, line.length / 2);
            throw new IOException("No space left on device");
          }
          out.write(line);
          if ("sync".equals(how)) {
            throw new SyncFailedException("Input/output error");
          }
          out.getFD().sync();
        };
    AnchorLog anchors =
        new AnchorLog(
            file,
            Clock.systemUTC(),
            SigningKeyRing.of(io.genguard.provenance.manifest.SigningKey.generate("anchor-1")),
            failing);
    assertThat(anchors.publish(database.dataSource()).anchor().seq()).isEqualTo(20);
    for (String how : List.of("partial", "sync")) {
      String before = Files.readString(file);
      long anchored = anchors.anchoredSeq();
      new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
          .write(AuditEvents.story(Scenario.of("req-" + how, "acme", Decision.RELEASE, NOW)));
      failNext.set(how);
      assertThatThrownBy(() -> anchors.publish(database.dataSource()))
          .isInstanceOf(UncheckedIOException.class);
      assertThat(Files.readString(file)).as(how + ": nothing of the line left").isEqualTo(before);
      assertThat(anchors.anchoredSeq()).isEqualTo(anchored);
      assertThat(anchors.publish(database.dataSource()).outcome())
          .as(how + ": appended at the next round")
          .isEqualTo(AnchorLog.Outcome.APPENDED);
    }
    // A torn line the log did not write itself is cut before the next append too.
    Files.writeString(file, "{\"seq\":99,\"hash\":\"ab", StandardOpenOption.APPEND);
    new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("req-torn", "acme", Decision.RELEASE, NOW)));
    assertThat(anchors.publish(database.dataSource()).outcome())
        .isEqualTo(AnchorLog.Outcome.APPENDED);

    // As `audit verify --anchors FILE --anchor-keys FILE.keys` reads it.
    AnchorLog.Indexed read =
        AnchorLog.index(
            file,
            VerificationKeyRing.parse(
                Files.readString(AnchorLog.publicKeyFile(file)), "anchor keys"));
    assertThat(read.incompleteLastLine()).isFalse();
    assertThat(read.signatures().problems()).isEmpty();
    assertThat(read.signatures().signed()).isEqualTo(4);
    List<ChainVerifier.Anchor> heads = AnchorIndex.merged(List.of(read.lines()));
    assertThat(heads).extracting(ChainVerifier.Anchor::seq).containsExactly(20L, 24L, 28L, 32L);
    Verification result = ChainVerifier.verify(database.dataSource(), heads);
    assertThat(result.valid()).as(result.summary()).isTrue();
    assertThat(result.anchorsMatched()).isEqualTo(4);
    assertThat(new AnchorLog(file, Clock.systemUTC()).anchoredSeq())
        .as("a restart reads the file")
        .isEqualTo(32);
  }

  @Test
  void shouldKeepVerifyingOldLinesAfterTheSigningKeyIsRotated(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    Path keyFile = dir.resolve("anchor-signing-keys");
    new AnchorLog(file, Clock.systemUTC(), ProvenanceKeys.signingKeysAt(keyFile, "anchor-1"))
        .publish(database.dataSource());
    // Rotation: a new key line appended to the key file signs from the next start on.
    Files.writeString(
        keyFile,
        io.genguard.provenance.manifest.SigningKey.generate("anchor-2").toConfigEntry() + "\n",
        StandardOpenOption.APPEND);
    AnchorLog rotated =
        new AnchorLog(file, Clock.systemUTC(), ProvenanceKeys.signingKeysAt(keyFile, "anchor-1"));
    new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("req-rotated", "acme", Decision.RELEASE, NOW)));
    rotated.publish(database.dataSource());

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).contains("\"keyId\":\"anchor-1\"");
    assertThat(lines.get(1)).contains("\"keyId\":\"anchor-2\"");
    String publicKeys = Files.readString(AnchorLog.publicKeyFile(file));
    assertThat(publicKeys).contains("anchor-1:").contains("anchor-2:");
    AnchorLog.SignatureCheck check =
        AnchorLog.checkSignatures(
            AnchorLog.read(file), VerificationKeyRing.parse(publicKeys, "anchor keys"));
    assertThat(check.problems()).isEmpty();
    assertThat(check.signed()).isEqualTo(2);
  }

  private static List<String> signatureProblems(
      Path file, VerificationKeyRing keys, List<String> lines) throws Exception {
    Path copy = file.resolveSibling("tampered.jsonl");
    Files.write(copy, lines);
    List<String> problems = AnchorLog.checkSignatures(AnchorLog.read(copy), keys).problems();
    // Checked as the file is read, for verification in little memory: the same findings.
    assertThat(AnchorLog.index(copy, keys).signatures().problems()).isEqualTo(problems);
    return problems;
  }

  /** The line at {@code index} with its hash's first digit changed, as a forger would. */
  private static List<String> withOtherHash(List<String> lines, int index) {
    List<String> edited = new java.util.ArrayList<>(lines);
    String line = lines.get(index);
    int digit = line.indexOf("\"hash\":\"") + "\"hash\":\"".length();
    char other = line.charAt(digit) == '0' ? '1' : '0';
    edited.set(index, line.substring(0, digit) + other + line.substring(digit + 1));
    return edited;
  }

  private static List<String> without(List<String> lines, int... indexes) {
    List<String> kept = new java.util.ArrayList<>(lines);
    for (int i = indexes.length - 1; i >= 0; i--) {
      kept.remove(indexes[i]);
    }
    return kept;
  }

  private static String unsigned(String line) {
    return line.replaceAll(",\"keyId\".*}$", "}");
  }

  @Test
  void shouldRefuseToAnchorAChainThatLostItsNewestRecords(@TempDir Path dir) throws Exception {
    AnchorLog anchors = new AnchorLog(dir.resolve("anchors.jsonl"), Clock.systemUTC());
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    anchors.bindTo(metrics);
    anchors.publish(database.dataSource());
    assertThat(metrics.get(AnchorLog.CONFLICT_METRIC).gauge().value()).isZero();
    assertThat(metrics.get(AnchorLog.SEQ_METRIC).gauge().value()).isEqualTo(20);
    assertThat(metrics.get(AnchorLog.LAST_CHECK_METRIC).gauge().value()).isPositive();
    deleteRecords("seq >= 17");

    AnchorLog.Published next = anchors.publish(database.dataSource());
    assertThat(next.outcome()).isEqualTo(AnchorLog.Outcome.CONFLICT);
    assertThat(metrics.get(AnchorLog.CONFLICT_METRIC).gauge().value())
        .as("operators alert on this")
        .isEqualTo(1);
    assertThat(next.detail()).contains("the chain ends at seq 16, before the last anchor's seq 20");
    Verification anchored =
        ChainVerifier.verify(database.dataSource(), AnchorLog.read(anchors.file()).anchors());
    assertThat(anchored.firstBreak().problem()).isEqualTo(Problem.ANCHOR_MISMATCH);
    assertThat(anchored.firstBreak().detail()).contains("the chain ends at seq 16");
  }

  @Test
  void shouldStillVerifyRecordsWrittenWithChainVersionOne() throws Exception {
    // Rows from before migration V2: hash = SHA-256(prev || canonical JSON), no digest.
    deleteRecords("true");
    byte[] previous = AuditChain.GENESIS;
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement insert =
            connection.prepareStatement(
                "insert into audit_log (seq, event_id, event_type,"
                    + " tenant_id, request_id, source_topic, source_partition, source_offset, payload, recorded_at,"
                    + " chain_version, prev_hash, hash) values (?, ?, 'GenerationRequest', 'acme', ?, 'gen.requests', 0, ?,"
                    + " ?, ?, 1, ?, ?)")) {
      for (int seq = 1; seq <= 3; seq++) {
        AuditChain.Entry entry =
            new AuditChain.Entry(
                1,
                seq,
                "v1-" + seq,
                "GenerationRequest",
                "acme",
                "r" + seq,
                "gen.requests",
                0,
                seq,
                "{\"n\":" + seq + "}",
                NOW);
        byte[] hash =
            MessageDigest.getInstance("SHA-256")
                .digest(
                    concat(previous, AuditChain.canonical(entry).getBytes(StandardCharsets.UTF_8)));
        insert.setLong(1, seq);
        insert.setString(2, entry.eventId());
        insert.setString(3, entry.requestId());
        insert.setLong(4, seq);
        insert.setString(5, entry.payload());
        insert.setObject(6, OffsetDateTime.ofInstant(NOW, ZoneOffset.UTC));
        insert.setBytes(7, previous);
        insert.setBytes(8, hash);
        insert.executeUpdate();
        previous = hash;
      }
    }
    // New records continue the old chain with version 2.
    new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("after-upgrade", "acme", Decision.RELEASE, NOW)));

    Verification result = ChainVerifier.verify(database.dataSource());
    assertThat(result.valid()).as(result.summary()).isTrue();
    assertThat(result.records()).isEqualTo(7);

    execute("update audit_log set payload = '{\"n\":99}' where seq = 2");
    assertThat(ChainVerifier.verify(database.dataSource()).firstBreak().seq()).isEqualTo(2);
  }

  /**
   * Recomputes payload hash (chain version 3), digest, previous hash and hash of records {@code
   * from..to} in order, as someone who can write the database would after editing one.
   */
  private void rebuildChain(long from, long to) throws Exception {
    execute(
        "update audit_log set payload_sha256 = sha256(convert_to(payload, 'UTF8')) where seq"
            + " between "
            + from
            + " and "
            + to
            + " and chain_version = 3 and payload is not null");
    try (Connection connection = database.dataSource().getConnection()) {
      connection.setAutoCommit(false);
      byte[] previous = hashOf(connection, from - 1);
      try (PreparedStatement update =
          connection.prepareStatement(
              "update audit_log set entry_digest = ?, prev_hash = ?, hash = ? where seq = ?")) {
        for (long seq = from; seq <= to; seq++) {
          byte[] digest = AuditChain.digest(read(connection, seq));
          byte[] hash = AuditChain.link(previous, digest);
          update.setBytes(1, digest);
          update.setBytes(2, previous);
          update.setBytes(3, hash);
          update.setLong(4, seq);
          update.executeUpdate();
          previous = hash;
        }
      }
      connection.commit();
    }
  }

  /** Deletes audit records (and the projections that reference them), as an attacker would. */
  private void deleteRecords(String where) throws Exception {
    String records = "(select event_id from audit_log where " + where + ")";
    execute("delete from review_item where gate_event_id in " + records);
    for (String table :
        List.of("generation_request", "generation_output", "moderation_verdict", "gate_outcome")) {
      execute("delete from " + table + " where event_id in " + records);
    }
    execute("delete from audit_log where " + where);
  }

  private void execute(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static AuditChain.Entry read(Connection connection, long seq) throws Exception {
    try (PreparedStatement query =
        connection.prepareStatement("select * from audit_log where seq = ?")) {
      query.setLong(1, seq);
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        return AuditChain.Entry.read(rs);
      }
    }
  }

  private static byte[] hashOf(Connection connection, long seq) throws Exception {
    try (PreparedStatement query =
        connection.prepareStatement("select hash from audit_log where seq = ?")) {
      query.setLong(1, seq);
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        return rs.getBytes(1);
      }
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
