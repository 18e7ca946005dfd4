package io.genguard.generator.worker;

import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.schemas.EventTooLargeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one micro-batch of requests, with no Kafka in sight: validates each, groups the valid ones
 * by backend into backend-sized batches, retries transient failures with exponential backoff (at
 * least the server's Retry-After) inside each request's time budget, and returns one event per
 * request, in order: an output or a failure. Never throws for a bad request or a failing backend.
 * It records retries. The tokens and latency of each generation travel with its result ({@link
 * Result#usage}), and they and the outcome of each request are counted by whoever writes its event
 * ({@link GenerationWorker}), once the event's transaction commits: a batch that is aborted and
 * read again counts once, and an event too large to write ends as a dead letter.
 */
public final class BatchProcessor {
  private static final Logger LOG = LoggerFactory.getLogger(BatchProcessor.class);

  /** Waits between retries; tests replace it. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  /**
   * The event one request ends as: exactly one of output or failure is set. {@code usage} is what
   * the backend spent on it when it generated text (also for a generation that could not be
   * packaged), null otherwise; it is counted ({@link GeneratorMetrics#generated(Usage)}) once the
   * event is committed.
   */
  public record Result(
      GenerationRequest request, GenerationOutput output, GenerationFailure failure, Usage usage) {
    public Result(GenerationRequest request, GenerationOutput output, GenerationFailure failure) {
      this(request, output, failure, null);
    }

    public boolean succeeded() {
      return output != null;
    }
  }

  /** The tokens one generation produced on a backend and the time the backend took for it. */
  public record Usage(String backend, int tokens, Duration latency) {}

  private final GeneratorConfig config;
  private final BackendRegistry backends;
  private final RequestValidator validator;
  private final OutputAssembler assembler;
  private final GeneratorMetrics metrics;
  private final Clock clock;
  private final Sleeper sleeper;
  private final BackendCallWatch watch;

  public BatchProcessor(
      GeneratorConfig config,
      BackendRegistry backends,
      OutputAssembler assembler,
      GeneratorMetrics metrics,
      Clock clock,
      Sleeper sleeper) {
    this(
        config,
        backends,
        assembler,
        metrics,
        clock,
        sleeper,
        new BackendCallWatch(config.hungCallBound(), System::nanoTime));
  }

  /**
   * @param watch where each backend call is registered while it runs, so that one that does not
   *     return is noticed ({@link BackendCallWatch})
   */
  public BatchProcessor(
      GeneratorConfig config,
      BackendRegistry backends,
      OutputAssembler assembler,
      GeneratorMetrics metrics,
      Clock clock,
      Sleeper sleeper,
      BackendCallWatch watch) {
    this.config = config;
    this.backends = backends;
    this.validator = new RequestValidator(config, backends);
    this.assembler = assembler;
    this.metrics = metrics;
    this.clock = clock;
    this.sleeper = sleeper;
    this.watch = watch;
  }

  /**
   * Why one of the named backends cannot serve now, or empty when all can ({@link
   * BackendRegistry#whyNotReady}).
   */
  public Optional<String> whyNotReady(Collection<String> backendNames) {
    return backends.whyNotReady(backendNames);
  }

  public List<Result> process(List<GenerationRequest> requests) {
    Result[] results = new Result[requests.size()];
    Map<GenerationBackend, List<Job>> byBackend = new LinkedHashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      RequestValidator.Verdict verdict = validator.check(requests.get(i));
      if (verdict.refused().isPresent()) {
        RequestValidator.Refused refused = verdict.refused().get();
        results[i] =
            fail(refused.request(), refused.code(), refused.reason(), refused.backend(), 0);
      } else {
        RequestValidator.Accepted accepted = verdict.accepted().get();
        byBackend
            .computeIfAbsent(accepted.backend(), b -> new ArrayList<>())
            .add(new Job(i, accepted));
      }
    }
    byBackend.forEach((backend, jobs) -> serve(backend, jobs, results));
    return List.of(results);
  }

  /** One accepted request and its retry state. */
  private static final class Job {
    final int index;
    final RequestValidator.Accepted accepted;
    int attempts;
    Instant deadline;
    BackendException lastError;

    Job(int index, RequestValidator.Accepted accepted) {
      this.index = index;
      this.accepted = accepted;
    }
  }

  private void serve(GenerationBackend backend, List<Job> jobs, Result[] results) {
    List<Job> pending = jobs;
    while (!pending.isEmpty()) {
      List<Job> retry = new ArrayList<>();
      Duration wait = Duration.ZERO;
      for (int from = 0; from < pending.size(); from += backend.maxBatchSize()) {
        List<Job> chunk =
            pending.subList(from, Math.min(pending.size(), from + backend.maxBatchSize()));
        List<BackendOutcome> outcomes = call(backend, chunk);
        Instant now = clock.instant();
        for (int i = 0; i < chunk.size(); i++) {
          Job job = chunk.get(i);
          job.attempts++;
          BackendOutcome outcome = outcomes.get(i);
          if (outcome instanceof BackendOutcome.Generated generated) {
            var generation = generated.generation();
            Usage usage =
                new Usage(
                    backend.name(),
                    generation.outputTokens(),
                    Duration.ofNanos(generation.computeNanos()));
            try {
              results[job.index] =
                  new Result(
                      job.accepted.request(),
                      assembler.output(
                          job.accepted.request(),
                          backend.name(),
                          job.accepted.sampling(),
                          generation,
                          now),
                      null,
                      usage);
            } catch (EventTooLargeException e) {
              results[job.index] =
                  withUsage(
                      fail(
                          job.accepted.request(),
                          FailureCode.BACKEND_ERROR,
                          "the generated text of "
                              + generation.text().length()
                              + " characters ("
                              + generation.outputTokens()
                              + " tokens) does not fit in an output event: "
                              + e.getMessage()
                              + "; ask for fewer tokens",
                          backend.name(),
                          job.attempts),
                      usage);
            } catch (RuntimeException e) {
              results[job.index] =
                  withUsage(
                      fail(
                          job.accepted.request(),
                          FailureCode.BACKEND_ERROR,
                          "backend output could not be packaged: " + e.getMessage(),
                          backend.name(),
                          job.attempts),
                      usage);
            }
            continue;
          }
          BackendException error = ((BackendOutcome.Failed) outcome).error();
          job.lastError = error;
          Duration backoff = backoff(job.attempts, error);
          // Compared as durations: now + a server's Retry-After of years would overflow Instant.
          boolean timeLeft = backoff.compareTo(Duration.between(now, job.deadline)) < 0;
          if (error.isTransient() && job.attempts < config.maxAttempts() && timeLeft) {
            retry.add(job);
            metrics.retry(backend.name());
            wait = wait.compareTo(backoff) > 0 ? wait : backoff;
          } else {
            FailureCode code =
                error.isTransient() && !timeLeft ? FailureCode.TIMEOUT : error.code();
            String reason =
                error.getMessage()
                    + (error.isTransient()
                        ? " (gave up after "
                            + job.attempts
                            + " attempt(s)"
                            + (timeLeft
                                ? ""
                                : "; the "
                                    + config.requestTimeout().toMillis()
                                    + " ms budget ran out")
                            + ")"
                        : "");
            results[job.index] =
                fail(job.accepted.request(), code, reason, backend.name(), job.attempts);
          }
        }
      }
      if (!retry.isEmpty()) {
        try {
          sleeper.sleep(wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          for (Job job : retry) {
            results[job.index] =
                fail(
                    job.accepted.request(),
                    FailureCode.BACKEND_UNAVAILABLE,
                    job.lastError.getMessage() + " (interrupted while waiting to retry)",
                    backend.name(),
                    job.attempts);
          }
          return;
        }
      }
      pending = retry;
    }
  }

  private List<BackendOutcome> call(GenerationBackend backend, List<Job> chunk) {
    List<BackendRequest> requests = new ArrayList<>(chunk.size());
    // A request's budget starts when the backend is first asked for it, not when its batch came:
    // otherwise a request sent after other chunks of its batch has what they left of the budget.
    Instant firstCall = clock.instant().plus(config.requestTimeout());
    for (Job job : chunk) {
      if (job.deadline == null) {
        job.deadline = firstCall;
      }
      var accepted = job.accepted;
      requests.add(
          new BackendRequest(
              accepted.request().getRequestId(),
              accepted.request().getPrompt(),
              accepted.model(),
              accepted.sampling(),
              job.deadline));
    }
    List<BackendOutcome> outcomes;
    watch.enter(backend.name(), requests.size());
    try {
      outcomes = backend.generate(requests);
    } catch (RuntimeException e) {
      return failedChunk(backend, requests, e);
    } finally {
      watch.exit();
    }
    if (outcomes == null || outcomes.size() != requests.size()) {
      return failedChunk(
          backend,
          requests,
          new IllegalStateException(
              "backend returned "
                  + (outcomes == null ? "no list of" : Integer.toString(outcomes.size()))
                  + " outcomes for "
                  + requests.size()
                  + " requests"));
    }
    return outcomes;
  }

  private List<BackendOutcome> failedChunk(
      GenerationBackend backend, List<BackendRequest> requests, RuntimeException e) {
    // A bug or a broken model: fail this chunk, keep the worker serving the rest. The
    // exception's text (paths, hosts, library names) goes to the log only, under an id the
    // tenant's reason gives.
    String errorId = BackendException.newErrorId();
    LOG.error(
        "Backend {} failed on a batch of {} (error id {})",
        backend.name(),
        requests.size(),
        errorId,
        e);
    BackendException error =
        BackendException.permanent(
            FailureCode.BACKEND_ERROR,
            "backend "
                + backend.name()
                + " failed (error id "
                + errorId
                + "; the generator log has the detail)",
            e);
    List<BackendOutcome> failed = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      failed.add(new BackendOutcome.Failed(error));
    }
    return failed;
  }

  private Duration backoff(int attempt, BackendException error) {
    long base = config.retryBackoff().toMillis();
    int doublings = Math.min(attempt - 1, 20);
    long exponential = base > Long.MAX_VALUE >> doublings ? Long.MAX_VALUE : base << doublings;
    long capped = Math.min(exponential, config.maxRetryBackoff().toMillis());
    Duration backoff = Duration.ofMillis(capped);
    if (error.retryAfter() != null && error.retryAfter().compareTo(backoff) > 0) {
      backoff = error.retryAfter();
    }
    return backoff;
  }

  private static Result withUsage(Result result, Usage usage) {
    return new Result(result.request(), result.output(), result.failure(), usage);
  }

  private Result fail(
      GenerationRequest request, FailureCode code, String reason, String backend, int attempts) {
    return new Result(
        request,
        null,
        OutputAssembler.failure(request, code, reason, backend, attempts, clock.instant()));
  }
}
