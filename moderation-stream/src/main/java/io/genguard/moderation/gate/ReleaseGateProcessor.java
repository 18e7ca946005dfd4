package io.genguard.moderation.gate;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers each request's output and verdict in a state store until both are there, then releases,
 * quarantines or holds the output for review; a person's review decision later releases or
 * quarantines a held output.
 *
 * <p>Invariants (fail closed):
 *
 * <ul>
 *   <li>Text reaches content.released only with a RELEASE verdict whose outputSha256 equals the
 *       SHA-256 of that text, or with an APPROVE review of an output held for review.
 *   <li>A request is released or quarantined at most once: after the final decision only a small
 *       marker stays in the store, and anything arriving later for that request is ignored.
 *   <li>Bytes that are not the expected event go to the input topic's dead-letter topic, with the
 *       source offset.
 * </ul>
 */
final class ReleaseGateProcessor implements Processor<byte[], byte[], String, byte[]> {
  private static final Logger LOG = LoggerFactory.getLogger(ReleaseGateProcessor.class);
  private static final EventCodec<DeadLetter> DEAD_LETTERS = EventCodec.of(DeadLetter.class);

  /**
   * Longest request or output id, in UTF-8 bytes, the gate accepts. Ids are store keys and are
   * repeated in every entry and outcome; with longer ones a single decodable event could make a
   * changelog or outcome record larger than Kafka accepts, failing the transaction on every retry.
   */
  static final int MAX_ID_BYTES = DeadLetters.MAX_KEY_BYTES;

  private final Clock clock;
  private final Duration retention;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, GateEntry> store;

  ReleaseGateProcessor(Clock clock, Duration retention) {
    this.clock = clock;
    this.retention = retention;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.store = context.getStateStore(ReleaseGateTopology.STATE_STORE);
    context.schedule(
        Duration.ofMinutes(10), PunctuationType.WALL_CLOCK_TIME, this::forgetOldDecisions);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata source =
        context.recordMetadata().orElseThrow(() -> new IllegalStateException("No record metadata"));
    String topic = source.topic();
    try {
      if (topic.equals(Topics.GENERATION_OUTPUTS.name())) {
        GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(record.value());
        requireBoundedIds(output.getRequestId(), output.getOutputId());
        onOutput(output, record.value());
      } else if (topic.equals(Topics.MODERATION_VERDICTS.name())) {
        ModerationVerdict verdict = Topics.MODERATION_VERDICTS.codec().decode(record.value());
        requireBoundedIds(verdict.getRequestId(), verdict.getOutputId());
        onVerdict(verdict);
      } else if (topic.equals(Topics.REVIEW_DECISIONS.name())) {
        ReviewDecision review = Topics.REVIEW_DECISIONS.codec().decode(record.value());
        requireBoundedIds(review.getRequestId(), review.getOutputId());
        onReview(review, source, record);
      } else {
        throw new IllegalStateException("The gate does not read " + topic);
      }
    } catch (EventDecodingException e) {
      deadLetter(source, record, e);
    }
  }

  private void onOutput(GenerationOutput output, byte[] bytes) {
    String requestId = output.getRequestId();
    GateEntry entry = current(requestId);
    if (entry.output() != null || entry.state() != GateEntry.State.WAITING) {
      return; // duplicate delivery, or already decided
    }
    decideIfComplete(requestId, entry.withOutput(output.getOutputId(), bytes));
  }

  private void onVerdict(ModerationVerdict verdict) {
    String requestId = verdict.getRequestId();
    GateEntry entry = current(requestId);
    if (entry.verdict() != null || entry.state() != GateEntry.State.WAITING) {
      return; // a repeated verdict never decides twice
    }
    decideIfComplete(
        requestId, entry.withVerdict(Topics.MODERATION_VERDICTS.codec().encode(slim(verdict))));
  }

  /**
   * The verdict with only what the gate reads (ids, hash, decision, reasons, policy). The rest, the
   * output's attributes above all, would otherwise sit in the store next to the output itself, and
   * a held entry could then outgrow what the changelog accepts.
   */
  private static ModerationVerdict slim(ModerationVerdict verdict) {
    return ModerationVerdict.newBuilder(verdict)
        .setCategoryScores(Map.of())
        .setGroups(List.of())
        .setProvenance(null)
        .setScorerVersions(Map.of())
        .setModel(null)
        .setAttributes(Map.of())
        .build();
  }

  private static void requireBoundedIds(String requestId, String outputId) {
    requireBoundedId("request id", requestId);
    requireBoundedId("output id", outputId);
  }

  private static void requireBoundedId(String what, String id) {
    int bytes = id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > MAX_ID_BYTES) {
      throw new EventDecodingException(
          "The " + what + " has " + bytes + " bytes; the gate accepts at most " + MAX_ID_BYTES);
    }
  }

  private void decideIfComplete(String requestId, GateEntry entry) {
    if (entry.output() == null || entry.verdict() == null) {
      store.put(requestId, entry);
      return;
    }
    GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
    ModerationVerdict verdict = Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
    String actualHash = ContentHash.sha256Hex(output.getText());
    if (!verdict.getOutputId().equals(output.getOutputId())
        || !verdict.getOutputSha256().equals(actualHash)) {
      emit(
          Topics.CONTENT_QUARANTINED,
          outcome(
              output,
              verdict,
              GateOutcome.QUARANTINED,
              GateBasis.INTEGRITY,
              null,
              List.of(
                  "integrity: the verdict judged output "
                      + verdict.getOutputId()
                      + " with hash "
                      + verdict.getOutputSha256()
                      + ", but output "
                      + output.getOutputId()
                      + " has hash "
                      + actualHash)));
      store.put(requestId, entry.decided(GateEntry.State.QUARANTINED, clock.millis()));
      return;
    }
    List<String> reasons = reasonTexts(verdict);
    switch (verdict.getDecision()) {
      case RELEASE -> {
        emit(
            Topics.CONTENT_RELEASED,
            outcome(output, verdict, GateOutcome.RELEASED, GateBasis.VERDICT, null, reasons));
        store.put(requestId, entry.decided(GateEntry.State.RELEASED, clock.millis()));
      }
      case BLOCK -> {
        emit(
            Topics.CONTENT_QUARANTINED,
            outcome(output, verdict, GateOutcome.QUARANTINED, GateBasis.VERDICT, null, reasons));
        store.put(requestId, entry.decided(GateEntry.State.QUARANTINED, clock.millis()));
      }
      case REVIEW -> {
        emit(
            Topics.REVIEW_PENDING,
            outcome(
                output, verdict, GateOutcome.HELD_FOR_REVIEW, GateBasis.VERDICT, null, reasons));
        store.put(requestId, entry.held());
      }
      default -> throw new IllegalStateException("Unknown decision " + verdict.getDecision());
    }
  }

  private void onReview(
      ReviewDecision review, RecordMetadata source, Record<byte[], byte[]> record) {
    String requestId = review.getRequestId();
    GateEntry entry = store.get(requestId);
    if (entry != null && entry.state().isFinal()) {
      LOG.info(
          "Review {} for request {} ignored: already {}",
          review.getReviewId(),
          requestId,
          entry.state());
      return;
    }
    if (entry == null || entry.state() != GateEntry.State.HELD) {
      deadLetter(
          source,
          record,
          new IllegalStateException(
              "Review "
                  + review.getReviewId()
                  + " is for request "
                  + requestId
                  + ", which is not held for review ("
                  + (entry == null ? "unknown" : entry.state())
                  + ")"));
      return;
    }
    if (!review.getOutputId().equals(entry.outputId())) {
      deadLetter(
          source,
          record,
          new IllegalStateException(
              "Review "
                  + review.getReviewId()
                  + " names output "
                  + review.getOutputId()
                  + " but request "
                  + requestId
                  + " holds output "
                  + entry.outputId()));
      return;
    }
    GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
    ModerationVerdict verdict = Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
    List<String> reasons = new ArrayList<>(reasonTexts(verdict));
    String note = review.getNote().isBlank() ? "" : ": " + review.getNote();
    if (review.getAction() == ReviewAction.APPROVE) {
      reasons.add("approved by " + review.getReviewer() + note);
      emit(
          Topics.CONTENT_RELEASED,
          outcome(
              output,
              verdict,
              GateOutcome.RELEASED,
              GateBasis.REVIEW,
              review.getReviewId(),
              reasons));
      store.put(requestId, entry.decided(GateEntry.State.RELEASED, clock.millis()));
    } else {
      reasons.add("rejected by " + review.getReviewer() + note);
      emit(
          Topics.CONTENT_QUARANTINED,
          outcome(
              output,
              verdict,
              GateOutcome.QUARANTINED,
              GateBasis.REVIEW,
              review.getReviewId(),
              reasons));
      store.put(requestId, entry.decided(GateEntry.State.QUARANTINED, clock.millis()));
    }
  }

  private GateEntry current(String requestId) {
    GateEntry entry = store.get(requestId);
    return entry == null ? GateEntry.empty() : entry;
  }

  private static List<String> reasonTexts(ModerationVerdict verdict) {
    List<String> texts = new ArrayList<>();
    for (Reason reason : verdict.getReasons()) {
      texts.add(reason.getMessage());
    }
    return texts;
  }

  private ReleaseGateOutcome outcome(
      GenerationOutput output,
      ModerationVerdict verdict,
      GateOutcome outcome,
      GateBasis basis,
      String reviewId,
      List<String> reasons) {
    Decision decision = verdict.getDecision();
    return ReleaseGateOutcome.newBuilder()
        .setEventId(
            EventIds.nameBased(
                "gate",
                output.getRequestId(),
                outcome.name(),
                basis.name(),
                reviewId == null ? "" : reviewId))
        .setRequestId(output.getRequestId())
        .setOutputId(output.getOutputId())
        .setTenantId(output.getTenantId())
        .setOutcome(outcome)
        .setBasis(basis)
        .setVerdictId(verdict.getVerdictId())
        .setDecision(decision)
        .setReviewId(reviewId)
        .setText(output.getText())
        .setOutputSha256(verdict.getOutputSha256())
        .setPolicyVersion(verdict.getPolicyVersion())
        .setReasons(reasons)
        .setAttributes(Map.copyOf(output.getAttributes()))
        .setDecidedAt(Instant.ofEpochMilli(clock.millis()))
        .build();
  }

  private void emit(Topic<String, ReleaseGateOutcome> topic, ReleaseGateOutcome outcome) {
    context.forward(
        new Record<>(outcome.getRequestId(), topic.codec().encode(outcome), clock.millis()),
        ReleaseGateTopology.sinkName(topic));
  }

  private void deadLetter(RecordMetadata source, Record<byte[], byte[]> record, Exception error) {
    Topic<String, ?> input =
        Topics.all().stream()
            .filter(topic -> topic.name().equals(source.topic()))
            .findFirst()
            .orElseThrow();
    var deadLetter =
        DeadLetters.of(
            source.topic(),
            source.partition(),
            source.offset(),
            record.key(),
            record.value(),
            "gate",
            error,
            Instant.ofEpochMilli(clock.millis()));
    String deadLetterTopic = input.requireDeadLetterTopic();
    String key =
        record.key() == null
            ? null
            : new String(
                DeadLetters.recordKey(record.key()), java.nio.charset.StandardCharsets.UTF_8);
    context.forward(
        new Record<>(key, DEAD_LETTERS.encode(deadLetter), clock.millis()),
        ReleaseGateTopology.deadLetterSinkName(deadLetterTopic));
  }

  /** Final markers only guard against late duplicates; after the retention they can go. */
  private void forgetOldDecisions(long now) {
    long cutoff = now - retention.toMillis();
    List<String> expired = new ArrayList<>();
    try (KeyValueIterator<String, GateEntry> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, GateEntry> next = all.next();
        if (next.value.state().isFinal() && next.value.decidedAtMillis() < cutoff) {
          expired.add(next.key);
        }
      }
    }
    expired.forEach(store::delete);
  }
}
