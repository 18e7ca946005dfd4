package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AuditChainTest {
  private static final Instant AT = Instant.parse("2026-11-25T10:00:00.000123Z");

  private static AuditChain.Entry entry(int version, String payload) {
    return new AuditChain.Entry(
        version,
        7,
        "event-7",
        "GenerationOutput",
        "acme",
        "req-1",
        "gen.outputs",
        2,
        99,
        payload,
        AT);
  }

  @Test
  void shouldCoverEveryColumnInTheCanonicalRecordWithSortedKeys() {
    assertThat(AuditChain.canonical(entry(2, "{\"a\":1}")))
        .isEqualTo(
            "{\"chainVersion\":2,\"eventId\":\"event-7\","
                + "\"eventType\":\"GenerationOutput\",\"payload\":\"{\\\"a\\\":1}\",\"recordedAt\":\"2026-11-25T10:00:00.000123Z\","
                + "\"requestId\":\"req-1\",\"seq\":7,\"sourceOffset\":99,\"sourcePartition\":2,\"sourceTopic\":\"gen.outputs\","
                + "\"tenantId\":\"acme\"}");
  }

  @Test
  void shouldHoldThePayloadsSha256InPlaceOfThePayloadInVersionThree() throws Exception {
    String sha256 =
        java.util.HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256")
                    .digest("{\"a\":1}".getBytes(StandardCharsets.UTF_8)));
    AuditChain.Entry entry = entry(3, "{\"a\":1}");

    assertThat(entry.payloadSha256()).isEqualTo(sha256);
    assertThat(AuditChain.canonical(entry))
        .isEqualTo(
            "{\"chainVersion\":3,\"eventId\":\"event-7\","
                + "\"eventType\":\"GenerationOutput\",\"payloadSha256\":\""
                + sha256
                + "\",\"recordedAt\":\"2026-11-25T10:00:00.000123Z\","
                + "\"requestId\":\"req-1\",\"seq\":7,\"sourceOffset\":99,\"sourcePartition\":2,\"sourceTopic\":\"gen.outputs\","
                + "\"tenantId\":\"acme\"}");
    // A tombstone: the payload gone, its hash kept; the digest is the same, and binds the columns.
    AuditChain.Entry tombstone =
        new AuditChain.Entry(
            3,
            7,
            "event-7",
            "GenerationOutput",
            "acme",
            "req-1",
            "gen.outputs",
            2,
            99,
            null,
            AT,
            sha256);
    assertThat(AuditChain.digest(tombstone)).isEqualTo(AuditChain.digest(entry));
    AuditChain.Entry moved =
        new AuditChain.Entry(
            3,
            7,
            "event-7",
            "GenerationOutput",
            "acme",
            "req-2",
            "gen.outputs",
            2,
            99,
            null,
            AT,
            sha256);
    assertThat(AuditChain.digest(moved)).isNotEqualTo(AuditChain.digest(entry));
    assertThat(AuditChain.hash(AuditChain.GENESIS, entry))
        .isEqualTo(AuditChain.link(AuditChain.GENESIS, AuditChain.digest(entry)));
  }

  @Test
  void shouldLinkVersionTwoThroughTheDigestSoATombstoneStillVerifies() throws Exception {
    byte[] previous = new byte[32];
    previous[0] = 1;
    AuditChain.Entry entry = entry(2, "{}");
    byte[] digest =
        MessageDigest.getInstance("SHA-256")
            .digest(AuditChain.canonical(entry).getBytes(StandardCharsets.UTF_8));

    assertThat(AuditChain.digest(entry)).isEqualTo(digest);
    assertThat(AuditChain.hash(previous, entry)).isEqualTo(AuditChain.link(previous, digest));
  }

  @Test
  void shouldHashVersionOneOverTheCanonicalTextItself() throws Exception {
    AuditChain.Entry entry = entry(1, "{}");
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(AuditChain.GENESIS);
    sha.update(AuditChain.canonical(entry).getBytes(StandardCharsets.UTF_8));

    assertThat(AuditChain.hash(AuditChain.GENESIS, entry)).isEqualTo(sha.digest());
  }

  @Test
  void shouldChangeTheHashWhenAnyValueOrThePredecessorChanges() {
    byte[] base = AuditChain.hash(AuditChain.GENESIS, entry(2, "{}"));
    assertThat(AuditChain.hash(AuditChain.GENESIS, entry(2, "{ }"))).isNotEqualTo(base);
    byte[] otherPrevious = new byte[32];
    otherPrevious[31] = 1;
    assertThat(AuditChain.hash(otherPrevious, entry(2, "{}"))).isNotEqualTo(base);
    assertThat(AuditChain.hash(AuditChain.GENESIS, entry(1, "{}"))).isNotEqualTo(base);
  }

  @Test
  void shouldRefuseAnUnknownVersion() {
    assertThatThrownBy(() -> AuditChain.hash(AuditChain.GENESIS, entry(4, "{}")))
        .hasMessageContaining("Unknown chain version 4 at seq 7");
  }

  @Test
  void shouldGiveThePreparedDigestOfEverySeqExactlyAsTheWholeRecordWouldHashIt() {
    SplittableRandom random = new SplittableRandom(20261125);
    List<String> payloads =
        List.of(
            "{}",
            "{\"seq\":-9223372036854775808}",
            "{\"text\":\"quote \\\" backslash \\\\ \\u0001 é 😀 \\\"seq\\\":1\"}",
            "\"seq\":-9223372036854775808,\"seq\":-9223372036854775808",
            "");
    for (int i = 0; i < 500; i++) {
      String payload = payloads.get(random.nextInt(payloads.size()));
      AuditChain.Entry pending =
          new AuditChain.Entry(
              2,
              0,
              "event-" + i + (random.nextBoolean() ? "\"seq\":-9223372036854775808" : ""),
              "ModerationVerdict",
              random.nextBoolean() ? null : "tenant \"x\"",
              random.nextBoolean() ? null : "req-" + i,
              "moderation.verdicts",
              random.nextInt(8),
              random.nextLong(1_000_000),
              payload,
              AT);
      long seq = random.nextBoolean() ? 1 + random.nextInt(10) : random.nextLong(Long.MAX_VALUE);
      AuditChain.Entry whole = pending.withSeq(seq);
      assertThat(AuditChain.pendingDigest(pending).digest(seq))
          .as("seq %d, payload %s", seq, payload)
          .isEqualTo(AuditChain.digest(whole));
    }
  }

  /**
   * A chain append reuses one Hasher for every digest of its records: each result must be the bytes
   * a fresh MessageDigest gives, record after record, also after a computation that failed midway
   * (here a null part, refused after the part before it was hashed).
   */
  @Test
  void shouldGiveWithOneReusedHasherTheBytesOfAFreshDigestRecordAfterRecord() throws Exception {
    SplittableRandom random = new SplittableRandom(20261207);
    AuditChain.Hasher hasher = new AuditChain.Hasher();
    byte[] previous = AuditChain.GENESIS;
    byte[] freshPrevious = AuditChain.GENESIS;
    for (int i = 0; i < 1_000; i++) {
      String payload = "{\"i\":" + i + ",\"text\":\"é 😀 " + random.nextLong() + "\"}";
      if (random.nextInt(5) == 0) {
        byte[] part = payload.getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> hasher.sha256(part, null))
            .isInstanceOf(NullPointerException.class);
      }
      byte[] payloadSha256 = hasher.payloadSha256(payload);
      assertThat(payloadSha256)
          .isEqualTo(
              MessageDigest.getInstance("SHA-256")
                  .digest(payload.getBytes(StandardCharsets.UTF_8)));
      assertThat(java.util.HexFormat.of().formatHex(payloadSha256))
          .isEqualTo(AuditChain.payloadSha256(payload));
      AuditChain.Entry pending =
          new AuditChain.Entry(
              3,
              0,
              "event-" + i,
              "GenerationOutput",
              "acme",
              "req-" + i,
              "gen.outputs",
              random.nextInt(8),
              random.nextLong(1_000_000),
              payload,
              AT,
              java.util.HexFormat.of().formatHex(payloadSha256));
      long seq = 1 + i;
      byte[] digest = AuditChain.pendingDigest(pending).digest(seq, hasher);
      assertThat(digest).isEqualTo(AuditChain.digest(pending.withSeq(seq)));
      assertThat(hasher.digest(pending.withSeq(seq))).isEqualTo(digest);
      previous = hasher.link(previous, digest);
      freshPrevious = AuditChain.hash(freshPrevious, entry(pending.withSeq(seq)));
      assertThat(previous).as("hash of record %d", i).isEqualTo(freshPrevious);
    }
  }

  /** The entry as its own constructor computes the payload's hash (no hasher involved). */
  private static AuditChain.Entry entry(AuditChain.Entry with) {
    return new AuditChain.Entry(
        with.chainVersion(),
        with.seq(),
        with.eventId(),
        with.eventType(),
        with.tenantId(),
        with.requestId(),
        with.sourceTopic(),
        with.sourcePartition(),
        with.sourceOffset(),
        with.payload(),
        with.recordedAt());
  }

  @Test
  void shouldLeaveNothingOfAComputationThatFailedMidwayInTheNext() throws Exception {
    AuditChain.Hasher hasher = new AuditChain.Hasher();
    byte[] first = "first".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> hasher.sha256(first, null)).isInstanceOf(NullPointerException.class);
    assertThat(hasher.payloadSha256("second"))
        .isEqualTo(
            MessageDigest.getInstance("SHA-256").digest("second".getBytes(StandardCharsets.UTF_8)));
  }
}
