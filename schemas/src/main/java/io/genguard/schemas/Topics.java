package io.genguard.schemas;

import io.genguard.events.v1.BiasAlert;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.PolicyFile;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.ReviewDecision;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The one catalogue of GenGuard topics. Every topic is keyed by request id (UTF-8), so all topics
 * about one request land in the same partition number and the release gate can join them locally.
 * No topic name appears as a string anywhere else.
 */
public final class Topics {
  private Topics() {}

  public static final Topic<String, GenerationRequest> GENERATION_REQUESTS =
      input("gen.requests", GenerationRequest.class);
  public static final Topic<String, GenerationOutput> GENERATION_OUTPUTS =
      input("gen.outputs", GenerationOutput.class);
  public static final Topic<String, GenerationFailure> GENERATION_FAILURES =
      output("gen.failures", GenerationFailure.class);
  public static final Topic<String, ModerationVerdict> MODERATION_VERDICTS =
      input("moderation.verdicts", ModerationVerdict.class);
  public static final Topic<String, ReviewDecision> REVIEW_DECISIONS =
      input("review.decisions", ReviewDecision.class);

  /**
   * Requests whose content the audit service erased: the release gate never publishes their outputs
   * and drops the text it holds for them. Written through the audit service's outbox.
   */
  public static final Topic<String, ErasureNotice> AUDIT_ERASURES =
      input("audit.erasures", ErasureNotice.class);

  public static final Topic<String, ReleaseGateOutcome> CONTENT_RELEASED =
      output("content.released", ReleaseGateOutcome.class);

  /**
   * Released outputs that must come down (a takedown, or an erasure after the release): for whoever
   * published them from {@link #CONTENT_RELEASED}. Written through the audit service's outbox.
   */
  public static final Topic<String, ContentRetraction> CONTENT_RETRACTIONS =
      output("content.retractions", ContentRetraction.class);

  /**
   * What the release gate decided, restated from its memory when a copy of a decided output comes
   * (the audit service sending it again): for the audit store, whose record of the outcome was
   * lost. Carries no content.
   */
  public static final Topic<String, GateDecisionRestated> GATE_RESTATEMENTS =
      output("gate.restatements", GateDecisionRestated.class);

  public static final Topic<String, ReleaseGateOutcome> CONTENT_QUARANTINED =
      output("content.quarantined", ReleaseGateOutcome.class);
  public static final Topic<String, ReleaseGateOutcome> REVIEW_PENDING =
      output("review.pending", ReleaseGateOutcome.class);
  public static final Topic<String, BiasMetric> BIAS_METRICS =
      output("bias.metrics", BiasMetric.class);

  /**
   * Live bias alerts, keyed by model rather than request id (they concern a window, not a request).
   */
  public static final Topic<String, BiasAlert> BIAS_ALERTS = output("bias.alerts", BiasAlert.class);

  /**
   * The policy files the moderation job decides under, keyed by their SHA-256: what the audit
   * service archives so that every verdict's {@code policySha256} leads to its rules.
   */
  public static final Topic<String, PolicyFile> MODERATION_POLICIES =
      output("moderation.policies", PolicyFile.class);

  /** Dead letters of every input topic share one schema; each input has its own topic. */
  public static final Topic<String, DeadLetter> GENERATION_REQUESTS_DLQ =
      deadLetters(GENERATION_REQUESTS);

  public static final Topic<String, DeadLetter> GENERATION_OUTPUTS_DLQ =
      deadLetters(GENERATION_OUTPUTS);
  public static final Topic<String, DeadLetter> MODERATION_VERDICTS_DLQ =
      deadLetters(MODERATION_VERDICTS);
  public static final Topic<String, DeadLetter> REVIEW_DECISIONS_DLQ =
      deadLetters(REVIEW_DECISIONS);
  public static final Topic<String, DeadLetter> AUDIT_ERASURES_DLQ = deadLetters(AUDIT_ERASURES);

  /**
   * Default topic of the audit service's anchor witness (GENGUARD_AUDIT_ANCHOR_WITNESS_TOPIC): not
   * an event topic and not in {@link #all()}. Its values are anchor-file lines (UTF-8 JSON), it has
   * one partition and keeps its records forever, and the audit service creates it.
   */
  public static final String AUDIT_ANCHOR_WITNESS = "audit.anchors";

  /** Topics that carry events (everything but dead letters). */
  public static List<Topic<String, ? extends SpecificRecord>> eventTopics() {
    return List.of(
        GENERATION_REQUESTS,
        GENERATION_OUTPUTS,
        GENERATION_FAILURES,
        MODERATION_VERDICTS,
        REVIEW_DECISIONS,
        AUDIT_ERASURES,
        CONTENT_RELEASED,
        CONTENT_RETRACTIONS,
        CONTENT_QUARANTINED,
        REVIEW_PENDING,
        GATE_RESTATEMENTS,
        BIAS_METRICS,
        BIAS_ALERTS,
        MODERATION_POLICIES);
  }

  public static List<Topic<String, DeadLetter>> deadLetterTopics() {
    return List.of(
        GENERATION_REQUESTS_DLQ,
        GENERATION_OUTPUTS_DLQ,
        MODERATION_VERDICTS_DLQ,
        REVIEW_DECISIONS_DLQ,
        AUDIT_ERASURES_DLQ);
  }

  /**
   * Topics whose records carry a request's content or its data subject's attributes: prompts,
   * generated texts, failure reasons, verdicts (with the request's attributes), reviewers' notes,
   * the gate's outcomes, and every dead-letter topic (whose payloads may be any of them). Their
   * retention is {@link ContentRetention}'s; the others (erasure notices, retractions, the gate's
   * restatements, bias metrics and alerts, policy files) keep the broker's.
   */
  public static List<Topic<String, ? extends SpecificRecord>> requestDataTopics() {
    return Stream.<Topic<String, ? extends SpecificRecord>>concat(
            Stream.of(
                GENERATION_REQUESTS,
                GENERATION_OUTPUTS,
                GENERATION_FAILURES,
                MODERATION_VERDICTS,
                REVIEW_DECISIONS,
                CONTENT_RELEASED,
                CONTENT_QUARANTINED,
                REVIEW_PENDING),
            deadLetterTopics().stream())
        .toList();
  }

  /**
   * The topics the release gate reads together and joins per request id within one partition number
   * (ReleaseGateTopology's sources): they must all have the same partition count, or the records
   * about one request land in different partition numbers and the gate never joins them. {@link
   * TopicProvisioner#provisionCatalogue} refuses a partition count that differs from theirs.
   */
  public static List<Topic<String, ? extends SpecificRecord>> coPartitioned() {
    return List.of(
        GENERATION_REQUESTS,
        GENERATION_OUTPUTS,
        MODERATION_VERDICTS,
        REVIEW_DECISIONS,
        AUDIT_ERASURES);
  }

  /** Every topic the system needs, for creating them at start-up. */
  public static List<Topic<String, ? extends SpecificRecord>> all() {
    return Stream.concat(eventTopics().stream(), deadLetterTopics().stream()).toList();
  }

  private static <V extends SpecificRecord> Topic<String, V> input(String name, Class<V> type) {
    return new Topic<>(
        name, Serdes.String(), new EventSerde<>(EventCodec.of(type)), Optional.of(name + ".dlq"));
  }

  private static <V extends SpecificRecord> Topic<String, V> output(String name, Class<V> type) {
    return new Topic<>(
        name, Serdes.String(), new EventSerde<>(EventCodec.of(type)), Optional.empty());
  }

  private static Topic<String, DeadLetter> deadLetters(Topic<String, ?> source) {
    return new Topic<>(
        source.requireDeadLetterTopic(),
        Serdes.String(),
        new EventSerde<>(EventCodec.of(DeadLetter.class)),
        Optional.empty());
  }
}
