package io.genguard.audit.submit;

import io.genguard.audit.query.SearchFilter;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.TenantIds;
import io.genguard.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates generation requests from the API and writes them to gen.requests. A request is accepted
 * only once the broker has acknowledged it (acks=all, idempotent producer).
 *
 * <p>An error that leaves the producer unusable (out-of-order sequence, fencing, authorization,
 * unsupported version) fails the request at hand and replaces the producer, so that the API accepts
 * requests again once the cause is gone instead of failing every one until a restart. The failed
 * request is not retried: the broker may have written it, and the client decides.
 */
public final class RequestSubmitter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RequestSubmitter.class);

  /**
   * How long a submission waits for Kafka's acknowledgement before it is answered as not accepted
   * (the broker may still write it later). A client's own timeout must be longer, or it gives up on
   * requests the API then accepts; with an {@link IdempotencyKeys Idempotency-Key} its retry gets
   * the same request either way.
   */
  public static final Duration ACK_WAIT = Duration.ofSeconds(30);

  private final Supplier<Producer<String, GenerationRequest>> producerFactory;
  private final Clock clock;
  private final SubmissionLimits limits;
  private final TenantRateLimiter rate;
  private volatile Producer<String, GenerationRequest> producer;
  private boolean closed;

  /**
   * @param rate how many requests each tenant may submit ({@link #submit}; {@link #send} is not
   *     limited)
   */
  public RequestSubmitter(
      Map<String, Object> kafkaProperties,
      SubmissionLimits limits,
      TenantRateLimiter rate,
      Clock clock) {
    this(() -> newProducer(kafkaProperties), limits, rate, clock);
  }

  RequestSubmitter(
      Supplier<Producer<String, GenerationRequest>> producerFactory,
      SubmissionLimits limits,
      Clock clock) {
    this(producerFactory, limits, TenantRateLimiter.unlimited(), clock);
  }

  RequestSubmitter(
      Supplier<Producer<String, GenerationRequest>> producerFactory,
      SubmissionLimits limits,
      TenantRateLimiter rate,
      Clock clock) {
    this.producerFactory = producerFactory;
    this.producer = producerFactory.get();
    this.clock = clock;
    this.limits = limits;
    this.rate = rate;
  }

  private static Producer<String, GenerationRequest> newProducer(
      Map<String, Object> kafkaProperties) {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    return new KafkaProducer<>(
        props, new StringSerializer(), Topics.GENERATION_REQUESTS.valueSerde().serializer());
  }

  /** A request as a client describes it; null fields take defaults. */
  public record Submission(
      String prompt,
      String tenantId,
      String backend,
      String model,
      Integer maxTokens,
      Double temperature,
      Integer topK,
      Double topP,
      Long seed,
      Map<String, String> attributes) {}

  /** Limits on what a client may ask for. */
  public record SubmissionLimits(int maxPromptChars, int maxTokens, int defaultMaxTokens) {
    public static SubmissionLimits defaults() {
      return new SubmissionLimits(8_000, 512, 48);
    }
  }

  /** Thrown for a request that is not acceptable; the message says what to change. */
  public static final class InvalidSubmissionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidSubmissionException(String message) {
      super(message);
    }
  }

  public GenerationRequest validate(Submission submission) {
    String prompt = submission.prompt();
    if (prompt == null || prompt.isBlank()) {
      throw new InvalidSubmissionException("prompt is required and must not be blank");
    }
    if (prompt.length() > limits.maxPromptChars()) {
      throw new InvalidSubmissionException(
          "prompt has " + prompt.length() + " characters; the limit is " + limits.maxPromptChars());
    }
    noControlCharacters("prompt", prompt, true);
    String tenant = submission.tenantId() == null ? "default" : submission.tenantId();
    if (!TenantIds.isValid(tenant)) {
      throw new InvalidSubmissionException("tenantId must be " + TenantIds.RULE);
    }
    int maxTokens =
        submission.maxTokens() == null ? limits.defaultMaxTokens() : submission.maxTokens();
    if (maxTokens < 1 || maxTokens > limits.maxTokens()) {
      throw new InvalidSubmissionException(
          "maxTokens must be between 1 and " + limits.maxTokens() + ", was " + maxTokens);
    }
    double temperature = submission.temperature() == null ? 0.8 : submission.temperature();
    if (!(temperature >= 0 && temperature <= 5)) {
      throw new InvalidSubmissionException(
          "temperature must be between 0 and 5, was " + temperature);
    }
    int topK = submission.topK() == null ? 40 : submission.topK();
    if (topK < 0) {
      throw new InvalidSubmissionException("topK must not be negative, was " + topK);
    }
    double topP = submission.topP() == null ? 0.95 : submission.topP();
    if (!(topP > 0 && topP <= 1)) {
      throw new InvalidSubmissionException("topP must be in (0, 1], was " + topP);
    }
    Map<String, String> attributes =
        submission.attributes() == null ? Map.of() : submission.attributes();
    if (attributes.size() > 32) {
      throw new InvalidSubmissionException(
          "at most 32 attributes are allowed, got " + attributes.size());
    }
    for (var entry : attributes.entrySet()) {
      noControlCharacters("attribute key", entry.getKey(), false);
      String shownKey = entry.getKey().substring(0, Math.min(64, entry.getKey().length()));
      // Only keys a search (attribute=key:value, split at the first colon) can name: an access
      // request must find what a data subject's attributes were submitted with.
      if (!entry.getKey().isEmpty()
          && entry.getKey().length() <= 64
          && !SearchFilter.ATTRIBUTE_KEY.matcher(entry.getKey()).matches()) {
        throw new InvalidSubmissionException(
            "attribute key '"
                + shownKey
                + "' is not valid: use letters, digits, '_', '.' or '-', which a search by"
                + " attribute=key:value can name");
      }
      if (entry.getValue() == null) {
        throw new InvalidSubmissionException(
            "attribute '"
                + shownKey
                + "' is null; attribute values are strings (send \"\" for an empty one)");
      }
      noControlCharacters("attribute '" + entry.getKey() + "'", entry.getValue(), false);
      if (entry.getKey().isEmpty()
          || entry.getKey().length() > 64
          || entry.getValue().length() > 256) {
        throw new InvalidSubmissionException(
            "attribute keys are 1-64 characters and values at most 256 (check '" + shownKey + "')");
      }
    }
    if (submission.backend() != null) {
      noControlCharacters("backend", submission.backend(), false);
    }
    if (submission.model() != null) {
      noControlCharacters("model", submission.model(), false);
    }
    return GenerationRequest.newBuilder()
        .setEventId(EventIds.random())
        .setRequestId(EventIds.random())
        .setTenantId(tenant)
        .setPrompt(prompt)
        .setBackend(submission.backend())
        .setModel(submission.model())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(maxTokens)
                .setTemperature(temperature)
                .setTopK(topK)
                .setTopP(topP)
                .setSeed(submission.seed())
                .build())
        .setAttributes(attributes)
        .setSubmittedAt(clock.instant())
        .build();
  }

  /**
   * Refuses control characters (NUL and the other C0 codes, DEL); a prompt may hold tab, line feed
   * and carriage return. A NUL in particular is text PostgreSQL cannot store.
   */
  private static void noControlCharacters(String field, String value, boolean lineBreaks) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean allowed = lineBreaks && (c == '\t' || c == '\n' || c == '\r');
      if ((c < 0x20 || c == 0x7f) && !allowed) {
        throw new InvalidSubmissionException(
            field
                + " holds the control character U+"
                + String.format("%04X", (int) c)
                + " at index "
                + i
                + "; send text without control characters"
                + (lineBreaks ? " (tab, line feed and carriage return are fine)" : ""));
      }
    }
  }

  /**
   * Thrown when Kafka did not acknowledge a request in time: not accepted as far as the client
   * knows, though the broker may still write it (a retry under the same Idempotency-Key sends the
   * same request again, never a second one). The message is safe to show to the client; the cause
   * goes to the log.
   */
  public static final class NotAcceptedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotAcceptedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The per-tenant rates {@link #submit} applies. */
  public TenantRateLimiter rateLimiter() {
    return rate;
  }

  /** Requests refused for their tenant's rate since the start. */
  public long refusedForRate() {
    return rate.refused();
  }

  /**
   * Thrown when a tenant submits faster than its rate ({@link TenantRateLimiter}): nothing was
   * written, and the same request may be sent again after {@link #retryAfterSeconds()}.
   */
  public static final class RateLimitedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long retryAfterSeconds;

    RateLimitedException(String tenant, TenantRateLimiter rate, long waitNanos) {
      super(
          rate.tracks(tenant)
              ? "Tenant '"
                  + tenant
                  + "' submits more than its rate allows ("
                  + rate.allowance(tenant).perSecond()
                  + (rate.allowance(tenant).perSecond() == 1 ? " request" : " requests")
                  + " a second, bursts of "
                  + rate.allowance(tenant).burst()
                  + ": "
                  + switch (rate.source(tenant)) {
                    case SET -> "its own, set through PUT /api/v1/rates/" + tenant;
                    case CONFIGURED -> "its own in GENGUARD_AUDIT_SUBMIT_RATES";
                    case STANDARD -> "GENGUARD_AUDIT_SUBMIT_RATE and GENGUARD_AUDIT_SUBMIT_BURST";
                  }
                  + "); the request was not submitted, send it again"
                  + " in "
                  + seconds(waitNanos)
                  + " s"
              : "The API is counting the submission rates of "
                  + TenantRateLimiter.MAX_TENANTS
                  + " tenants that all submitted just now, and cannot count tenant '"
                  + tenant
                  + "' as well; the request was not submitted, send it again in "
                  + seconds(waitNanos)
                  + " s");
      this.retryAfterSeconds = seconds(waitNanos);
    }

    private static long seconds(long nanos) {
      return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }

    /** Whole seconds until the tenant may submit again (at least 1), for Retry-After. */
    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  /**
   * Validates the request, takes it from its tenant's rate and writes it; returns it once the
   * broker acknowledged it.
   *
   * @throws InvalidSubmissionException for a request that is not acceptable
   * @throws RateLimitedException when the tenant is over its rate; nothing was written
   * @throws NotAcceptedException when Kafka did not acknowledge it
   */
  public GenerationRequest submit(Submission submission) {
    GenerationRequest request = validate(submission);
    admit(request);
    return request;
  }

  /**
   * Writes a request {@link #validate} built, within its tenant's rate: for a caller that checks
   * more between the two (the API checks campaign attributes against the audit store).
   *
   * @throws RateLimitedException when the tenant is over its rate (nothing is written)
   */
  public void admit(GenerationRequest request) {
    long wait = rate.tryTake(request.getTenantId());
    if (wait > 0) {
      throw new RateLimitedException(request.getTenantId(), rate, wait);
    }
    send(request);
  }

  /** Writes an already built request (the demo workload and campaigns use this). */
  public void send(GenerationRequest request) {
    Producer<String, GenerationRequest> current = producer;
    try {
      current
          .send(
              new ProducerRecord<>(
                  Topics.GENERATION_REQUESTS.name(), request.getRequestId(), request))
          .get(ACK_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while submitting", e);
    } catch (ExecutionException e) {
      throw notAccepted(current, e.getCause());
    } catch (KafkaException e) {
      // Thrown by send itself, e.g. by a producer already in a fatal state.
      throw notAccepted(current, e);
    } catch (TimeoutException e) {
      throw new NotAcceptedException(
          "Kafka did not acknowledge the request within " + ACK_WAIT.toSeconds() + " s", e);
    }
  }

  private NotAcceptedException notAccepted(
      Producer<String, GenerationRequest> failed, Throwable cause) {
    if (leavesProducerUnusable(cause)) {
      replace(failed, cause);
    }
    return new NotAcceptedException("Kafka did not accept the request: " + cause, cause);
  }

  static boolean leavesProducerUnusable(Throwable error) {
    return error instanceof OutOfOrderSequenceException
        || error instanceof ProducerFencedException
        || error instanceof InvalidProducerEpochException
        || error instanceof AuthorizationException
        || error instanceof UnsupportedVersionException;
  }

  private synchronized void replace(Producer<String, GenerationRequest> failed, Throwable cause) {
    if (producer != failed || closed) {
      return; // another request already replaced it, or the submitter is closing
    }
    LOG.warn("The request producer cannot continue ({}); starting a new one", cause.toString());
    producer = producerFactory.get();
    failed.close(Duration.ZERO);
  }

  @Override
  public synchronized void close() {
    closed = true;
    producer.close();
  }
}
