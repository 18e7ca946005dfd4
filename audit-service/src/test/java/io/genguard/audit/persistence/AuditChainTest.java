package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
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
    assertThatThrownBy(() -> AuditChain.hash(AuditChain.GENESIS, entry(3, "{}")))
        .hasMessageContaining("Unknown chain version 3 at seq 7");
  }
}
