package io.genguard.moderation.gate;

import static io.genguard.moderation.fixtures.Events.output;
import static io.genguard.moderation.fixtures.Events.review;
import static io.genguard.moderation.fixtures.Events.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ErasureCause;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.MovingClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate with its store keyed by request id and tenant ({@code GENGUARD_GATE_STATE_FORMAT=4}):
 * two tenants' requests under one request id are each decided, an entry an earlier gate wrote under
 * the request id alone still decides its request, and one tenant's verdict, review or erasure never
 * decides another's output.
 */
class ReleaseGateTenantKeyedTest {
  private static final Duration VERDICT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration RETENTION = Duration.ofDays(1);

  @TempDir Path stateDir;
  private final MovingClock clock = new MovingClock(Events.NOW);
  private TopologyTestDriver driver;

  @AfterEach
  void closeDriver() {
    if (driver != null) {
      driver.close();
    }
  }

  private void start(int stateFormat) {
    Properties props = ReleaseGateTopology.streamsConfig("unused:9092", stateDir.toString(), 1);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    driver =
        new TopologyTestDriver(
            ReleaseGateTopology.buildTopology(
                clock, new GateTimings(RETENTION, VERDICT_TIMEOUT), stateFormat),
            props,
            Events.NOW);
  }

  @Test
  void shouldDecideTwoTenantsOutputsUnderOneRequestId() {
    // The forty-ninth session's reviews: the store was keyed by request id alone, so a second
    // tenant's output under the first one's request id was dead-lettered as a copy and never
    // decided. Keyed by request id and tenant, each is decided on its own verdict and review.
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-shared", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    sendRequest("r-shared", "acme");
    sendRequest("r-shared", "globex");
    send(acme);
    send(globex);
    send(verdict(acme, Decision.RELEASE));
    send(verdict(globex, Decision.REVIEW));

    ReleaseGateOutcome acmeReleased = decode(Topics.CONTENT_RELEASED.name()).get(0);
    assertThat(acmeReleased.getTenantId()).isEqualTo("acme");
    assertThat(acmeReleased.getText()).isEqualTo("Acme's text.");
    assertThat(decode(Topics.REVIEW_PENDING.name()))
        .singleElement()
        .satisfies(
            hold -> {
              assertThat(hold.getTenantId()).isEqualTo("globex");
              assertThat(hold.getOutputId()).isEqualTo(globex.getOutputId());
            });
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name())).isEmpty();

    send(review(globex, ReviewAction.APPROVE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("globex");
              assertThat(outcome.getText()).isEqualTo("Globex's text.");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.REVIEW);
              assertThat(outcome.getEventId())
                  .as("two tenants' outcomes are two events")
                  .isNotEqualTo(acmeReleased.getEventId());
            });

    // Copies of either are restated, never decided again.
    send(acme);
    send(globex);
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(restated())
        .extracting(GateDecisionRestated::getTenantId, GateDecisionRestated::getDecision)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("acme", RestatedDecision.RELEASED),
            org.assertj.core.groups.Tuple.tuple("globex", RestatedDecision.RELEASED));
  }

  @Test
  void shouldNotReleaseACopyUnderATenantThatSentNoRequest() {
    // The fiftieth session's review: keyed by request id and tenant, a copy of acme's output
    // re-published under globex, which sent no request under the id, got an entry of its own and
    // was released on globex's verdict (a v1 manifest names no tenant). It waits for globex's
    // request instead, and is dead-lettered as a copy, as format 3 does, when none comes.
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-copied", "Acme's text.");
    sendRequest("r-copied", "acme");
    send(acme);
    send(verdict(acme, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactly("acme");
    GenerationOutput copy = GenerationOutput.newBuilder(acme).setTenantId("globex").build();
    send(copy);
    send(verdict(copy, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).as("released under globex").isEmpty();
    // A copy whose verdict does not come is not held for a person either.
    GenerationOutput waiting = output("r-copied-waiting", "Acme's other text.");
    sendRequest("r-copied-waiting", "acme");
    send(waiting);
    send(GenerationOutput.newBuilder(waiting).setTenantId("globex").build());

    advance(VERDICT_TIMEOUT.multipliedBy(2));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(decode(Topics.REVIEW_PENDING.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .as("acme's own output, held without its verdict")
        .containsExactly("acme");
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name()))
        .extracting(DeadLetter::getReason)
        .hasSize(2)
        .allSatisfy(
            reason ->
                assertThat(reason)
                    .contains("came under tenant \"globex\"")
                    .contains("is tenant \"acme\"'s")
                    .contains("a copy re-published under another tenant"));
    assertThat(deadLetters(Topics.MODERATION_VERDICTS_DLQ.name()))
        .singleElement()
        .satisfies(dead -> assertThat(dead.getReason()).contains("came under tenant \"globex\""));
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    assertThat(store.get(tenantKey("r-copied", "globex"))).isNull();
    // Sent again, the copy waits and is dead-lettered again: never decided.
    send(copy);
    send(verdict(copy, Decision.RELEASE));
    advance(VERDICT_TIMEOUT.multipliedBy(2));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name())).hasSize(1);
  }

  /**
   * Review finding (fifty-first session, review2): an output that waits for its tenant's request
   * ({@code withheld}) holds its verdict, and onOutput took any WAITING entry holding a verdict for
   * a forged one: a second output under the id and tenant dead-lettered the first, a genuine one
   * with a RELEASE verdict, as "found INVALID", and took the request. Now the second waits beside
   * the first until the request comes.
   */
  @Test
  void shouldNotTakeAWithheldOutputForAForgedOneWhenASecondOutputComes() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-withheld-second", "Acme's text.");
    GenerationOutput genuine = underTenant(acme, "globex", "Globex's text.");
    sendRequest("r-withheld-second", "acme");
    send(genuine);
    send(verdict(genuine, Decision.RELEASE)); // waits for globex's request
    GenerationOutput second =
        GenerationOutput.newBuilder(genuine).setOutputId("out-second").setText("Other.").build();
    send(second);
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name()))
        .as("the genuine output, dead-lettered as forged")
        .isEmpty();
    sendRequest("r-withheld-second", "globex");
    send(verdict(second, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getText)
        .containsExactly("Globex's text.");
  }

  /**
   * Review finding (fifty-first session, review2), not fixed: where the other tenant sent a request
   * of its own under the id, a copy of one tenant's output re-published under it (a v1 manifest,
   * which names no tenant) takes that tenant's entry and is decided on its verdict, and released
   * (format 3 dead-letters it). The gate cannot tell it from that tenant's own output: output ids
   * come from the request id alone, and the copy may come before the output it copies. A v2
   * manifest binds the tenant (INVALID under another: forged, replaced by the genuine output).
   * Documented in docs/OPERATIONS.md ("State format 4") and the README's not-fixed list.
   */
  @org.junit.jupiter.api.Disabled(
      "not fixed (review2 finding 2): a copy with a v1 manifest under a tenant that sent its own"
          + " request under the id is released on that tenant's verdict; format 4 runs only where"
          + " tenants cannot publish under each other's names or v1 manifests are refused"
          + " (GENGUARD_PROVENANCE_V1_NOT_AFTER), see docs/OPERATIONS.md")
  @Test
  void shouldNotReleaseACopyUnderATenantWithItsOwnRequest() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-copy-requested", "Acme's text.");
    sendRequest("r-copy-requested", "acme");
    sendRequest("r-copy-requested", "globex");
    send(acme);
    send(verdict(acme, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).hasSize(1);
    GenerationOutput copy = GenerationOutput.newBuilder(acme).setTenantId("globex").build();
    send(copy);
    send(verdict(copy, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).as("acme's text under globex").isEmpty();
  }

  /**
   * Review finding (fifty-first session, review2): the sweep dead-lettered an unrequested output
   * and the output beside it, but dropped the verdict the output beside it kept.
   */
  @Test
  void shouldDeadLetterTheVerdictBesideAnUnrequestedOutput() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    sendRequest("r-beside-verdict", "acme");
    GenerationOutput first = underTenant(output("r-beside-verdict", "A."), "globex", "Copy one.");
    GenerationOutput beside =
        GenerationOutput.newBuilder(first).setOutputId("out-beside").setText("Copy two.").build();
    send(first);
    send(beside);
    send(verdict(beside, Decision.RELEASE));
    advance(VERDICT_TIMEOUT.multipliedBy(2));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name())).hasSize(2);
    assertThat(deadLetters(Topics.MODERATION_VERDICTS_DLQ.name()))
        .as("the verdict of the output beside")
        .singleElement()
        .satisfies(
            dead ->
                assertThat(dead.getReason())
                    .contains("verdict of output out-beside came under tenant \"globex\""));
  }

  @Test
  void shouldReleaseASecondTenantsOutputWithItsOwnRequestOnItsOwnVerdict() {
    // Guards the fix above from holding too much: passes with and without it.
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-both", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    sendRequest("r-both", "acme");
    send(acme);
    send(verdict(acme, Decision.RELEASE));
    sendRequest("r-both", "globex");
    send(globex);
    send(verdict(globex, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getTenantId, ReleaseGateOutcome::getText)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("acme", "Acme's text."),
            org.assertj.core.groups.Tuple.tuple("globex", "Globex's text."));
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name())).isEmpty();
  }

  @Test
  void shouldDecideASecondTenantsOutputThatCameBeforeItsRequestOnceTheRequestComes() {
    // A genuine second tenant's output and verdict read before its request: they wait for it
    // (not decided while the gate cannot tell them from a copy), and are decided on their own
    // verdict when it comes; nothing is dead-lettered.
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-early", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    sendRequest("r-early", "acme");
    send(acme);
    send(globex);
    send(verdict(globex, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).as("before its request").isEmpty();
    send(verdict(acme, Decision.RELEASE));
    sendRequest("r-early", "globex");
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getTenantId, ReleaseGateOutcome::getText)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("acme", "Acme's text."),
            org.assertj.core.groups.Tuple.tuple("globex", "Globex's text."));
    // Its output before its request, its verdict after: decided on the verdict.
    GenerationOutput late = underTenant(output("r-early-2", "A."), "globex", "Globex's late.");
    sendRequest("r-early-2", "acme");
    send(late);
    sendRequest("r-early-2", "globex");
    send(verdict(late, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactly("globex");
    advance(VERDICT_TIMEOUT.multipliedBy(2));
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name())).isEmpty();
    assertThat(deadLetters(Topics.MODERATION_VERDICTS_DLQ.name())).isEmpty();
  }

  @Test
  void shouldDeadLetterTheSecondTenantsOutputAsBeforeBelowFormatFour() {
    // Format 3 decides as before: one tenant's request a request id.
    start(3);
    GenerationOutput acme = output("r-shared-3", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    sendRequest("r-shared-3", "acme");
    sendRequest("r-shared-3", "globex");
    send(acme);
    send(globex);
    send(verdict(acme, Decision.RELEASE));
    send(verdict(globex, Decision.REVIEW));

    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactly("acme");
    assertThat(decode(Topics.REVIEW_PENDING.name())).isEmpty();
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name()))
        .singleElement()
        .satisfies(dead -> assertThat(dead.getReason()).contains("came under tenant \"globex\""));
  }

  @Test
  void shouldDecideAnEntryWrittenUnderTheRequestIdAloneAfterTheUpgrade() {
    // Entries a format-3 gate wrote (under the request id alone) when the gate is restarted with
    // format 4: the output waiting for its verdict, and the one held for review, are each decided
    // once; a copy of the one decided before the upgrade is restated, not decided again.
    start(3);
    GenerationOutput waiting = output("r-waiting", "Waited through the upgrade.");
    GenerationOutput held = output("r-held", "Held through the upgrade.");
    GenerationOutput decided = output("r-decided", "Released before the upgrade.");
    for (GenerationOutput output : List.of(waiting, held, decided)) {
      sendRequest(output.getRequestId(), "acme");
      send(output);
    }
    send(verdict(held, Decision.REVIEW));
    send(verdict(decided, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).hasSize(1);
    assertThat(decode(Topics.REVIEW_PENDING.name())).hasSize(1);
    // What the format-3 gate's store holds, as its changelog restores it into the upgraded one.
    KeyValueStore<String, GateEntry> before =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    Map<String, GateEntry> entries = new java.util.LinkedHashMap<>();
    for (String id : List.of("r-waiting", "r-held", "r-decided")) {
      entries.put(id, before.get(id));
    }
    assertThat(entries.get("r-waiting").requestTenant()).isEqualTo("acme");
    driver.close();

    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    entries.forEach(store::put);

    send(verdict(waiting, Decision.RELEASE));
    send(review(held, ReviewAction.APPROVE));
    send(decided);
    send(verdict(decided, Decision.RELEASE)); // read again after the upgrade

    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getRequestId, ReleaseGateOutcome::getBasis)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("r-waiting", GateBasis.VERDICT),
            org.assertj.core.groups.Tuple.tuple("r-held", GateBasis.REVIEW));
    assertThat(restated())
        .singleElement()
        .extracting(GateDecisionRestated::getRequestId)
        .isEqualTo("r-decided");
    for (String id : List.of("r-waiting", "r-held", "r-decided")) {
      assertThat(store.get(id).state()).as(id).isEqualTo(GateEntry.State.RELEASED);
      assertThat(store.get(tenantKey(id, "acme"))).as("decided under its old key").isNull();
    }
    // The second tenant of an id decided before the upgrade gets its own entry.
    GenerationOutput globex = underTenant(decided, "globex", "Globex's text.");
    sendRequest("r-decided", "globex");
    send(globex);
    send(verdict(globex, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getTenantId)
        .isEqualTo("globex");
    assertThat(store.get(tenantKey("r-decided", "globex")).state())
        .isEqualTo(GateEntry.State.RELEASED);
  }

  @Test
  void shouldNeverReleaseAnOutputOnAnotherTenantsVerdictOrReview() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-cross", "Acme's text.");
    sendRequest("r-cross", "acme");
    send(acme);
    // A RELEASE verdict of the same output and text, under another tenant.
    ModerationVerdict globexVerdict =
        ModerationVerdict.newBuilder(verdict(acme, Decision.RELEASE)).setTenantId("globex").build();
    send(globexVerdict);
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(decode(Topics.CONTENT_QUARANTINED.name())).isEmpty();

    // Held when its own verdict does not come; another tenant's approval does not release it.
    advance(VERDICT_TIMEOUT.multipliedBy(2));
    assertThat(decode(Topics.REVIEW_PENDING.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.VERDICT_TIMEOUT);
    send(
        io.genguard.events.v1.ReviewDecision.newBuilder(review(acme, ReviewAction.APPROVE))
            .setTenantId("globex")
            .setVerdictId("")
            .build());
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(deadLetters(Topics.REVIEW_DECISIONS_DLQ.name()))
        .singleElement()
        .satisfies(dead -> assertThat(dead.getReason()).contains("not held for review"));
    assertThat(driver.<String, GateEntry>getKeyValueStore(ReleaseGateTopology.STATE_STORE))
        .extracting(store -> store.get(tenantKey("r-cross", "acme")).state())
        .isEqualTo(GateEntry.State.HELD);
  }

  @Test
  void shouldNeverReleaseAnOldEntrysOutputOnAnotherTenantsVerdict() {
    // An entry written under the request id alone is its request's tenant's: another tenant's
    // verdict goes to an entry of its own and decides nothing of it.
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-old-cross", "Acme's text.");
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    store.put(
        "r-old-cross",
        GateEntry.empty()
            .withRequestTenant("acme", false, false, clock.millis())
            .withOutput(
                acme.getOutputId(),
                Topics.GENERATION_OUTPUTS.codec().encode(acme),
                clock.millis()));
    send(
        ModerationVerdict.newBuilder(verdict(acme, Decision.RELEASE))
            .setTenantId("globex")
            .build());
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(store.get("r-old-cross").verdict()).isNull();
    send(verdict(acme, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getTenantId)
        .isEqualTo("acme");
  }

  @Test
  void shouldEraseOnlyTheNoticesTenantOrEveryTenantWhenTheNoticeHasNone() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-erase", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    send(acme);
    send(globex);
    sendErasure("r-erase", "globex");
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("globex");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
            });
    send(verdict(acme, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactly("acme");

    // A notice without its tenant erases every tenant's output under the id, and one that comes
    // after it.
    GenerationOutput first = output("r-erase-all", "First.");
    GenerationOutput second = underTenant(first, "globex", "Second.");
    send(first);
    send(second);
    sendErasure("r-erase-all", "");
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactlyInAnyOrder("acme", "globex");
    sendErasure("r-erase-later", "");
    send(output("r-erase-later", "Came after its erasure."));
    send(verdict(output("r-erase-later", "Came after its erasure."), Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.ERASURE);
  }

  /**
   * A review's finding (fifty-first session): a tenantless erasure notice left the marker under the
   * request id alone only where no entry of the id was kept, so a tenant with no entry yet (acme's
   * entry was kept) got a fresh entry of its own and its output was released.
   */
  @Test
  void shouldQuarantineATenantWithoutAnEntryWhenATenantlessErasureFoundAnothers() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput acme = output("r-erased-id", "Acme's text.");
    sendRequest(acme.getRequestId(), "acme");
    send(acme);
    sendErasure("r-erased-id", "");
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactly("acme");

    GenerationOutput beta = underTenant(acme, "beta", "Beta's text, after the id was erased.");
    sendRequest(beta.getRequestId(), "beta");
    send(beta);
    send(verdict(beta, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("beta");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getText()).isEmpty();
            });
  }

  /**
   * A tenantless erasure that found no entry leaves one marker under the request id alone: the
   * first tenant's output was quarantined there and the entry became final, so a second tenant's
   * output under the id was only restated (the same output id) or ignored (another), never getting
   * an outcome of its own. Each tenant's output gets its own quarantine, with its tenant's event
   * id.
   */
  @Test
  void shouldQuarantineEveryTenantsOutputUnderAnIdErasedWithoutATenant() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    sendErasure("r-marker", "");
    GenerationOutput acme = output("r-marker", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    GenerationOutput initech =
        GenerationOutput.newBuilder(underTenant(acme, "initech", "Initech's text."))
            .setOutputId("initech-own-output")
            .build();
    send(acme);
    send(globex);
    send(initech);
    send(verdict(globex, Decision.RELEASE));
    send(verdict(initech, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    List<ReleaseGateOutcome> quarantined = decode(Topics.CONTENT_QUARANTINED.name());
    assertThat(quarantined)
        .extracting(ReleaseGateOutcome::getTenantId)
        .containsExactly("acme", "globex", "initech");
    assertThat(quarantined)
        .allSatisfy(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getText()).isEmpty();
              assertThat(outcome.getEventId())
                  .isEqualTo(
                      io.genguard.schemas.EventIds.nameBased(
                          "gate",
                          "r-marker",
                          outcome.getTenantId(),
                          GateOutcome.QUARANTINED.name(),
                          GateBasis.ERASURE.name(),
                          ""));
            });

    // A copy of globex's output is restated from globex's own outcome.
    send(globex);
    assertThat(restated())
        .singleElement()
        .satisfies(
            restatement -> {
              assertThat(restatement.getTenantId()).isEqualTo("globex");
              assertThat(restatement.getOutcomeEventId())
                  .isEqualTo(quarantined.get(1).getEventId());
            });
    assertThat(decode(Topics.CONTENT_QUARANTINED.name())).isEmpty();
  }

  @Test
  void shouldDeadLetterATenantThatWouldMakeAnotherTenantsKey() {
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput odd =
        GenerationOutput.newBuilder(output("r-odd", "Text.")).setTenantId("a\u0000b").build();
    send(odd);
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name()))
        .singleElement()
        .satisfies(dead -> assertThat(dead.getReason()).contains("the tenant id a U+0000"));
  }

  /**
   * The fiftieth session's review: a hold a format-3 gate wrote was written again after the upgrade
   * (a copy of its output) under another event id, as format 4 adds the tenant to outcome ids, so
   * the audit service, which dedups by event id, recorded a second hold. An outcome of an entry
   * found under the request id alone keeps the format-3 event id.
   */
  @Test
  void shouldWriteAHoldAgainAfterTheUpgradeAsTheSameEvent() {
    start(3);
    GenerationOutput held = output("r-held-again", "Held through the upgrade.");
    sendRequest(held.getRequestId(), "acme");
    send(held);
    send(verdict(held, Decision.REVIEW));
    List<ReleaseGateOutcome> first = decode(Topics.REVIEW_PENDING.name());
    assertThat(first).hasSize(1);
    GateEntry entry = upgraded("r-held-again");
    send(held); // a copy: the hold is written again, the same event
    assertThat(decode(Topics.REVIEW_PENDING.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getEventId)
        .isEqualTo(first.get(0).getEventId());
    assertThat(entry.state()).isEqualTo(GateEntry.State.HELD);

    // Decided after the upgrade, the old entry's outcome keeps the format-3 id too: the id a
    // format-3 gate gives that review's release.
    send(review(held, ReviewAction.APPROVE));
    ReleaseGateOutcome released = decode(Topics.CONTENT_RELEASED.name()).get(0);
    assertThat(released.getEventId())
        .isEqualTo(
            io.genguard.schemas.EventIds.nameBased(
                "gate",
                "r-held-again",
                released.getOutcome().name(),
                GateBasis.REVIEW.name(),
                released.getReviewId()));
  }

  @Test
  void shouldRestateADecisionMadeBeforeTheUpgradeAsTheSameEvent() {
    // A decision a format-3 gate made and restated (a copy of its output), restated again after
    // the upgrade: the same restatement event, naming the same outcome.
    start(3);
    GenerationOutput decided = output("r-restated", "Released before the upgrade.");
    sendRequest(decided.getRequestId(), "acme");
    send(decided);
    send(verdict(decided, Decision.RELEASE));
    ReleaseGateOutcome release = decode(Topics.CONTENT_RELEASED.name()).get(0);
    send(decided);
    GateDecisionRestated before = restated().get(0);
    assertThat(before.getOutcomeEventId()).isEqualTo(release.getEventId());
    upgraded("r-restated");
    send(decided);
    assertThat(restated())
        .singleElement()
        .satisfies(
            after -> {
              assertThat(after.getEventId()).isEqualTo(before.getEventId());
              assertThat(after.getOutcomeEventId()).isEqualTo(release.getEventId());
            });

    // A request decided under format 4 keeps the tenant in its ids: another tenant's decision
    // under a request id is another event.
    GenerationOutput acme = output("r-restated-4", "Acme's text.");
    GenerationOutput globex = underTenant(acme, "globex", "Globex's text.");
    for (GenerationOutput output : List.of(acme, globex)) {
      sendRequest(output.getRequestId(), output.getTenantId());
      send(output);
      send(verdict(output, Decision.RELEASE));
      send(output);
    }
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getEventId)
        .doesNotHaveDuplicates()
        .doesNotContain(
            io.genguard.schemas.EventIds.nameBased(
                "gate", "r-restated-4", "RELEASED", GateBasis.VERDICT.name(), ""));
    assertThat(restated())
        .extracting(GateDecisionRestated::getEventId)
        .hasSize(2)
        .doesNotHaveDuplicates();
  }

  @Test
  void shouldNotEraseAnotherRequestsEntryWithARequestIdHoldingTheSeparator() {
    // A tenantless erasure notice for "r-sep" U+0001 "acme" (an id no output or verdict may have
    // under format 4) read the key of request "r-sep"'s tenant "acme" entry, erased it, and left
    // an erasure marker there for "r-sep"'s output to find.
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    GenerationOutput waiting = output("r-sep", "Waits for its verdict.");
    sendRequest("r-sep", "acme");
    send(waiting);
    sendErasure("r-sep\u0001acme", "");
    GenerationOutput later = output("r-sep-later", "Comes after the notice.");
    sendErasure("r-sep-later\u0001acme", "");
    sendRequest("r-sep-later", "acme");
    send(later);
    assertThat(decode(Topics.CONTENT_QUARANTINED.name())).isEmpty();
    send(verdict(waiting, Decision.RELEASE));
    send(verdict(later, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getRequestId)
        .containsExactly("r-sep", "r-sep-later");
  }

  @Test
  void shouldEraseAnEarlierGatesEntryWhoseRequestIdHoldsTheSeparator() {
    // Format 3 accepted a request id holding U+0001: its entry, kept through the upgrade, is still
    // erased by a notice for its request (the sweep would otherwise hold its text for review).
    start(3);
    GenerationOutput odd = output("r-odd\u0001id", "Accepted by format 3.");
    send(odd);
    upgraded("r-odd\u0001id");
    sendErasure("r-odd\u0001id", "");
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getRequestId()).isEqualTo("r-odd\u0001id");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getText()).isEmpty();
            });
  }

  /**
   * The fifty-first session's finding: a tenantless erasure of an id whose entry under the request
   * id alone (an earlier gate's) names a tenant made it that tenant's erased marker only, so
   * another tenant's later output under the id got a key of its own and was decided on its verdict.
   */
  @Test
  void shouldQuarantineEveryOtherTenantAfterATenantlessErasureOfAnEarlierGatesEntry() {
    start(3);
    GenerationOutput waiting = output("r-old-waiting", "Acme's, waiting through the upgrade.");
    GenerationOutput decided = output("r-old-decided", "Acme's, released before the upgrade.");
    for (GenerationOutput output : List.of(waiting, decided)) {
      sendRequest(output.getRequestId(), "acme");
      send(output);
    }
    send(verdict(decided, Decision.RELEASE));
    ReleaseGateOutcome release = decode(Topics.CONTENT_RELEASED.name()).get(0);
    upgradedAll("r-old-waiting", "r-old-decided");
    sendErasure("r-old-waiting", "");
    sendErasure("r-old-decided", "");
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .extracting(ReleaseGateOutcome::getRequestId, ReleaseGateOutcome::getTenantId)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("r-old-waiting", "acme"));

    for (String id : List.of("r-old-waiting", "r-old-decided")) {
      GenerationOutput globex = underTenant(output(id, "-"), "globex", "Globex's text.");
      sendRequest(id, "globex");
      send(globex);
      send(verdict(globex, Decision.RELEASE));
    }
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .allSatisfy(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("globex");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getText()).isEmpty();
            })
        .extracting(ReleaseGateOutcome::getRequestId)
        .containsExactly("r-old-waiting", "r-old-decided");

    // Acme's own decisions stay acme's: a copy of its released output is restated, not decided.
    send(decided);
    assertThat(restated())
        .singleElement()
        .satisfies(
            restatement -> {
              assertThat(restatement.getTenantId()).isEqualTo("acme");
              assertThat(restatement.getDecision()).isEqualTo(RestatedDecision.RELEASED);
              assertThat(restatement.getOutcomeEventId()).isEqualTo(release.getEventId());
            });
    assertThat(decode(Topics.CONTENT_QUARANTINED.name())).isEmpty();
  }

  /**
   * The fifty-first session's finding: a tenantless erasure left a final entry under the request id
   * alone that names no tenant (an earlier gate's, whose request it did not read) as it was, and
   * another tenant's later output under the id was restated as that decision (or ignored), with no
   * outcome of its own.
   */
  @Test
  void shouldNotRestateAnotherTenantsOutputAsAnErasedTenantlessDecision() {
    start(3);
    GenerationOutput decided = output("r-no-tenant", "Released before the upgrade.");
    send(decided);
    send(verdict(decided, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name())).hasSize(1);
    assertThat(upgraded("r-no-tenant").requestTenant()).isNull();
    sendErasure("r-no-tenant", "");

    GenerationOutput globex = underTenant(decided, "globex", "Globex's text.");
    sendRequest("r-no-tenant", "globex");
    send(globex);
    send(verdict(globex, Decision.RELEASE));
    assertThat(restated()).isEmpty();
    assertThat(decode(Topics.CONTENT_RELEASED.name())).isEmpty();
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("globex");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getText()).isEmpty();
            });
  }

  /**
   * The fifty-first session's finding: a format-3 gate accepted request ids holding U+0001, so its
   * entry for request "r-pre" U+0001 "globex" is under the key format 4 gives request "r-pre" of
   * tenant "globex", and was taken for that pair's: globex's output waited beside the earlier
   * request's output and was dropped when that was held. The earlier request's entry is told apart
   * by the request id of the output it holds and quarantined at the first read of the key.
   */
  @Test
  void shouldNotTakeAnEarlierGatesEntryWithTheSeparatorForATenantsEntry() {
    start(3);
    GenerationOutput earlier =
        GenerationOutput.newBuilder(output("r-pre\u0001globex", "Accepted by format 3."))
            .setTenantId("globex")
            .build();
    sendRequest(earlier.getRequestId(), "globex");
    send(earlier);
    GenerationOutput onlyRequest = output("r-pre-request\u0001globex", "Never came.");
    sendRequest(onlyRequest.getRequestId(), "acme");
    upgradedAll(earlier.getRequestId(), onlyRequest.getRequestId());

    GenerationOutput globex =
        underTenant(output("r-pre", "-"), "globex", "Globex's own text, after the upgrade.");
    GenerationOutput globexToo =
        underTenant(output("r-pre-request", "-"), "globex", "Globex's other text.");
    for (GenerationOutput output : List.of(globex, globexToo)) {
      sendRequest(output.getRequestId(), "globex");
      send(output);
      send(verdict(output, Decision.RELEASE));
    }
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .extracting(ReleaseGateOutcome::getRequestId, ReleaseGateOutcome::getText)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("r-pre", globex.getText()),
            org.assertj.core.groups.Tuple.tuple("r-pre-request", globexToo.getText()));
    assertThat(decode(Topics.CONTENT_QUARANTINED.name()))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getRequestId()).isEqualTo(earlier.getRequestId());
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.INTEGRITY);
            });
    assertThat(deadLetters(Topics.GENERATION_OUTPUTS_DLQ.name())).isEmpty();
  }

  /**
   * An earlier gate's entry for request "r-tenants" U+0001 "acme" (holding its output) was taken
   * for acme's entry under request "r-tenants" when the gate looked for another tenant's request
   * under the id: globex's output, with no request under the id read, was withheld for a request of
   * its own (and dead-lettered at the verdict timeout) instead of decided on its verdict, as
   * without that entry.
   */
  @Test
  void shouldNotTakeAnEarlierGatesEntryWithTheSeparatorForAnotherTenantsRequest() {
    start(3);
    sendRequest("r-tenants\u0001acme", "acme");
    send(output("r-tenants\u0001acme", "Accepted by format 3, waiting for its verdict."));
    upgradedAll("r-tenants\u0001acme");
    GenerationOutput globex = underTenant(output("r-tenants", "-"), "globex", "Globex's text.");
    send(globex);
    send(verdict(globex, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getTenantId)
        .isEqualTo("globex");
  }

  /** As {@link #upgraded}, with the entries of several requests. */
  private void upgradedAll(String... requestIds) {
    KeyValueStore<String, GateEntry> before =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    Map<String, GateEntry> entries = new java.util.LinkedHashMap<>();
    for (String id : requestIds) {
      GateEntry entry = before.get(id);
      assertThat(entry).as(id).isNotNull();
      entries.put(id, entry);
    }
    driver.close();
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    entries.forEach(store::put);
  }

  /**
   * Restarts the gate at format 4 with the entry a format-3 gate wrote under {@code requestId}, as
   * its changelog restores it into the upgraded store; returns that entry.
   */
  private GateEntry upgraded(String requestId) {
    GateEntry entry =
        driver.<String, GateEntry>getKeyValueStore(ReleaseGateTopology.STATE_STORE).get(requestId);
    assertThat(entry).isNotNull();
    driver.close();
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    driver
        .<String, GateEntry>getKeyValueStore(ReleaseGateTopology.STATE_STORE)
        .put(requestId, entry);
    return entry;
  }

  @Test
  void shouldEraseNoOtherRequestsEntryWithATenantlessNotice() {
    // The store's range is inclusive of its upper bound, the request id followed by U+0002,
    // which is another valid request id: its entry must not be erased (fiftieth session's review).
    // An entry a format-3 gate wrote under the request id alone, kept through the upgrade.
    start(3);
    GenerationOutput neighbour = output("r-near\u0002", "The neighbour's text.");
    send(neighbour);
    GateEntry entry =
        driver
            .<String, GateEntry>getKeyValueStore(ReleaseGateTopology.STATE_STORE)
            .get("r-near\u0002");
    assertThat(entry).isNotNull();
    driver.close();
    start(ReleaseGateTopology.TENANT_KEYED_STATE_FORMAT);
    driver
        .<String, GateEntry>getKeyValueStore(ReleaseGateTopology.STATE_STORE)
        .put("r-near\u0002", entry);
    sendErasure("r-near", "");
    assertThat(decode(Topics.CONTENT_QUARANTINED.name())).isEmpty();
    send(verdict(neighbour, Decision.RELEASE));
    assertThat(decode(Topics.CONTENT_RELEASED.name()))
        .singleElement()
        .extracting(ReleaseGateOutcome::getRequestId)
        .isEqualTo("r-near\u0002");
  }

  private static String tenantKey(String requestId, String tenant) {
    return requestId + ReleaseGateProcessor.TENANT_SEPARATOR + tenant;
  }

  /**
   * {@code output} as another tenant's generation under the same request id: the same output id and
   * event id, as the generator derives both from the request id alone.
   */
  private static GenerationOutput underTenant(GenerationOutput output, String tenant, String text) {
    return GenerationOutput.newBuilder(output).setTenantId(tenant).setText(text).build();
  }

  private void advance(Duration duration) {
    clock.advance(duration);
    driver.advanceWallClockTime(duration);
  }

  private void sendRequest(String requestId, String tenant) {
    GenerationRequest request =
        Events.request("request-" + requestId + "-" + tenant, requestId, tenant, clock.instant());
    input(Topics.GENERATION_REQUESTS.name())
        .pipeInput(requestId, Topics.GENERATION_REQUESTS.codec().encode(request));
  }

  private void sendErasure(String requestId, String tenant) {
    ErasureNotice notice =
        ErasureNotice.newBuilder()
            .setEventId("erasure-" + requestId + "-" + tenant)
            .setRequestId(requestId)
            .setTenantId(tenant)
            .setErasureSeq(42L)
            .setErasedAt(clock.instant())
            .setCause(ErasureCause.ERASURE)
            .build();
    input(Topics.AUDIT_ERASURES.name())
        .pipeInput(requestId, Topics.AUDIT_ERASURES.codec().encode(notice));
  }

  private void send(GenerationOutput output) {
    input(Topics.GENERATION_OUTPUTS.name())
        .pipeInput(output.getRequestId(), Topics.GENERATION_OUTPUTS.codec().encode(output));
  }

  private void send(ModerationVerdict verdict) {
    input(Topics.MODERATION_VERDICTS.name())
        .pipeInput(verdict.getRequestId(), Topics.MODERATION_VERDICTS.codec().encode(verdict));
  }

  private void send(io.genguard.events.v1.ReviewDecision review) {
    input(Topics.REVIEW_DECISIONS.name())
        .pipeInput(review.getRequestId(), Topics.REVIEW_DECISIONS.codec().encode(review));
  }

  private TestInputTopic<String, byte[]> input(String topic) {
    return driver.createInputTopic(
        topic, Serdes.String().serializer(), Serdes.ByteArray().serializer());
  }

  private TestOutputTopic<String, byte[]> outputTopic(String topic) {
    return driver.createOutputTopic(
        topic, Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
  }

  private List<ReleaseGateOutcome> decode(String topic) {
    return outputTopic(topic).readValuesToList().stream()
        .map(Topics.CONTENT_RELEASED.codec()::decode)
        .toList();
  }

  private List<GateDecisionRestated> restated() {
    return outputTopic(Topics.GATE_RESTATEMENTS.name()).readValuesToList().stream()
        .map(Topics.GATE_RESTATEMENTS.codec()::decode)
        .toList();
  }

  private List<DeadLetter> deadLetters(String topic) {
    return outputTopic(topic).readValuesToList().stream()
        .map(Topics.GENERATION_OUTPUTS_DLQ.codec()::decode)
        .toList();
  }
}
