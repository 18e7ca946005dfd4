package io.genguard.moderation.gate;

import static io.genguard.moderation.fixtures.Events.output;
import static io.genguard.moderation.fixtures.Events.review;
import static io.genguard.moderation.fixtures.Events.verdict;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.CarriedAttributes;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.MovingClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseGateTopologyTest {
  @TempDir Path stateDir;
  private TopologyTestDriver driver;
  private TestInputTopic<String, byte[]> outputs;
  private TestInputTopic<String, byte[]> verdicts;
  private TestInputTopic<String, byte[]> reviews;
  private TestInputTopic<String, byte[]> erasures;
  private TestInputTopic<String, byte[]> requests;
  private TestOutputTopic<String, byte[]> released;
  private TestOutputTopic<String, byte[]> quarantined;
  private TestOutputTopic<String, byte[]> pending;

  /** The timeout these tests run with; the sweep runs every half of it. */
  private static final Duration VERDICT_TIMEOUT = Duration.ofSeconds(60);

  private static final Duration RETENTION = Duration.ofDays(1);

  private final MovingClock clock = new MovingClock(Events.NOW);

  @BeforeEach
  void startDriver() {
    startDriver(ReleaseGateTopology.LATEST_STATE_FORMAT, stateDir);
  }

  /** Starts the driver writing {@code stateFormat}, the topics on it. */
  private void startDriver(int stateFormat, Path dir) {
    driver =
        driver(
            // Sweeps bounded by count only: the half-second bound of a piece depends on the
            // machine's load (a piece read 15,000 entries instead of 50,000 on a busy one).
            ReleaseGateTopology.buildTopology(
                clock,
                new GateTimings(RETENTION, VERDICT_TIMEOUT),
                ReleaseGateProcessor.MAX_HOLDS_PER_SWEEP,
                stateFormat,
                Duration.ofMinutes(10)),
            dir);
    outputs = input(Topics.GENERATION_OUTPUTS.name());
    verdicts = input(Topics.MODERATION_VERDICTS.name());
    reviews = input(Topics.REVIEW_DECISIONS.name());
    erasures = input(Topics.AUDIT_ERASURES.name());
    requests = input(Topics.GENERATION_REQUESTS.name());
    released = outputTopic(Topics.CONTENT_RELEASED.name());
    quarantined = outputTopic(Topics.CONTENT_QUARANTINED.name());
    pending = outputTopic(Topics.REVIEW_PENDING.name());
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  /** A test driver of {@code topology} (at least once: the driver has no transactions). */
  private static TopologyTestDriver driver(org.apache.kafka.streams.Topology topology, Path dir) {
    Properties props = ReleaseGateTopology.streamsConfig("unused:9092", dir.toString(), 1);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    return new TopologyTestDriver(topology, props, Events.NOW);
  }

  @Test
  void shouldReleaseOutputWithReleaseVerdict() {
    GenerationOutput output = output("r1", "A calm sentence.");
    send(output);
    send(verdict(output, Decision.RELEASE));

    List<ReleaseGateOutcome> outcomes = decode(released);
    assertThat(outcomes)
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getOutcome()).isEqualTo(GateOutcome.RELEASED);
              assertThat(outcome.getText()).isEqualTo("A calm sentence.");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT);
            });
    assertThat(quarantined.isEmpty()).isTrue();
  }

  @Test
  void shouldIgnoreACopyOfADecidedOutputAndSaySoOnceASweep() {
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(ReleaseGateProcessor.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    log.addAppender(logged);
    try {
      GenerationOutput output = output("r-copy", "Sent again by the audit service.");
      send(output);
      send(verdict(output, Decision.RELEASE));
      assertThat(decode(released)).hasSize(1);
      // The audit service sends the same output again, twice: the gate decided it already.
      send(output);
      send(output);
      assertThat(released.isEmpty()).as("nothing released twice").isTrue();
      advance(VERDICT_TIMEOUT);
      assertThat(logged.list)
          .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .filteredOn(line -> line.startsWith("Ignored "))
          .containsExactly(
              "Ignored 2 copies of outputs whose request the gate holds or decided already"
                  + " (first: request \"r-copy\"); a copy sent again gets no second outcome");
      advance(VERDICT_TIMEOUT);
      assertThat(logged.list)
          .filteredOn(event -> event.getFormattedMessage().startsWith("Ignored "))
          .as("said once, not again at the next sweep")
          .hasSize(1);
    } finally {
      log.detachAppender(logged);
    }
  }

  @Test
  void shouldReleaseWhenVerdictArrivesBeforeOutput() {
    GenerationOutput output = output("r2", "Out of order.");
    send(verdict(output, Decision.RELEASE));
    assertThat(released.isEmpty()).isTrue();
    send(output);
    assertThat(decode(released)).hasSize(1);
  }

  @Test
  void shouldQuarantineBlockedOutput() {
    GenerationOutput output = output("r3", "Something nasty.");
    send(output);
    send(verdict(output, Decision.BLOCK));
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getOutcome)
        .isEqualTo(GateOutcome.QUARANTINED);
  }

  @Test
  void shouldHoldReviewVerdictUntilApproved() {
    GenerationOutput output = output("r4", "Borderline.");
    send(output);
    send(verdict(output, Decision.REVIEW));
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(pending))
        .singleElement()
        .extracting(ReleaseGateOutcome::getOutcome)
        .isEqualTo(GateOutcome.HELD_FOR_REVIEW);

    sendReview(review(output, ReviewAction.APPROVE));
    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.REVIEW);
              assertThat(outcome.getReviewId()).isEqualTo("review-r4");
              assertThat(outcome.getReasons()).contains("approved in review review-r4");
            });
  }

  @Test
  void shouldQuarantineRejectedReview() {
    GenerationOutput output = output("r5", "Borderline.");
    send(output);
    send(verdict(output, Decision.REVIEW));
    sendReview(
        ReviewDecision.newBuilder(review(output, ReviewAction.REJECT))
            .setNote("user seems to be a minor, escalated to T&S")
            .build());
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.REVIEW);
              // The reviewer's name and note are for the audit log, not for the platforms.
              assertThat(outcome.getReasons())
                  .contains("rejected in review review-r5")
                  .noneMatch(reason -> reason.contains("rita") || reason.contains("minor"));
            });
  }

  @Test
  void shouldGiveTheReviewExpirysRejectionItsFixedReasonWithoutItsNote() {
    GenerationOutput output = output("r5-expired", "Borderline, and nobody looked.");
    send(output);
    send(verdict(output, Decision.REVIEW));
    sendReview(
        ReviewDecision.newBuilder(review(output, ReviewAction.REJECT))
            .setReviewer(ReleaseGateProcessor.EXPIRY_REVIEWER)
            .setNote("Not reviewed within 24 hours of being held")
            .build());
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome ->
                assertThat(outcome.getReasons())
                    .last()
                    .isEqualTo(
                        "rejected in review review-r5-expired: not reviewed in time (the audit"
                            + " service's review expiry rejected it)"));
  }

  @Test
  void shouldQuarantineWhenVerdictJudgedOtherText() {
    GenerationOutput output = output("r6", "The real text.");
    send(output);
    send(verdict(output, Decision.RELEASE, "0".repeat(64)));
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.INTEGRITY);
  }

  @Test
  void shouldQuarantineWhenTheVerdictIsForAnotherTenant() {
    // The forty-first session's provenance review: the manifest does not bind the tenant, so a
    // copy of an output re-published under another tenant is judged under that tenant's policy;
    // the copy's verdict names the same output id and text hash, and came first here.
    GenerationOutput output = output("r6-tenant", "The real text.");
    GenerationOutput copy = GenerationOutput.newBuilder(output).setTenantId("lenient").build();
    send(output);
    send(verdict(copy, Decision.RELEASE));
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.INTEGRITY);
              assertThat(outcome.getReasons())
                  .anySatisfy(
                      reason ->
                          assertThat(reason)
                              .contains("for tenant \"lenient\"")
                              .contains("but the output is tenant \"" + output.getTenantId()));
            });
  }

  @Test
  void shouldReleaseTheGenuineOutputAfterACopyUnderAnotherTenantCameFirst() {
    // The fortieth session's review: someone who can write gen.outputs publishes a copy of a
    // request's output under another tenant before the genuine one; its verdict (a v2 manifest
    // is INVALID there) quarantines it. The copy took the request id, and the genuine output and
    // its RELEASE verdict that came after were ignored.
    GenerationOutput output = output("r-copied", "The genuine text.");
    GenerationOutput copy = GenerationOutput.newBuilder(output).setTenantId("globex").build();
    sendRequest(output.getRequestId(), "acme");
    send(copy);
    send(verdict(copy, Decision.BLOCK));
    assertThat(quarantined.isEmpty()).as("the copy is not the request's output").isTrue();
    send(output);
    send(verdict(output, Decision.RELEASE));

    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("acme");
              assertThat(outcome.getText()).isEqualTo("The genuine text.");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT);
            });
    assertThat(quarantined.isEmpty()).isTrue();
    DeadLetter copied =
        Topics.GENERATION_OUTPUTS_DLQ
            .codec()
            .decode(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValue());
    assertThat(copied.getSourceOffset()).isEqualTo(0L);
    assertThat(copied.getReason())
        .contains("not this request's: output out-r-copied came under tenant \"globex\"")
        .contains("request \"r-copied\" is tenant \"acme\"'s (gen.requests)");
    DeadLetter copiedVerdict =
        Topics.MODERATION_VERDICTS_DLQ
            .codec()
            .decode(outputTopic(Topics.MODERATION_VERDICTS_DLQ.name()).readValue());
    assertThat(copiedVerdict.getReason())
        .contains("verdict verdict-out-r-copied came under tenant \"globex\"");
  }

  @Test
  void shouldLetTheRequestTakeBackAnEntryACopyReachedBeforeIt() {
    // A copy whose record time is earlier than the request's is read first: it waits for its
    // verdict when the request comes, which drops it and its verdict from the entry.
    GenerationOutput output = output("r-early-copy", "The genuine text.");
    GenerationOutput copy = GenerationOutput.newBuilder(output).setTenantId("globex").build();
    send(copy);
    sendRequest(output.getRequestId(), "acme");
    send(verdict(copy, Decision.RELEASE));
    send(output);
    assertThat(released.isEmpty()).as("the copy's verdict does not decide").isTrue();
    send(verdict(output, Decision.RELEASE));

    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getTenantId)
        .isEqualTo("acme");
    assertThat(quarantined.isEmpty()).isTrue();
    List<DeadLetter> copies =
        outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValuesToList().stream()
            .map(Topics.GENERATION_OUTPUTS_DLQ.codec()::decode)
            .toList();
    assertThat(copies)
        .singleElement()
        .satisfies(
            dead -> {
              assertThat(dead.getSourceOffset()).as("kept by the store: not known").isEqualTo(-1L);
              assertThat(dead.getReason()).contains("came under tenant \"globex\"");
            });

    // And the copy's verdict first, then the request: the verdict is dropped too.
    GenerationOutput second = output("r-early-verdict", "Another genuine text.");
    GenerationOutput secondCopy = GenerationOutput.newBuilder(second).setTenantId("globex").build();
    send(verdict(secondCopy, Decision.RELEASE));
    sendRequest(second.getRequestId(), "acme");
    send(second);
    assertThat(released.isEmpty()).as("waits for its own verdict").isTrue();
    assertThat(quarantined.isEmpty()).isTrue();
    send(verdict(second, Decision.RELEASE));
    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getOutputId)
        .isEqualTo(second.getOutputId());
  }

  @Test
  void shouldLetTheGenuineOutputDecideAfterAForgedOneUnderTheRequestsTenantCameFirst() {
    // The fortieth session's review: an output forged under the request's own tenant that reached
    // the gate first took the request (quarantined on its INVALID manifest), and the genuine
    // output that came after was ignored. A forged output does not take the request now: its
    // verdict leaves the entry open for another output.
    GenerationOutput genuine = output("r-forged-first", "The genuine text.");
    GenerationOutput forged = forged(genuine, "out-forged-1");
    sendRequest(genuine.getRequestId(), "acme");
    send(forged);
    send(forgedVerdict(forged));
    assertThat(quarantined.isEmpty()).as("the forged output does not take the request").isTrue();
    send(genuine);
    send(verdict(genuine, Decision.RELEASE));

    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getOutputId()).isEqualTo(genuine.getOutputId());
              assertThat(outcome.getText()).isEqualTo("The genuine text.");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT);
            });
    assertThat(quarantined.isEmpty()).isTrue();
    DeadLetter forgedOutput =
        Topics.GENERATION_OUTPUTS_DLQ
            .codec()
            .decode(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValue());
    assertThat(forgedOutput.getReason())
        .contains("not this request's: output out-forged-1 carries a provenance manifest")
        .contains("INVALID");
    DeadLetter forgedJudged =
        Topics.MODERATION_VERDICTS_DLQ
            .codec()
            .decode(outputTopic(Topics.MODERATION_VERDICTS_DLQ.name()).readValue());
    assertThat(forgedJudged.getReason()).contains("verdict verdict-out-forged-1");
  }

  @Test
  void shouldKeepTheGenuineOutputThatCameWhileTheForgedOneWaitedForItsVerdict() {
    // Either verdict first: the genuine output, which came while the forged one waited for its
    // verdict, waits beside it and decides the request.
    for (boolean forgedVerdictFirst : List.of(true, false)) {
      GenerationOutput genuine = output("r-forged-beside-" + forgedVerdictFirst, "Genuine.");
      GenerationOutput forged = forged(genuine, "out-forged-" + forgedVerdictFirst);
      sendRequest(genuine.getRequestId(), "acme");
      send(forged);
      send(genuine);
      if (forgedVerdictFirst) {
        send(forgedVerdict(forged));
        send(verdict(genuine, Decision.RELEASE));
      } else {
        send(verdict(genuine, Decision.RELEASE));
        assertThat(released.isEmpty()).as("waits for the first output's verdict").isTrue();
        send(forgedVerdict(forged));
      }
      assertThat(decode(released))
          .as("forged verdict first: " + forgedVerdictFirst)
          .singleElement()
          .extracting(ReleaseGateOutcome::getOutputId)
          .isEqualTo(genuine.getOutputId());
      assertThat(quarantined.isEmpty()).isTrue();
      KeyValueStore<String, GateEntry> store =
          driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
      assertThat(store.get(ReleaseGateProcessor.contenderKey(genuine.getRequestId())))
          .as("nothing left beside the marker")
          .isNull();
    }
  }

  @Test
  void shouldChangeNothingWhenAForgedOutputComesAfterTheGenuineOne() {
    GenerationOutput genuine = output("r-forged-after", "The genuine text.");
    GenerationOutput forged = forged(genuine, "out-forged-after");
    sendRequest(genuine.getRequestId(), "acme");
    send(genuine);
    send(forged);
    send(forgedVerdict(forged));
    assertThat(quarantined.isEmpty()).as("the genuine output still waits").isTrue();
    send(verdict(genuine, Decision.RELEASE));
    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getOutputId)
        .isEqualTo(genuine.getOutputId());

    // And after the genuine output was decided: ignored, its verdict too.
    GenerationOutput late = forged(genuine, "out-forged-later");
    send(late);
    send(forgedVerdict(late));
    advance(VERDICT_TIMEOUT.multipliedBy(3));
    assertThat(released.isEmpty()).isTrue();
    assertThat(quarantined.isEmpty()).isTrue();
    assertThat(pending.isEmpty()).isTrue();
  }

  @Test
  void shouldDecideAForgedOutputOnItsVerdictWhenNoOtherOutputComesInTime() {
    // Only forged outputs: the request still ends, after the verdict timeout, as the forged
    // output's verdict says (quarantined), and a flood of them keeps at most two entries.
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    GenerationOutput genuine = output("r-only-forged", "Never generated.");
    sendRequest(genuine.getRequestId(), "acme");
    for (int i = 0; i < 5; i++) {
      send(forged(genuine, "out-flood-" + i));
    }
    assertThat(store.get(ReleaseGateProcessor.contenderKey(genuine.getRequestId())).outputId())
        .as("one output waits beside the first, the rest are ignored")
        .isEqualTo("out-flood-1");
    send(forgedVerdict(forged(genuine, "out-flood-0")));
    send(forgedVerdict(forged(genuine, "out-flood-1")));
    assertThat(quarantined.isEmpty()).isTrue();
    assertThat(store.get(ReleaseGateProcessor.contenderKey(genuine.getRequestId()))).isNull();
    advance(VERDICT_TIMEOUT.multipliedBy(2));

    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getOutputId()).isEqualTo("out-flood-1");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT);
              assertThat(outcome.getReasons()).anyMatch(r -> r.contains("does not verify"));
            });
    assertThat(released.isEmpty()).isTrue();
    assertThat(pending.isEmpty()).isTrue();
    assertThat(store.get(genuine.getRequestId()).state()).isEqualTo(GateEntry.State.QUARANTINED);
  }

  @Test
  void shouldDropTheOutputWaitingBesideTheFirstWhenTheRequestIsErased() {
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    GenerationOutput genuine = output("r-forged-erased", "The genuine text.");
    sendRequest(genuine.getRequestId(), "acme");
    send(forged(genuine, "out-forged-erased"));
    send(genuine);
    assertThat(store.get(ReleaseGateProcessor.contenderKey(genuine.getRequestId()))).isNotNull();
    sendErasure(genuine.getRequestId());
    assertThat(store.get(ReleaseGateProcessor.contenderKey(genuine.getRequestId())))
        .as("no text of an erased request stays in the store")
        .isNull();
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.ERASURE);
  }

  @Test
  void shouldLetTheGenuineOutputTakeTheRequestFromAForgedVerdictThatCameFirst() {
    // A forged output's verdict read before any output: the genuine output that comes next is not
    // quarantined on it (INTEGRITY, as for a verdict that judged other text), it waits for its own.
    GenerationOutput genuine = output("r-forged-verdict-first", "The genuine text.");
    GenerationOutput forged = forged(genuine, "out-forged-verdict-first");
    sendRequest(genuine.getRequestId(), "acme");
    send(forgedVerdict(forged));
    send(genuine);
    assertThat(quarantined.isEmpty()).isTrue();
    send(verdict(genuine, Decision.RELEASE));
    assertReleasedOnly(genuine);
  }

  @Test
  void shouldLetTheOutputBesideACopyUnderAnotherTenantTakeTheRequestWhenTheRequestComes() {
    // A copy under another tenant read before the request, and the genuine output beside it: the
    // request drops the copy, and the genuine output takes its place.
    GenerationOutput genuine = output("r-copy-then-genuine", "The genuine text.");
    GenerationOutput copy =
        GenerationOutput.newBuilder(forged(genuine, "out-copy")).setTenantId("globex").build();
    send(copy);
    send(genuine);
    sendRequest(genuine.getRequestId(), "acme");
    send(verdict(genuine, Decision.RELEASE));
    assertReleasedOnly(genuine);
  }

  @Test
  void shouldDeadLetterAnIdWithTheCharacterThatEndsARequestIdInAStoreKey() {
    GenerationOutput output = output("r-nul\u0000contender", "Text.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(released.isEmpty()).isTrue();
    assertThat(
            Topics.GENERATION_OUTPUTS_DLQ
                .codec()
                .decode(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValue())
                .getReason())
        .contains("holds a NUL character");
  }

  @Test
  void shouldIgnoreARepeatedVerdictOfTheOutputWaitingBesideTheFirst() {
    // The forty-fifth session's review: the genuine output's verdict read again (a moderation job
    // restored from an older savepoint) while the genuine output waits beside a forged first one
    // decided the forged output on it (INTEGRITY) and dropped the genuine output. A repeat, with
    // the same decision or another, never decides twice: the first verdict stays the one used.
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    for (Decision repeated : List.of(Decision.RELEASE, Decision.BLOCK)) {
      GenerationOutput genuine = output("r-repeat-beside-" + repeated, "Genuine.");
      GenerationOutput forged = forged(genuine, "out-repeat-forged-" + repeated);
      sendRequest(genuine.getRequestId(), "acme");
      send(forged);
      send(genuine);
      send(verdict(genuine, Decision.RELEASE));
      send(verdict(genuine, repeated)); // the same verdict read again
      assertThat(released.isEmpty()).as("repeated " + repeated).isTrue();
      assertThat(quarantined.isEmpty()).as("repeated " + repeated).isTrue();
      GateEntry beside = store.get(ReleaseGateProcessor.contenderKey(genuine.getRequestId()));
      assertThat(beside).as("the genuine output still waits beside the first").isNotNull();
      assertThat(Topics.MODERATION_VERDICTS.codec().decode(beside.verdict()).getDecision())
          .as("the first verdict kept")
          .isEqualTo(Decision.RELEASE);
      send(forgedVerdict(forged));
      assertReleasedOnly(genuine);
      send(verdict(genuine, repeated)); // and once more, after the decision
      assertThat(released.isEmpty()).isTrue();
      assertThat(quarantined.isEmpty()).isTrue();
      assertThat(store.get(genuine.getRequestId()).state()).isEqualTo(GateEntry.State.RELEASED);
    }
  }

  /** Asserts that {@code output}, and nothing else, was released, and nothing quarantined. */
  private void assertReleasedOnly(GenerationOutput output) {
    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getOutputId)
        .isEqualTo(output.getOutputId());
    assertThat(quarantined.isEmpty()).isTrue();
  }

  /** An output forged for {@code genuine}'s request, under its tenant, with another id and text. */
  private static GenerationOutput forged(GenerationOutput genuine, String outputId) {
    return GenerationOutput.newBuilder(genuine)
        .setOutputId(outputId)
        .setEventId("event-" + outputId)
        .setText("Forged text " + outputId + ".")
        .build();
  }

  /** The verdict of a forged output: its manifest's signature does not verify (BLOCK). */
  private static ModerationVerdict forgedVerdict(GenerationOutput forged) {
    return ModerationVerdict.newBuilder(verdict(forged, Decision.BLOCK))
        .setReasons(
            List.of(
                Reason.newBuilder()
                    .setCode("provenance.manifest_invalid")
                    .setDecision(Decision.BLOCK)
                    .setMessage(
                        "the provenance manifest's signature does not verify: the text or its"
                            + " manifest was altered")
                    .build()))
        .build();
  }

  @Test
  void shouldKeepTheFirstRequestsTenantAndForgetARequestWhoseOutputNeverCame() {
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    GenerationOutput output = output("r-first-request", "The genuine text.");
    sendRequest(output.getRequestId(), "acme");
    sendRequest(output.getRequestId(), "globex");
    assertThat(store.get(output.getRequestId()).requestTenant()).isEqualTo("acme");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);
    assertThat(store.get(output.getRequestId()).requestTenant())
        .as("the marker keeps it, so a later copy under another tenant is not restated")
        .isEqualTo("acme");

    sendRequest("r-never-generated", "acme");
    assertThat(store.get("r-never-generated")).isNotNull();
    advance(RETENTION.plus(VERDICT_TIMEOUT));
    assertThat(store.get("r-never-generated")).as("forgotten after the retention").isNull();
    // A request older than the gate remembers decisions is not kept at all (a gate reading
    // gen.requests for the first time reads it from the start).
    GenerationRequest old =
        GenerationRequest.newBuilder(request("r-old", "acme"))
            .setSubmittedAt(clock.instant().minus(RETENTION))
            .build();
    requests.pipeInput("r-old", Topics.GENERATION_REQUESTS.codec().encode(old));
    assertThat(store.get("r-old")).isNull();
    // A request that does not decode is the generator's to dead-letter, not the gate's.
    requests.pipeInput("r-bad", "not avro".getBytes(StandardCharsets.UTF_8));
    assertThat(outputTopic(Topics.GENERATION_REQUESTS_DLQ.name()).isEmpty()).isTrue();
  }

  @Test
  void shouldKeepTheRequestsTenantWhenItIsErasedBeforeItsOutputCame() {
    // The forty-third session's review: the erasure's marker forgot the request's tenant, so a
    // copy under another tenant took the request's ERASURE quarantine under its own tenant, and
    // the genuine output got only a restatement.
    assertTheErasedRequestKeepsItsTenant("r-erased-first", false);
  }

  @Test
  void shouldGiveAnErasureReadBeforeItsRequestTheNoticesTenant() {
    // The forty-fourth session: an erasure read before its request (or of a request the gate
    // never read) left a marker without a tenant, which the request read after it did not
    // complete, so a copy under another tenant still took the request's ERASURE quarantine. The
    // marker now takes the notice's tenant.
    assertTheErasedRequestKeepsItsTenant("r-erased-before-request", true);
  }

  private void assertTheErasedRequestKeepsItsTenant(String requestId, boolean erasureFirst) {
    TestOutputTopic<String, byte[]> restatements = outputTopic(Topics.GATE_RESTATEMENTS.name());
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    GenerationOutput output = output(requestId, "Generated after the erasure.");
    GenerationOutput copy = GenerationOutput.newBuilder(output).setTenantId("globex").build();
    if (erasureFirst) {
      sendErasure(output.getRequestId());
      sendRequest(output.getRequestId(), "acme");
    } else {
      sendRequest(output.getRequestId(), "acme");
      sendErasure(output.getRequestId());
    }
    assertThat(store.get(output.getRequestId()).state()).isEqualTo(GateEntry.State.ERASED);
    assertThat(store.get(output.getRequestId()).requestTenant()).isEqualTo("acme");
    send(copy);
    assertThat(quarantined.isEmpty()).as("the copy is not the request's output").isTrue();
    send(output);

    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getTenantId()).isEqualTo("acme");
              assertThat(outcome.getOutputId()).isEqualTo(output.getOutputId());
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
            });
    assertThat(restatements.isEmpty()).isTrue();
    DeadLetter copied =
        Topics.GENERATION_OUTPUTS_DLQ
            .codec()
            .decode(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValue());
    assertThat(copied.getReason())
        .contains("not this request's: output out-" + requestId + " came under tenant \"globex\"")
        .contains("request \"" + requestId + "\" is tenant \"acme\"'s (gen.requests)");
  }

  @Test
  void shouldDecideAsBeforeWhenWritingAFormatWithoutTheTenant(@TempDir Path otherStateDir) {
    // The forty-third session's review: writing format 2 dropped the tenant at every write, so a
    // second request of the id under another tenant evicted the genuine output, which then was
    // neither decided nor held. A gate writing format 2 reads no request.
    driver.close();
    startDriver(2, otherStateDir);
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    sendRequest("r-format-2-alone", "acme");
    assertThat(store.get("r-format-2-alone"))
        .as("no request-only entry, which would start an older gate's verdict timeout")
        .isNull();

    GenerationOutput output = output("r-format-2", "The genuine text.");
    sendRequest(output.getRequestId(), "acme");
    send(output);
    sendRequest(output.getRequestId(), "globex");
    send(verdict(output, Decision.RELEASE));
    advance(Duration.ofMinutes(5));

    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getOutputId)
        .isEqualTo(output.getOutputId());
    assertThat(pending.isEmpty()).isTrue();
    assertThat(quarantined.isEmpty()).isTrue();
    assertThat(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).isEmpty()).isTrue();
  }

  @Test
  void shouldTimeTheVerdictFromTheOutputNotFromItsRequest() {
    // A request read long before its output (a generator backlog): the verdict timeout counts
    // from the output.
    GenerationOutput output = output("r-slow-generation", "Generated late.");
    sendRequest(output.getRequestId(), "acme");
    advance(VERDICT_TIMEOUT.multipliedBy(3));
    send(output);
    advance(VERDICT_TIMEOUT.dividedBy(2));
    assertThat(pending.isEmpty()).as("not yet overdue").isTrue();
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);
  }

  @Test
  void shouldDecideAsBeforeAnOutputWhoseRequestTheGateHasNotRead() {
    // No request (one sent before the gate read gen.requests, or past its retention): the first
    // output decides, as before.
    GenerationOutput output = output("r-no-request", "The genuine text.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);
  }

  @Test
  void shouldNeverReleaseTwice() {
    GenerationOutput output = output("r7", "Once only.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    send(output);
    send(verdict(output, Decision.RELEASE));
    sendReview(review(output, ReviewAction.APPROVE));
    assertThat(decode(released)).hasSize(1);
  }

  @Test
  void shouldIgnoreReviewApprovalOfBlockedOutput() {
    GenerationOutput output = output("r8", "Blocked for good.");
    send(output);
    send(verdict(output, Decision.BLOCK));
    sendReview(review(output, ReviewAction.APPROVE));
    assertThat(released.isEmpty()).isTrue();
  }

  @Test
  void shouldDeadLetterReviewOfUnknownRequest() {
    sendReview(review(output("r9", "never seen"), ReviewAction.APPROVE));
    TestOutputTopic<String, byte[]> deadLetters = outputTopic(Topics.REVIEW_DECISIONS_DLQ.name());
    DeadLetter deadLetter = Topics.REVIEW_DECISIONS_DLQ.codec().decode(deadLetters.readValue());
    assertThat(deadLetter.getReason()).contains("not held for review");
    assertThat(released.isEmpty()).isTrue();
  }

  @Test
  void shouldDeadLetterUndecodableBytesAndKeepGoing() {
    outputs.pipeInput("r10", "not avro".getBytes(StandardCharsets.UTF_8));
    TestOutputTopic<String, byte[]> deadLetters = outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name());
    DeadLetter deadLetter = Topics.GENERATION_OUTPUTS_DLQ.codec().decode(deadLetters.readValue());
    assertThat(deadLetter.getSourceTopic()).isEqualTo(Topics.GENERATION_OUTPUTS.name());
    assertThat(deadLetter.getSourceOffset()).isEqualTo(0L);
    assertThat(deadLetter.getReason())
        .contains("Not an Avro single-object encoded GenerationOutput");

    GenerationOutput output = output("r11", "Still working.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);
  }

  @Test
  void shouldDeadLetterARecordCopiedFromADamagedBatchAndNeverReleaseIt() {
    // A whole, decodable output with a releasing verdict: only the mark says its batch was damaged.
    GenerationOutput output = output("r12", "A calm sentence.");
    org.apache.kafka.common.header.internals.RecordHeaders headers =
        new org.apache.kafka.common.header.internals.RecordHeaders();
    headers.add(
        UnreadableBatchClients.UNREADABLE_HEADER,
        "the batch fails its CRC check".getBytes(StandardCharsets.UTF_8));
    outputs.pipeInput(
        new org.apache.kafka.streams.test.TestRecord<>(
            output.getRequestId(), Topics.GENERATION_OUTPUTS.codec().encode(output), headers));
    send(verdict(output, Decision.RELEASE));

    DeadLetter deadLetter =
        Topics.GENERATION_OUTPUTS_DLQ
            .codec()
            .decode(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValue());
    assertThat(deadLetter.getSourceTopic()).isEqualTo(Topics.GENERATION_OUTPUTS.name());
    assertThat(deadLetter.getErrorClass())
        .isEqualTo(org.apache.kafka.common.errors.CorruptRecordException.class.getName());
    assertThat(deadLetter.getReason()).contains("the batch fails its CRC check");
    assertThat(released.isEmpty()).isTrue();
    assertThat(quarantined.isEmpty()).isTrue();
  }

  @Test
  void shouldApplyAnErasureNoticeCopiedFromADamagedBatchAsWellAsDeadLetterIt() {
    // The notice comes before its request's output: dropping it would release the erased output.
    ErasureNotice notice =
        ErasureNotice.newBuilder()
            .setEventId("erasure-e12")
            .setRequestId("e12")
            .setTenantId("acme")
            .setErasureSeq(42L)
            .setErasedAt(clock.instant())
            .setCause(ErasureCause.ERASURE)
            .build();
    erasures.pipeInput(
        new org.apache.kafka.streams.test.TestRecord<>(
            "e12", Topics.AUDIT_ERASURES.codec().encode(notice), damagedBatchHeaders()));
    GenerationOutput output = output("e12", "A calm sentence, generated before the erasure.");
    send(output);
    send(verdict(output, Decision.RELEASE));

    assertThat(released.isEmpty()).as("an erased request's output is never released").isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.ERASURE);
    DeadLetter deadLetter =
        Topics.AUDIT_ERASURES_DLQ
            .codec()
            .decode(outputTopic(Topics.AUDIT_ERASURES_DLQ.name()).readValue());
    assertThat(deadLetter.getErrorClass())
        .isEqualTo(org.apache.kafka.common.errors.CorruptRecordException.class.getName());
  }

  @Test
  void shouldFailOnAnErasureNoticeCopiedFromADamagedBatchThatDoesNotDecodeRatherThanSkipIt() {
    assertThatThrownBy(
            () ->
                erasures.pipeInput(
                    new org.apache.kafka.streams.test.TestRecord<>(
                        "e13",
                        "a damaged erasure".getBytes(StandardCharsets.UTF_8),
                        damagedBatchHeaders())))
        .hasStackTraceContaining("does not decode");
    assertThat(outputTopic(Topics.AUDIT_ERASURES_DLQ.name()).isEmpty())
        .as("not dead-lettered: the offset does not move past it")
        .isTrue();
  }

  private static org.apache.kafka.common.header.internals.RecordHeaders damagedBatchHeaders() {
    org.apache.kafka.common.header.internals.RecordHeaders headers =
        new org.apache.kafka.common.header.internals.RecordHeaders();
    headers.add(
        UnreadableBatchClients.UNREADABLE_HEADER,
        "the batch fails its CRC check".getBytes(StandardCharsets.UTF_8));
    return headers;
  }

  /** Kafka's default max.request.size, less room for the record overhead. */
  private static final int MAX_RECORD_BYTES = 1024 * 1024 - 1024;

  @Test
  void shouldDeadLetterOutputWithOversizedRequestIdInsteadOfWritingAnUnsendableRecord() {
    // A decodable output whose request id alone is 400 kB: stored under that key, the changelog
    // record (key + entry holding the output) would be over 1 MiB, fail its transaction and stop
    // the gate on every retry.
    String hugeId = "r".repeat(400_000);
    outputs.pipeInput(
        "r12", Topics.GENERATION_OUTPUTS.codec().encode(output(hugeId, "Small text.")));

    assertChangelogRecordsFit();
    TestOutputTopic<String, byte[]> deadLetters = outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name());
    DeadLetter deadLetter = Topics.GENERATION_OUTPUTS_DLQ.codec().decode(deadLetters.readValue());
    assertThat(deadLetter.getReason()).contains("request id");
    assertThat(deadLetter.getSourceOffset()).isEqualTo(0L);

    GenerationOutput output = output("r13", "Still working.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);
  }

  @Test
  void shouldDeadLetterOutputAndVerdictWithOversizedOutputId() {
    // Each event fits, but the held entry keeps the output id, the output and the verdict (which
    // names the output id twice): over 1 MiB together.
    GenerationOutput output =
        GenerationOutput.newBuilder(output("r14", "Small text."))
            .setOutputId("o".repeat(300_000))
            .build();
    send(output);
    send(verdict(output, Decision.REVIEW));

    assertChangelogRecordsFit();
    assertThat(pending.isEmpty()).isTrue();
    assertThat(
            Topics.GENERATION_OUTPUTS_DLQ
                .codec()
                .decode(outputTopic(Topics.GENERATION_OUTPUTS_DLQ.name()).readValue())
                .getReason())
        .contains("output id");
    assertThat(
            Topics.MODERATION_VERDICTS_DLQ
                .codec()
                .decode(outputTopic(Topics.MODERATION_VERDICTS_DLQ.name()).readValue())
                .getReason())
        .contains("output id");
  }

  @Test
  void shouldHoldLargeOutputForReviewWithinTheRecordSizeLimit() {
    // The moderation job copies the output's attributes into its verdict; a held entry that kept
    // both whole would be twice their size and could not be written to the changelog.
    Map<String, String> attributes = Map.of("context", "a".repeat(600_000));
    GenerationOutput output =
        GenerationOutput.newBuilder(output("r15", "Borderline.")).setAttributes(attributes).build();
    send(output);
    send(
        io.genguard.events.v1.ModerationVerdict.newBuilder(verdict(output, Decision.REVIEW))
            .setAttributes(attributes)
            .build());

    assertChangelogRecordsFit();
    assertThat(decode(pending)).hasSize(1);
    sendReview(review(output, ReviewAction.APPROVE));
    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getText()).isEqualTo("Borderline.");
              assertThat(outcome.getAttributes()).isEqualTo(attributes);
              assertThat(outcome.getReasons()).contains("test decided REVIEW");
            });
  }

  @Test
  void shouldHoldAnOutputForReviewWhenItsVerdictIsOverdue() {
    GenerationOutput output = output("t1", "Waiting for a verdict.");
    send(output);
    advance(Duration.ofSeconds(45));
    assertThat(pending.isEmpty()).as("not overdue yet").isTrue();

    advance(Duration.ofSeconds(30));
    assertThat(decode(pending))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getOutcome()).isEqualTo(GateOutcome.HELD_FOR_REVIEW);
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT_TIMEOUT);
              assertThat(outcome.getVerdictId()).isEmpty();
              assertThat(outcome.getPolicyVersion()).isEmpty();
              assertThat(outcome.getDecision()).isEqualTo(Decision.REVIEW);
              assertThat(outcome.getText()).isEqualTo("Waiting for a verdict.");
              assertThat(outcome.getOutputSha256())
                  .isEqualTo(ContentHash.sha256Hex("Waiting for a verdict."));
              assertThat(outcome.getReasons())
                  .singleElement()
                  .asString()
                  .startsWith("no verdict within 60 s of the output");
            });
    advance(Duration.ofMinutes(10));
    assertThat(pending.isEmpty()).as("held once, not again on every sweep").isTrue();
    assertThat(released.isEmpty()).isTrue();
  }

  @Test
  void shouldHoldAtMostABoundedNumberOfOverdueOutputsPerSweep(@TempDir Path otherStateDir) {
    try (TopologyTestDriver bounded =
        driver(
            ReleaseGateTopology.buildTopology(
                clock,
                new GateTimings(RETENTION, VERDICT_TIMEOUT),
                3,
                ReleaseGateTopology.LATEST_STATE_FORMAT),
            otherStateDir)) {
      TestInputTopic<String, byte[]> in =
          bounded.createInputTopic(
              Topics.GENERATION_OUTPUTS.name(),
              Serdes.String().serializer(),
              Serdes.ByteArray().serializer());
      TestOutputTopic<String, byte[]> held =
          bounded.createOutputTopic(
              Topics.REVIEW_PENDING.name(),
              Serdes.String().deserializer(),
              Serdes.ByteArray().deserializer());
      for (int i = 0; i < 5; i++) {
        GenerationOutput output = output("many-" + i, "Waiting.");
        in.pipeInput(output.getRequestId(), Topics.GENERATION_OUTPUTS.codec().encode(output));
      }
      clock.advance(Duration.ofSeconds(90));
      bounded.advanceWallClockTime(Duration.ofSeconds(90));
      assertThat(held.readRecordsToList()).hasSize(3);
      clock.advance(Duration.ofSeconds(30));
      bounded.advanceWallClockTime(Duration.ofSeconds(30));
      assertThat(held.readRecordsToList()).as("the rest at the next sweep").hasSize(2);
    }
  }

  @Test
  void shouldLetALateVerdictDecideAnOutputHeldForItsTimeout() {
    GenerationOutput released1 = output("t2", "Late but fine.");
    GenerationOutput blocked = output("t3", "Late and nasty.");
    GenerationOutput reviewed = output("t4", "Late and borderline.");
    send(released1);
    send(blocked);
    send(reviewed);
    advance(Duration.ofSeconds(90));
    assertThat(decode(pending)).hasSize(3);

    send(verdict(released1, Decision.RELEASE));
    send(verdict(blocked, Decision.BLOCK));
    send(verdict(reviewed, Decision.REVIEW));
    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getRequestId()).isEqualTo("t2");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT);
              assertThat(outcome.getVerdictId()).isEqualTo("verdict-out-t2");
            });
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getRequestId)
        .isEqualTo("t3");
    assertThat(decode(pending))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getRequestId()).isEqualTo("t4");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.VERDICT);
            });

    // Once the verdict is in, a second copy decides nothing, and a review decides as usual.
    send(verdict(reviewed, Decision.RELEASE));
    assertThat(released.isEmpty()).isTrue();
    sendReview(review(reviewed, ReviewAction.REJECT));
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.REVIEW);
  }

  @Test
  void shouldNotReleaseOnAnApprovalMadeOnNoVerdictOnceALateReviewVerdictHoldsTheOutput() {
    GenerationOutput output = output("t8", "Late and borderline.");
    send(output);
    advance(Duration.ofSeconds(90));
    assertThat(decode(pending))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.VERDICT_TIMEOUT);
    // The reviewer read the item while it had no verdict; the job's REVIEW verdict then held the
    // output again before the approval came.
    send(verdict(output, Decision.REVIEW));
    assertThat(decode(pending))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.VERDICT);

    ReviewDecision approval =
        ReviewDecision.newBuilder(review(output, ReviewAction.APPROVE)).setVerdictId("").build();
    sendReview(approval);

    assertThat(released.isEmpty()).as("no person saw the verdict's reasons").isTrue();
    assertThat(decode(pending))
        .as("the hold written again, naming the approval it did not act on")
        .singleElement()
        .satisfies(
            hold -> {
              assertThat(hold.getOutcome()).isEqualTo(GateOutcome.HELD_FOR_REVIEW);
              assertThat(hold.getBasis()).isEqualTo(GateBasis.VERDICT);
              assertThat(hold.getVerdictId()).isEqualTo("verdict-out-t8");
              assertThat(hold.getReviewId()).isEqualTo("review-t8");
              assertThat(hold.getReasons())
                  .last()
                  .asString()
                  .startsWith(
                      "not released on review review-t8: it approved the output on no verdict");
            });
    assertThat(
            driver.<String, GateEntry>getKeyValueStore(ReleaseGateTopology.STATE_STORE).get("t8"))
        .extracting(GateEntry::state)
        .isEqualTo(GateEntry.State.HELD);

    // The same approval sent again (the outbox's retry) does not release it either; one made on
    // the verdict does.
    sendReview(approval);
    assertThat(released.isEmpty()).isTrue();
    sendReview(
        ReviewDecision.newBuilder(review(output, ReviewAction.APPROVE))
            .setReviewId("review-t8-again")
            .setVerdictId("verdict-out-t8")
            .build());
    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.REVIEW);
              assertThat(outcome.getReviewId()).isEqualTo("review-t8-again");
            });
  }

  @Test
  void shouldApplyARejectionMadeOnNoVerdictAfterALateReviewVerdictHeldTheOutput() {
    GenerationOutput output = output("t9", "Late and borderline.");
    send(output);
    advance(Duration.ofSeconds(90));
    send(verdict(output, Decision.REVIEW));
    assertThat(decode(pending)).hasSize(2);

    sendReview(
        ReviewDecision.newBuilder(review(output, ReviewAction.REJECT)).setVerdictId("").build());

    assertThat(decode(quarantined))
        .as("rejecting fails closed, whatever it was decided on")
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.REVIEW);
              assertThat(outcome.getReasons())
                  .last()
                  .asString()
                  .startsWith("rejected in review review-t9 (decided on no verdict");
            });
  }

  @Test
  void shouldLetAPersonDecideAnOutputThatNeverGotAVerdict() {
    GenerationOutput output = output("t5", "Nobody judged me.");
    send(output);
    advance(Duration.ofSeconds(90));
    assertThat(decode(pending)).hasSize(1);

    sendReview(review(output, ReviewAction.APPROVE));
    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.REVIEW);
              assertThat(outcome.getVerdictId()).isEmpty();
              assertThat(outcome.getReasons())
                  .hasSize(2)
                  .noneMatch(reason -> reason.contains("rita") || reason.contains("checked"))
                  .last()
                  .isEqualTo("approved in review review-t5");
            });
    send(verdict(output, Decision.BLOCK));
    assertThat(quarantined.isEmpty()).as("the person decided first").isTrue();
  }

  @Test
  void shouldForgetAVerdictWhoseOutputNeverCameAfterTheRetention() {
    GenerationOutput output = output("t6", "Arrives a day late.");
    send(verdict(output, Decision.RELEASE));
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    advance(RETENTION.minusMinutes(1));
    assertThat(store.get("t6")).as("kept within the retention").isNotNull();
    advance(Duration.ofMinutes(2));
    assertThat(store.get("t6")).as("forgotten after it").isNull();

    // An output that comes after all, generated before the gate's memory reaches, is never
    // decided: the gate cannot tell it from one it decided and forgot.
    send(output);
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.INTEGRITY);
    advance(Duration.ofSeconds(90));
    assertThat(pending.isEmpty()).as("nothing waits for a person").isTrue();
  }

  @Test
  void shouldRestateWhatItDecidedOrHoldsWhenACopyComesAndNeverDecideTwice() {
    TestOutputTopic<String, byte[]> restatements = outputTopic(Topics.GATE_RESTATEMENTS.name());
    GenerationOutput releasedOne = output("t-r", "Released, its outcome lost on the way.");
    send(releasedOne);
    send(verdict(releasedOne, Decision.RELEASE));
    ReleaseGateOutcome release = decode(released).get(0);
    GenerationOutput heldOne = output("t-h", "Held, its hold lost on the way.");
    send(heldOne);
    send(verdict(heldOne, Decision.REVIEW));
    ReleaseGateOutcome hold = decode(pending).get(0);
    GenerationOutput waiting = output("t-w", "Still waiting for its verdict.");
    send(waiting);
    advance(Duration.ofSeconds(20));

    // The audit service sends each again, having found no gate outcome for it.
    send(releasedOne);
    send(heldOne);
    send(
        GenerationOutput.newBuilder(output("t-r", "Another output of the released request."))
            .setOutputId("out-t-r-2")
            .build());

    assertThat(released.isEmpty()).as("nothing released twice").isTrue();
    List<GateDecisionRestated> restated = new ArrayList<>();
    while (!restatements.isEmpty()) {
      restated.add(Topics.GATE_RESTATEMENTS.codec().decode(restatements.readValue()));
    }
    assertThat(restated)
        .as("one restatement, of the released output's own copy")
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getRequestId()).isEqualTo("t-r");
              assertThat(r.getOutputId()).isEqualTo(releasedOne.getOutputId());
              assertThat(r.getDecision()).isEqualTo(RestatedDecision.RELEASED);
              assertThat(r.getDecidedAt()).isEqualTo(release.getDecidedAt());
              assertThat(r.getTenantId()).isEqualTo("acme");
              assertThat(r.getOutcomeEventId())
                  .as("names the release, so that it can be taken down")
                  .isEqualTo(release.getEventId());
              assertThat(r.getOutcomeBasis()).isEqualTo(GateBasis.VERDICT);
            });
    assertThat(decode(pending))
        .as("the hold written again as it was: the same event")
        .singleElement()
        .satisfies(
            again -> {
              assertThat(again.getEventId()).isEqualTo(hold.getEventId());
              assertThat(again.getDecidedAt()).isEqualTo(hold.getDecidedAt());
              assertThat(again.getReasons()).isEqualTo(hold.getReasons());
              assertThat(again.getText()).isEqualTo(hold.getText());
            });
    send(waiting);
    assertThat(restatements.isEmpty()).as("nothing decided yet: nothing to restate").isTrue();
    assertThat(pending.isEmpty()).isTrue();
  }

  @Test
  void shouldRestateTheDecisionTimeTheOutcomeItselfCarries() {
    // A clock that moves on after every read: the outcome and the marker are made at different
    // reads, and what is restated must still be the outcome's own time.
    clock.tickOnEveryRead(Duration.ofMillis(3));
    TestOutputTopic<String, byte[]> restatements = outputTopic(Topics.GATE_RESTATEMENTS.name());
    GenerationOutput releasedOne = output("t-tick", "Released while the clock ran.");
    send(releasedOne);
    send(verdict(releasedOne, Decision.RELEASE));
    GenerationOutput heldOne = output("t-tick-h", "Held while the clock ran.");
    send(heldOne);
    send(verdict(heldOne, Decision.REVIEW));
    ReleaseGateOutcome release = decode(released).get(0);
    ReleaseGateOutcome hold = decode(pending).get(0);

    send(releasedOne);
    send(heldOne);

    assertThat(Topics.GATE_RESTATEMENTS.codec().decode(restatements.readValue()).getDecidedAt())
        .isEqualTo(release.getDecidedAt());
    assertThat(decode(pending).get(0).getDecidedAt()).isEqualTo(hold.getDecidedAt());
  }

  @Test
  void shouldWriteEntriesAnOlderGateReadsWhenToldToAndRestateWithoutNamingTheOutcome(
      @TempDir Path otherStateDir) {
    try (TopologyTestDriver formatOne =
        driver(
            ReleaseGateTopology.buildTopology(
                clock, new GateTimings(RETENTION, VERDICT_TIMEOUT), 1),
            otherStateDir)) {
      GenerationOutput output = output("t-f1", "Released by a gate told to write format 1.");
      TestInputTopic<String, byte[]> in =
          formatOne.createInputTopic(
              Topics.GENERATION_OUTPUTS.name(),
              new org.apache.kafka.common.serialization.StringSerializer(),
              new org.apache.kafka.common.serialization.ByteArraySerializer());
      in.pipeInput("t-f1", Topics.GENERATION_OUTPUTS.codec().encode(output));
      formatOne
          .createInputTopic(
              Topics.MODERATION_VERDICTS.name(),
              new org.apache.kafka.common.serialization.StringSerializer(),
              new org.apache.kafka.common.serialization.ByteArraySerializer())
          .pipeInput(
              "t-f1", Topics.MODERATION_VERDICTS.codec().encode(verdict(output, Decision.RELEASE)));
      in.pipeInput("t-f1", Topics.GENERATION_OUTPUTS.codec().encode(output));

      GateDecisionRestated restated =
          Topics.GATE_RESTATEMENTS
              .codec()
              .decode(
                  formatOne
                      .createOutputTopic(
                          Topics.GATE_RESTATEMENTS.name(),
                          new org.apache.kafka.common.serialization.StringDeserializer(),
                          new org.apache.kafka.common.serialization.ByteArrayDeserializer())
                      .readValue());
      assertThat(restated.getDecision()).isEqualTo(RestatedDecision.RELEASED);
      assertThat(restated.getOutcomeEventId()).as("format 1 does not keep it").isNull();
    }
    assertThatThrownBy(
            () ->
                ReleaseGateTopology.buildTopology(
                    clock, new GateTimings(RETENTION, VERDICT_TIMEOUT), 5))
        .hasMessageContaining("gate state format must be 1, 2, 3 or 4, was 5");
  }

  @Test
  void shouldNameTheReviewedReleaseWhenRestatingIt() {
    TestOutputTopic<String, byte[]> restatements = outputTopic(Topics.GATE_RESTATEMENTS.name());
    GenerationOutput output = output("t-rv", "Held, then approved by a person.");
    send(output);
    send(verdict(output, Decision.REVIEW));
    sendReview(review(output, ReviewAction.APPROVE));
    ReleaseGateOutcome release = decode(released).get(0);
    assertThat(release.getBasis()).isEqualTo(GateBasis.REVIEW);

    send(output);

    GateDecisionRestated restated =
        Topics.GATE_RESTATEMENTS.codec().decode(restatements.readValue());
    assertThat(restated.getDecision()).isEqualTo(RestatedDecision.RELEASED);
    assertThat(restated.getOutcomeEventId()).isEqualTo(release.getEventId());
    assertThat(restated.getOutcomeBasis()).isEqualTo(GateBasis.REVIEW);
  }

  @Test
  void shouldRestateADecisionRecordedByAnOlderGateWithoutNamingAnOutcome() {
    // A marker written before the gate kept the outcome's event id (entry format 1).
    TestOutputTopic<String, byte[]> restatements = outputTopic(Topics.GATE_RESTATEMENTS.name());
    GenerationOutput output = output("t-old", "Released by an older gate.");
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    store.put(
        "t-old",
        new GateEntry(
            GateEntry.State.RELEASED, output.getOutputId(), null, null, clock.millis() - 60_000));

    send(output);

    assertThat(released.isEmpty()).isTrue();
    GateDecisionRestated restated =
        Topics.GATE_RESTATEMENTS.codec().decode(restatements.readValue());
    assertThat(restated.getDecision()).isEqualTo(RestatedDecision.RELEASED);
    assertThat(restated.getOutcomeEventId()).isNull();
    assertThat(restated.getOutcomeBasis()).isNull();
  }

  @Test
  void shouldSweepALargeStoreInPiecesAndFinishWhatTheFirstLeft() {
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    // More expired markers than one piece forgets, and an output whose verdict never comes.
    int expired = ReleaseGateProcessor.MAX_FORGETS_PER_PIECE * 2 + 1_000;
    long old = Events.NOW.minus(RETENTION).minusSeconds(60).toEpochMilli();
    for (int i = 0; i < expired; i++) {
      store.put(
          String.format("m-%06d", i),
          GateEntry.empty()
              .decided(GateEntry.State.RELEASED, "o-" + i, old, "evt-" + i, "VERDICT"));
    }
    GenerationOutput waiting = output("z-waiting", "Its verdict never comes.");
    send(waiting);

    advance(VERDICT_TIMEOUT.plusSeconds(1));

    assertThat(count(store))
        .as("the first piece forgot as many as a piece may")
        .isEqualTo(expired - ReleaseGateProcessor.MAX_FORGETS_PER_PIECE + 1);
    assertThat(pending.isEmpty()).as("the overdue output is further on").isTrue();
    // The next pieces follow a second apart, each where the last stopped.
    advance(ReleaseGateProcessor.SWEEP_RESUME);
    advance(ReleaseGateProcessor.SWEEP_RESUME);
    assertThat(count(store)).as("only the held output is left").isEqualTo(1);
    assertThat(decode(pending))
        .singleElement()
        .extracting(ReleaseGateOutcome::getRequestId)
        .isEqualTo("z-waiting");
    advance(ReleaseGateProcessor.SWEEP_RESUME);
    assertThat(pending.isEmpty()).as("the sweep is over: held once").isTrue();
  }

  private static long count(KeyValueStore<String, GateEntry> store) {
    long entries = 0;
    try (var all = store.all()) {
      while (all.hasNext()) {
        all.next();
        entries++;
      }
    }
    return entries;
  }

  @Test
  void shouldNeverDecideAgainACopyOfAnOutputOlderThanItsMemory() {
    GenerationOutput output = output("t-forgot", "Released a day ago.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    advance(RETENTION.plusMinutes(1));
    assertThat(store.get("t-forgot")).as("the decision forgotten").isNull();

    // A copy (sent again, or read again after lost offsets) with its verdict again: quarantined,
    // not released a second time, and nothing of it waits.
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(released.isEmpty()).as("nothing released twice").isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.INTEGRITY);
              assertThat(outcome.getVerdictId()).as("decided on no verdict").isEmpty();
              assertThat(outcome.getReasons()).hasSize(2);
              assertThat(outcome.getReasons().get(0))
                  .startsWith("integrity: generated at " + Events.NOW + ", more than 1430 minutes")
                  .endsWith(
                      "may have decided this request and forgotten it, so it does not"
                          + " decide it again");
              // Nor does it know whether the request was erased since: no content goes out.
              assertThat(outcome.getText()).isEmpty();
              assertThat(outcome.getAttributes()).isEmpty();
              assertThat(outcome.getReasons().get(1))
                  .isEqualTo(ReleaseGateProcessor.OUTSIDE_MEMORY_WITHOUT_TEXT);
            });
    assertThat(store.get("t-forgot").state()).isEqualTo(GateEntry.State.QUARANTINED);
    send(output);
    assertThat(quarantined.isEmpty()).as("the copy after it is ignored").isTrue();
  }

  @Test
  void shouldNeverDecideAnOutputGeneratedAheadOfItsClockBeyondTheSkewAllowed() {
    // Decided now and forgotten after the retention, a copy of an output dated a year ahead would
    // still look new: it is quarantined instead. Ten minutes ahead are allowed for clock skew.
    GenerationOutput ahead =
        GenerationOutput.newBuilder(output("t-ahead", "From a generator with a wrong clock."))
            .setGeneratedAt(Events.NOW.plus(Duration.ofDays(365)))
            .build();
    GenerationOutput skewed =
        GenerationOutput.newBuilder(output("t-skewed", "Five minutes ahead."))
            .setGeneratedAt(Events.NOW.plus(Duration.ofMinutes(5)))
            .build();
    send(ahead);
    send(verdict(ahead, Decision.RELEASE));
    send(skewed);
    send(verdict(skewed, Decision.RELEASE));

    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getRequestId)
        .isEqualTo("t-skewed");
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getRequestId()).isEqualTo("t-ahead");
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.INTEGRITY);
              assertThat(outcome.getReasons().get(0))
                  .contains("more than 10 minutes ahead of the gate's clock");
            });
  }

  @Test
  void shouldDecideAnOutputJustWithinItsMemory() {
    // Generated the horizon less a minute ago: the gate would still hold any decision on it.
    advance(RETENTION.minus(GateTimings.CLOCK_SKEW_ALLOWANCE).minusMinutes(1));
    GenerationOutput late = output("t-late", "Late, but not forgotten.");
    send(late);
    send(verdict(late, Decision.RELEASE));
    assertThat(decode(released))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.VERDICT);
    assertThat(quarantined.isEmpty()).isTrue();
  }

  @Test
  void shouldStartTheClockOfWaitingEntriesWrittenWithoutOne() {
    // Entries written before the gate kept a time for waiting ones have 0 there.
    GenerationOutput output = output("t7", "From an older gate.");
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    store.put(
        "t7",
        new GateEntry(
            GateEntry.State.WAITING,
            output.getOutputId(),
            Topics.GENERATION_OUTPUTS.codec().encode(output),
            null,
            0L));
    advance(Duration.ofSeconds(31));
    assertThat(pending.isEmpty()).as("the clock starts at the first sweep, not at 1970").isTrue();
    advance(Duration.ofSeconds(90));
    assertThat(decode(pending)).hasSize(1);
  }

  @Test
  void shouldShortenReasonsThatWouldPushAnOutcomeOverTheEventLimit() {
    // Each fits on its own: a 700 kB output, a verdict with 400 kB of reasons.
    GenerationOutput output = output("t8", "x".repeat(700_000));
    send(output);
    ModerationVerdict verdict = verdict(output, Decision.RELEASE);
    send(
        ModerationVerdict.newBuilder(verdict)
            .setReasons(
                List.of(
                    Reason.newBuilder(verdict.getReasons().get(0))
                        .setMessage("y".repeat(400_000))
                        .build()))
            .build());
    assertThat(decode(released))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getText()).hasSize(700_000);
              assertThat(outcome.getReasons())
                  .containsExactly(
                      "1 reasons left out to keep the outcome within the event limit; verdict"
                          + " 'verdict-out-t8' and the review have them");
            });
  }

  @Test
  void shouldNeverReleaseATextWithoutItsTextWhenOnlyTheTextFits() {
    // An output just under the limit whose outcome, with the gate's fields, is just over it.
    GenerationOutput small = output("t9", "");
    int room =
        EventCodec.MAX_EVENT_BYTES - Topics.GENERATION_OUTPUTS.codec().encode(small).length - 8;
    GenerationOutput output = output("t9", "z".repeat(room));
    assertThat(Topics.GENERATION_OUTPUTS.codec().encode(output).length)
        .isLessThanOrEqualTo(EventCodec.MAX_EVENT_BYTES);
    ReleaseGateOutcome intended =
        ReleaseGateOutcome.newBuilder()
            .setEventId("e")
            .setRequestId("t9")
            .setOutputId(output.getOutputId())
            .setTenantId(output.getTenantId())
            .setOutcome(GateOutcome.RELEASED)
            .setBasis(GateBasis.VERDICT)
            .setVerdictId("verdict-" + "v".repeat(200))
            .setDecision(Decision.RELEASE)
            .setText(output.getText())
            .setOutputSha256(ContentHash.sha256Hex(output.getText()))
            .setPolicyVersion("1")
            .setReasons(List.of("fine"))
            .setAttributes(Map.of("channel", "web"))
            .setDecidedAt(Events.NOW)
            .build();

    var fitted = ReleaseGateProcessor.fitted(intended);

    assertThat(fitted.bytes().length).isLessThanOrEqualTo(EventCodec.MAX_EVENT_BYTES);
    assertThat(fitted.outcome().getOutcome()).isEqualTo(GateOutcome.QUARANTINED);
    assertThat(fitted.outcome().getText()).isEmpty();
    assertThat(fitted.outcome().getAttributes()).containsOnlyKeys(CarriedAttributes.OMITTED);
    assertThat(fitted.outcome().getReasons())
        .last()
        .asString()
        .startsWith("not released: the text was left out");
    assertThat(fitted.outcome().getEventId()).isNotEqualTo("e");
  }

  /** The quarantine reason says what removed the content, as the notice's cause tells it. */
  @Test
  void shouldSayWhetherRetentionOrAPersonRemovedAHeldOutputsContent() {
    Map<ErasureCause, String> expected = new LinkedHashMap<>();
    expected.put(ErasureCause.RETENTION, "past retention: the tenant's retention period removed");
    expected.put(ErasureCause.ERASURE, "erased: the audit service erased this request's content");
    expected.put(null, "erased or past retention:");
    int n = 0;
    for (Map.Entry<ErasureCause, String> cause : expected.entrySet()) {
      String requestId = "cause-" + n++;
      GenerationOutput output = output(requestId, "Text held for review.");
      send(output);
      send(verdict(output, Decision.REVIEW));

      sendErasure(requestId, cause.getKey());

      assertThat(decode(quarantined))
          .filteredOn(outcome -> outcome.getRequestId().equals(requestId))
          .singleElement()
          .satisfies(
              outcome ->
                  assertThat(outcome.getReasons())
                      .singleElement()
                      .asString()
                      .as("cause %s", cause.getKey())
                      .startsWith(cause.getValue()));
    }
  }

  @Test
  void shouldQuarantineAHeldOutputWithoutItsTextOnceItsRequestIsErased() {
    GenerationOutput output =
        GenerationOutput.newBuilder(output("e1", "My card number is 4111 1111 1111 1111."))
            .setAttributes(Map.of("userId", "u-123"))
            .build();
    send(output);
    send(verdict(output, Decision.REVIEW));
    assertThat(decode(pending)).hasSize(1);

    sendErasure("e1");

    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getOutcome()).isEqualTo(GateOutcome.QUARANTINED);
              assertThat(outcome.getText()).isEmpty();
              assertThat(outcome.getOutputSha256())
                  .as("no hash by which a guessed text could be confirmed")
                  .isEmpty();
              assertThat(outcome.getAttributes()).isEmpty();
              assertThat(outcome.getOutputId()).isEqualTo(output.getOutputId());
              assertThat(outcome.getReasons())
                  .singleElement()
                  .asString()
                  .startsWith("erased: the audit service erased this request's content");
            });
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    assertThat(store.get("e1").state()).isEqualTo(GateEntry.State.ERASED);
    assertThat(store.get("e1").output()).as("the text leaves the store").isNull();
    assertThat(store.get("e1").verdict()).isNull();

    // A review sent before the erasure reached the audit service's outbox decides nothing now.
    sendReview(review(output, ReviewAction.APPROVE));
    assertThat(released.isEmpty()).isTrue();
    assertThat(quarantined.isEmpty()).isTrue();
  }

  @Test
  void shouldNeverReleaseAnOutputThatArrivesAfterItsRequestWasErased() {
    sendErasure("e2");
    GenerationOutput output = output("e2", "A calm sentence, generated after the erasure.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    send(output);

    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .satisfies(
            outcome -> {
              assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
              assertThat(outcome.getText()).isEmpty();
              assertThat(outcome.getOutputSha256()).isEmpty();
              assertThat(outcome.getVerdictId()).as("no verdict was kept").isEmpty();
            });
    assertThat(pending.isEmpty()).isTrue();
  }

  @Test
  void shouldQuarantineAnOutputWaitingForItsVerdictWhenErasedAndIgnoreTheVerdict() {
    GenerationOutput output = output("e3", "Waiting for moderation.");
    send(output);
    sendErasure("e3");
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.ERASURE);

    send(verdict(output, Decision.RELEASE));
    advance(VERDICT_TIMEOUT.multipliedBy(3));
    assertThat(released.isEmpty()).isTrue();
    assertThat(pending.isEmpty()).as("not held for its timeout either").isTrue();
    assertThat(quarantined.isEmpty()).isTrue();
  }

  @Test
  void shouldDropAVerdictThatCameBeforeTheErasureAndQuarantineTheOutputAfterIt() {
    GenerationOutput output = output("e4", "The verdict came first.");
    send(verdict(output, Decision.RELEASE));
    sendErasure("e4");
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    assertThat(store.get("e4").verdict()).isNull();

    send(output);
    assertThat(released.isEmpty()).isTrue();
    assertThat(decode(quarantined))
        .singleElement()
        .extracting(ReleaseGateOutcome::getBasis)
        .isEqualTo(GateBasis.ERASURE);
  }

  @Test
  void shouldLeaveADecidedRequestAsItIsWhenErasedAndDeadLetterUndecodableNotices() {
    GenerationOutput output = output("e5", "Already out.");
    send(output);
    send(verdict(output, Decision.RELEASE));
    assertThat(decode(released)).hasSize(1);

    sendErasure("e5");
    erasures.pipeInput("e6", "not an erasure".getBytes(StandardCharsets.UTF_8));

    assertThat(released.isEmpty()).isTrue();
    assertThat(quarantined.isEmpty()).as("the gate cannot recall a release").isTrue();
    KeyValueStore<String, GateEntry> store =
        driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
    assertThat(store.get("e5").state()).isEqualTo(GateEntry.State.RELEASED);
    DeadLetter deadLetter =
        Topics.AUDIT_ERASURES_DLQ
            .codec()
            .decode(outputTopic(Topics.AUDIT_ERASURES_DLQ.name()).readValue());
    assertThat(deadLetter.getSourceTopic()).isEqualTo(Topics.AUDIT_ERASURES.name());
    assertThat(store.get("e6")).isNull();
  }

  private void sendErasure(String requestId) {
    sendErasure(requestId, ErasureCause.ERASURE);
  }

  private void sendErasure(String requestId, ErasureCause cause) {
    ErasureNotice notice =
        ErasureNotice.newBuilder()
            .setEventId("erasure-" + requestId)
            .setRequestId(requestId)
            .setTenantId("acme")
            .setErasureSeq(42L)
            .setErasedAt(clock.instant())
            .setCause(cause)
            .build();
    erasures.pipeInput(requestId, Topics.AUDIT_ERASURES.codec().encode(notice));
  }

  private void advance(Duration duration) {
    clock.advance(duration);
    driver.advanceWallClockTime(duration);
  }

  private void assertChangelogRecordsFit() {
    TestOutputTopic<byte[], byte[]> changelog =
        driver.createOutputTopic(
            ReleaseGateTopology.APPLICATION_ID
                + "-"
                + ReleaseGateTopology.STATE_STORE
                + "-changelog",
            Serdes.ByteArray().deserializer(),
            Serdes.ByteArray().deserializer());
    for (var record : changelog.readRecordsToList()) {
      int size =
          (record.key() == null ? 0 : record.key().length)
              + (record.value() == null ? 0 : record.value().length);
      assertThat(size).as("changelog record size").isLessThanOrEqualTo(MAX_RECORD_BYTES);
    }
  }

  private void sendRequest(String requestId, String tenant) {
    requests.pipeInput(
        requestId, Topics.GENERATION_REQUESTS.codec().encode(request(requestId, tenant)));
  }

  private GenerationRequest request(String requestId, String tenant) {
    return Events.request(
        "request-" + requestId + "-" + tenant, requestId, tenant, clock.instant());
  }

  private void send(GenerationOutput output) {
    outputs.pipeInput(output.getRequestId(), Topics.GENERATION_OUTPUTS.codec().encode(output));
  }

  private void send(io.genguard.events.v1.ModerationVerdict verdict) {
    verdicts.pipeInput(verdict.getRequestId(), Topics.MODERATION_VERDICTS.codec().encode(verdict));
  }

  private void sendReview(io.genguard.events.v1.ReviewDecision review) {
    reviews.pipeInput(review.getRequestId(), Topics.REVIEW_DECISIONS.codec().encode(review));
  }

  private TestInputTopic<String, byte[]> input(String topic) {
    return driver.createInputTopic(
        topic, Serdes.String().serializer(), Serdes.ByteArray().serializer());
  }

  private TestOutputTopic<String, byte[]> outputTopic(String topic) {
    return driver.createOutputTopic(
        topic, Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
  }

  private static List<ReleaseGateOutcome> decode(TestOutputTopic<String, byte[]> topic) {
    return topic.readValuesToList().stream().map(Topics.CONTENT_RELEASED.codec()::decode).toList();
  }
}
