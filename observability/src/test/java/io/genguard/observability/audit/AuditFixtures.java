package io.genguard.observability.audit;

import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.Topics;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Audit events as the pipeline writes them, for one request id each. */
final class AuditFixtures {
  static final String POLICY_VERSION = "2026-11-01";

  /** The policy file every fixture verdict names: the built-in policy's digest. */
  static final String POLICY_SHA256 =
      io.genguard.moderation.policy.PolicyLoader.loadDefault().sha256();

  private static final AtomicLong OFFSETS = new AtomicLong();

  private AuditFixtures() {}

  static IncomingEvent request(String request, Instant submittedAt) {
    GenerationRequest event =
        GenerationRequest.newBuilder()
            .setEventId("request-event-" + request)
            .setRequestId(request)
            .setTenantId("acme")
            .setPrompt("prompt of " + request)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(20)
                    .setTemperature(1)
                    .setTopK(0)
                    .setTopP(1)
                    .build())
            .setSubmittedAt(submittedAt)
            .build();
    return event(Topics.GENERATION_REQUESTS.name(), event);
  }

  static IncomingEvent failure(String request, Instant failedAt) {
    GenerationFailure event =
        GenerationFailure.newBuilder()
            .setEventId("failure-event-" + request)
            .setRequestId(request)
            .setTenantId("acme")
            .setCode("invalid_request")
            .setReason("max tokens over the limit")
            .setBackend("builtin")
            .setAttempts(1)
            .setFailedAt(failedAt)
            .build();
    return event(Topics.GENERATION_FAILURES.name(), event);
  }

  static IncomingEvent output(String request, Instant generatedAt, String device, int tokens) {
    GenerationOutput output =
        GenerationOutput.newBuilder()
            .setEventId("output-event-" + request)
            .setOutputId("output-" + request)
            .setRequestId(request)
            .setTenantId("acme")
            .setText("text of " + request)
            .setModel(
                ModelRef.newBuilder()
                    .setName("europarl-kn3")
                    .setVersion("1")
                    .setBackend("builtin")
                    .build())
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(tokens)
                    .setTemperature(1)
                    .setTopK(0)
                    .setTopP(1)
                    .build())
            .setCost(
                GenerationCost.newBuilder()
                    .setPromptTokens(3)
                    .setOutputTokens(tokens)
                    .setComputeMillis(12)
                    .setDevice(device)
                    .setEnergyJoules(0.5)
                    .build())
            .setGeneratedAt(generatedAt)
            .build();
    return event(Topics.GENERATION_OUTPUTS.name(), output);
  }

  static IncomingEvent verdict(
      String request, Decision decision, Instant decidedAt, Reason... reasons) {
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder()
            .setEventId("verdict-event-" + request)
            .setVerdictId("verdict-" + request)
            .setOutputId("output-" + request)
            .setRequestId(request)
            .setTenantId("acme")
            .setOutputSha256("00")
            .setDecision(decision)
            .setReasons(List.of(reasons))
            .setUnsafeScore(0.5)
            .setCategoryScores(Map.of("violence", 0.5))
            .setPolicyId("default")
            .setPolicyVersion(POLICY_VERSION)
            .setPolicySha256(POLICY_SHA256)
            .setScorerVersions(Map.of("toxicity", "1"))
            .setDecidedAt(decidedAt)
            .build();
    return event(Topics.MODERATION_VERDICTS.name(), verdict);
  }

  static Reason reason(String code, Decision decision, String category) {
    return Reason.newBuilder()
        .setCode(code)
        .setDecision(decision)
        .setCategory(category)
        .setScore(category == null ? null : 0.9)
        .setThreshold(category == null ? null : 0.8)
        .setMessage(code + " because of " + category)
        .build();
  }

  static IncomingEvent gate(
      String request, GateOutcome outcome, GateBasis basis, Decision decision, Instant decidedAt) {
    ReleaseGateOutcome gate =
        ReleaseGateOutcome.newBuilder()
            .setEventId("gate-event-" + outcome + "-" + request)
            .setRequestId(request)
            .setOutputId("output-" + request)
            .setTenantId("acme")
            .setOutcome(outcome)
            .setBasis(basis)
            .setVerdictId("verdict-" + request)
            .setDecision(decision)
            .setReviewId(basis == GateBasis.REVIEW ? "review-" + request : null)
            .setText("text of " + request)
            .setOutputSha256("00")
            .setPolicyVersion(POLICY_VERSION)
            .setDecidedAt(decidedAt)
            .build();
    String topic =
        switch (outcome) {
          case RELEASED -> Topics.CONTENT_RELEASED.name();
          case QUARANTINED -> Topics.CONTENT_QUARANTINED.name();
          case HELD_FOR_REVIEW -> Topics.REVIEW_PENDING.name();
        };
    return event(topic, gate);
  }

  /**
   * A hold of the request as the gate writes it: with no verdict (basis VERDICT_TIMEOUT, empty
   * verdict id) or on the request's verdict; {@code eventId} tells a request's holds apart.
   */
  static IncomingEvent hold(String request, String eventId, GateBasis basis, Instant decidedAt) {
    boolean timeout = basis == GateBasis.VERDICT_TIMEOUT;
    ReleaseGateOutcome gate =
        ReleaseGateOutcome.newBuilder()
            .setEventId(eventId)
            .setRequestId(request)
            .setOutputId("output-" + request)
            .setTenantId("acme")
            .setOutcome(GateOutcome.HELD_FOR_REVIEW)
            .setBasis(basis)
            .setVerdictId(timeout ? "" : "verdict-" + request)
            .setDecision(Decision.REVIEW)
            .setText("text of " + request)
            .setOutputSha256("00")
            .setPolicyVersion(POLICY_VERSION)
            .setDecidedAt(decidedAt)
            .build();
    return event(Topics.REVIEW_PENDING.name(), gate);
  }

  /** The gate's restatement of a final decision of the request whose outcome was lost. */
  static IncomingEvent restatement(String request, RestatedDecision decision, Instant decidedAt) {
    GateDecisionRestated restated =
        GateDecisionRestated.newBuilder()
            .setEventId("restated-" + request)
            .setRequestId(request)
            .setTenantId("acme")
            .setOutputId("output-" + request)
            .setDecision(decision)
            .setDecidedAt(decidedAt)
            .setRestatedAt(decidedAt.plusSeconds(1))
            .setOutcomeEventId("gate-event-lost-" + request)
            .setOutcomeBasis(GateBasis.VERDICT)
            .build();
    return event(Topics.GATE_RESTATEMENTS.name(), restated);
  }

  static IncomingEvent review(String request, ReviewAction action, Instant decidedAt) {
    ReviewDecision review =
        ReviewDecision.newBuilder()
            .setEventId("review-event-" + request)
            .setReviewId("review-" + request)
            .setRequestId(request)
            .setOutputId("output-" + request)
            .setTenantId("acme")
            .setAction(action)
            .setReviewer("alice")
            .setNote("checked")
            .setDecidedAt(decidedAt)
            .build();
    return event(Topics.REVIEW_DECISIONS.name(), review);
  }

  static IncomingEvent deadLetter(String id, String sourceTopic, String stage, Instant failedAt) {
    DeadLetter deadLetter =
        DeadLetter.newBuilder()
            .setEventId("dead-letter-" + id)
            .setSourceTopic(sourceTopic)
            .setSourcePartition(0)
            .setSourceOffset(7)
            .setStage(stage)
            .setReason("not a GenerationOutput")
            .setErrorClass("EventDecodingException")
            .setFailedAt(failedAt)
            .build();
    return event(sourceTopic + ".dlq", deadLetter);
  }

  static IncomingEvent bias(
      String id,
      String model,
      String group,
      Instant windowEnd,
      long count,
      long unsafe,
      long blocked,
      long reviewed) {
    BiasMetric metric =
        BiasMetric.newBuilder()
            .setEventId("bias-" + id)
            .setScope(BiasScope.LIVE)
            .setModel(model)
            .setGroup(group)
            .setWindowStart(windowEnd.minusSeconds(60))
            .setWindowEnd(windowEnd)
            .setCount(count)
            .setUnsafeCount(unsafe)
            .setUnsafeScoreSum(unsafe * 0.9)
            .setBlockCount(blocked)
            .setReviewCount(reviewed)
            .setReleaseCount(count - blocked - reviewed)
            .setComputedAt(windowEnd)
            .build();
    return event(Topics.BIAS_METRICS.name(), metric);
  }

  /** The live bias row {@code bias} with its window starting at {@code windowStart} instead. */
  static IncomingEvent windowStarting(Instant windowStart, IncomingEvent bias) {
    BiasMetric metric =
        BiasMetric.newBuilder((BiasMetric) bias.event()).setWindowStart(windowStart).build();
    return event(Topics.BIAS_METRICS.name(), metric);
  }

  static IncomingEvent biasAlert(String id, String model, Instant windowEnd) {
    io.genguard.events.v1.BiasAlert alert =
        io.genguard.events.v1.BiasAlert.newBuilder()
            .setEventId("bias-alert-" + id)
            .setModel(model)
            .setWindowStart(windowEnd.minusSeconds(300))
            .setWindowEnd(windowEnd)
            .setGroupsCompared(2)
            .setTests(2)
            .setCorrection("holm")
            .setAlpha(0.05)
            .setFindingsJson("[]")
            .setDetectedAt(windowEnd)
            .build();
    return event(Topics.BIAS_ALERTS.name(), alert);
  }

  private static IncomingEvent event(String topic, org.apache.avro.specific.SpecificRecord record) {
    return new IncomingEvent(topic, 0, OFFSETS.incrementAndGet(), record);
  }
}
