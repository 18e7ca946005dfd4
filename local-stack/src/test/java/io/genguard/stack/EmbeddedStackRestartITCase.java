package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.query.AuditQueries.Completeness;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.provenance.manifest.VerificationKeyRing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded stack with a data directory: stopped while requests are in flight, started again on
 * the same directory, it finishes every request exactly once and keeps what it had. This test is
 * about the embedded servers' own state, so it starts them itself instead of using the shared
 * fixture.
 */
class EmbeddedStackRestartITCase {
  @TempDir Path dataDir;

  @Test
  void shouldContinueWhereTheLastRunStopped() throws Exception {
    StackConfig config = StackConfig.defaults().withPorts(0, 0, 0).withDataDir(dataDir);
    DemoWorkload workload = DemoWorkload.builtIn();
    List<String> ids = new ArrayList<>();

    long stopMillis;
    try (GenGuardStack first = GenGuardStack.start(config)) {
      for (int i = 0; i < 120; i++) {
        GenerationRequest request = workload.request(i, "restart");
        first.audit().submitter().send(request);
        ids.add(request.getRequestId());
      }
      // Stop while work is in flight (some requests not generated, judged or audited yet).
      await()
          .atMost(Duration.ofMinutes(3))
          .until(() -> first.audit().queries().completeness(ids).gated() > 0);
      long begin = System.nanoTime();
      first.close();
      stopMillis = (System.nanoTime() - begin) / 1_000_000;
    }
    System.out.println("[EmbeddedStackRestartITCase] orderly stop took " + stopMillis + " ms");
    // The audit service anchored the chain head it left behind, outside the database.
    List<ChainVerifier.Anchor> anchors =
        AnchorLog.read(dataDir.resolve(GenGuardStack.ANCHOR_FILE)).anchors();
    assertThat(anchors).isNotEmpty();

    try (GenGuardStack second = GenGuardStack.start(config)) {
      Completeness before = second.audit().queries().completeness(ids);
      assertThat(before.audited()).as("requests persisted by the first run survive").isPositive();
      for (int i = 120; i < 150; i++) {
        GenerationRequest request = workload.request(i, "restart");
        second.audit().submitter().send(request);
        ids.add(request.getRequestId());
      }
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> second.audit().queries().completeness(ids).settled());
      Completeness done = second.audit().queries().completeness(ids);
      assertThat(done.audited()).isEqualTo(150);
      assertThat(done.outputs()).isEqualTo(done.withOneOutput());
      assertThat(done.verdicts()).isEqualTo(done.withOneVerdict());
      assertThat(done.withOneOutput() + done.failures()).isEqualTo(150);
      assertThat(done.gated()).isEqualTo(done.withOneVerdict());
      assertThat(done.releasedTwice()).isZero();
      assertThat(done.releasedWithoutReleaseVerdict()).isZero();
      ChainVerifier.Verification chain =
          ChainVerifier.verify(second.audit().database().dataSource(), anchors);
      assertThat(chain.valid()).as(chain.summary()).isTrue();
      assertThat(chain.anchorsMatched()).isEqualTo(anchors.size());
    }
    // Both runs signed their anchors with the data directory's key, the second's lines following
    // the first's: the public keys beside the file are all a verifier needs.
    Path anchorFile = dataDir.resolve(GenGuardStack.ANCHOR_FILE);
    AnchorLog.Anchors all = AnchorLog.read(anchorFile);
    assertThat(all.size()).isGreaterThan(anchors.size());
    AnchorLog.SignatureCheck signatures =
        AnchorLog.checkSignatures(
            all,
            VerificationKeyRing.parse(
                Files.readString(AnchorLog.publicKeyFile(anchorFile)), "stack anchor keys"));
    assertThat(signatures.problems()).isEmpty();
    assertThat(signatures.signed()).isEqualTo(all.size());
  }
}
