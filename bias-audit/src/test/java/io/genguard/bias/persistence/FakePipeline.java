package io.genguard.bias.persistence;

import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.bias.submit.CampaignSubmitter;
import io.genguard.bias.submit.SubmissionException;
import io.genguard.bias.submit.SubmissionRequest;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Stands in for the running pipeline: every accepted request is written to the audit store the way
 * the audit service records it (request, echoed output, verdict), through the audit service's own
 * writer. A verdict is unsafe when the text contains "bastards". It can be told to fail, or to
 * accept a request and lose the answer (a crash between the API's 202 and the campaign's record).
 * Like the API, it answers a request whose idempotency key it took before with that request.
 */
final class FakePipeline implements CampaignSubmitter {
  private static final ModelRef ECHO = new ModelRef("echo", "1", "echo");
  private static final AtomicLong OFFSETS = new AtomicLong();

  private final AuditWriter writer;
  final AtomicInteger accepted = new AtomicInteger();

  /** Refuse (UNAVAILABLE) once this many requests were accepted; -1 never. */
  volatile int failAfter = -1;

  /** Refuse this many requests as over the tenant's rate (THROTTLED, 10 ms) before accepting. */
  volatile int throttleNext;

  final AtomicInteger throttled = new AtomicInteger();

  /** Judge the next request as moderation does when its scorer fails: REVIEW, without scores. */
  volatile boolean scorerFailsNext;

  /** Accept the next request but throw as if the answer was lost. */
  volatile boolean loseNextAnswer;

  /**
   * Accept the next request but answer as a client that timed out sees it (UNAVAILABLE, which the
   * campaign retries).
   */
  volatile boolean timeOutNext;

  /** The request each idempotency key stands for, as the API keeps it. */
  final Map<String, String> requestsByKey = new java.util.concurrent.ConcurrentHashMap<>();

  FakePipeline(DataSource dataSource) {
    this.writer = new AuditWriter(dataSource, java.time.Clock.systemUTC());
  }

  /** Records a bias.metrics event as the audit service records the aggregation job's. */
  void recordMetric(BiasMetric metric) throws SQLException {
    writer.write(
        List.of(
            new IncomingEvent(Topics.BIAS_METRICS.name(), 0, OFFSETS.incrementAndGet(), metric)));
  }

  @Override
  public void checkReachable() {}

  @Override
  public String submit(SubmissionRequest request) {
    if (throttleNext > 0) {
      throttleNext--;
      throttled.incrementAndGet();
      throw new SubmissionException(
          SubmissionException.Kind.THROTTLED,
          "over the tenant's rate (test)",
          null,
          java.time.Duration.ofMillis(10));
    }
    if (failAfter >= 0 && accepted.get() >= failAfter) {
      throw new SubmissionException(
          SubmissionException.Kind.REJECTED, "stack stopped (test)", null);
    }
    if (request.idempotencyKey() != null && requestsByKey.containsKey(request.idempotencyKey())) {
      return requestsByKey.get(request.idempotencyKey());
    }
    String requestId = EventIds.random();
    Instant now = Instant.now();
    boolean unsafe = request.prompt().contains("bastards");
    boolean unscored = scorerFailsNext;
    scorerFailsNext = false;
    GenerationRequest generation =
        GenerationRequest.newBuilder()
            .setEventId(EventIds.random())
            .setRequestId(requestId)
            .setTenantId(request.tenantId())
            .setPrompt(request.prompt())
            .setBackend(request.backend())
            .setModel(request.model())
            .setParameters(
                new SamplingParameters(
                    request.sampling().maxTokens(),
                    request.sampling().temperature(),
                    request.sampling().topK(),
                    request.sampling().topP(),
                    request.seed()))
            .setAttributes(request.attributes())
            .setSubmittedAt(now)
            .build();
    String outputId = EventIds.nameBased("output", requestId);
    GenerationOutput output =
        GenerationOutput.newBuilder()
            .setEventId(EventIds.random())
            .setOutputId(outputId)
            .setRequestId(requestId)
            .setTenantId(request.tenantId())
            .setText(request.prompt())
            .setModel(ECHO)
            .setParameters(generation.getParameters())
            .setCost(new GenerationCost(3, 3, 0L, "cpu", 0.0))
            .setAttributes(request.attributes())
            .setGeneratedAt(now)
            .build();
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder()
            .setEventId(EventIds.random())
            .setVerdictId(EventIds.nameBased("verdict", outputId))
            .setOutputId(outputId)
            .setRequestId(requestId)
            .setTenantId(request.tenantId())
            .setOutputSha256("00".repeat(32))
            .setDecision(unscored ? Decision.REVIEW : unsafe ? Decision.BLOCK : Decision.RELEASE)
            .setReasons(
                unscored
                    ? List.of(
                        Reason.newBuilder()
                            .setCode("scorer.error")
                            .setDecision(Decision.REVIEW)
                            .setMessage("the scorer failed (test)")
                            .build())
                    : List.of())
            .setUnsafeScore(unsafe && !unscored ? 1.0 : 0.0)
            .setCategoryScores(unscored ? Map.of() : Map.of("harassment", unsafe ? 1.0 : 0.0))
            .setGroups(List.of())
            .setPolicyId("test")
            .setPolicyVersion("1")
            .setScorerVersions(Map.of("keyword-baseline", "test"))
            .setModel(ECHO)
            .setAttributes(request.attributes())
            .setDecidedAt(now)
            .build();
    try {
      writer.write(
          List.of(
              new IncomingEvent(
                  Topics.GENERATION_REQUESTS.name(), 0, OFFSETS.incrementAndGet(), generation),
              new IncomingEvent(
                  Topics.GENERATION_OUTPUTS.name(), 0, OFFSETS.incrementAndGet(), output),
              new IncomingEvent(
                  Topics.MODERATION_VERDICTS.name(), 0, OFFSETS.incrementAndGet(), verdict)));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    accepted.incrementAndGet();
    if (request.idempotencyKey() != null) {
      requestsByKey.put(request.idempotencyKey(), requestId);
    }
    if (timeOutNext) {
      timeOutNext = false;
      throw new SubmissionException(
          SubmissionException.Kind.UNAVAILABLE, "no answer within 45 s (test)", null);
    }
    if (loseNextAnswer) {
      loseNextAnswer = false;
      throw new SubmissionException(SubmissionException.Kind.REJECTED, "answer lost (test)", null);
    }
    return requestId;
  }
}
