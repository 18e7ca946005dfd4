package io.genguard.generator.worker;

import io.genguard.generator.GeneratorConfig;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watchdog of backend calls: which worker thread is inside which backend's {@code generate()}
 * and since when, and whether one has been inside it longer than the bound ({@code
 * GENGUARD_GENERATOR_HUNG_CALL_MS}). A legitimate call ends within the request budget and one more
 * step (every backend checks the requests' deadline between tokens, the HTTP backend bounds its
 * calls by it), so a call past the bound is a forward pass or a server call that does not return: a
 * DJL model or an ONNX session stuck in native code ignores interrupts, and only a restart of the
 * process ends it. The watch only observes: it never interrupts the call nor touches the worker's
 * consumer or producer (a worker opens its batch's transaction only after the backend returned).
 * Checked whenever {@code /ready}, {@code /health} or a scrape asks ({@link #longestHung()}), which
 * logs a hung call once, at ERROR, and again at WARN if it ever returns.
 */
public final class BackendCallWatch {
  private static final Logger LOG = LoggerFactory.getLogger(BackendCallWatch.class);

  /** One call in progress. */
  private static final class Call {
    final String worker;
    final String backend;
    final int requests;
    final long startedNanos;
    volatile boolean reported;

    Call(String worker, String backend, int requests, long startedNanos) {
      this.worker = worker;
      this.backend = backend;
      this.requests = requests;
      this.startedNanos = startedNanos;
    }
  }

  /** A call inside a backend for longer than the bound. */
  public record Hung(String worker, String backend, int requests, Duration inside) {}

  private final Duration bound;
  private final LongSupplier nanoTime;
  private final ConcurrentHashMap<Thread, Call> calls = new ConcurrentHashMap<>();

  /**
   * @param bound how long a call may last before it counts as hung
   * @param nanoTime the clock the calls are timed with ({@code System::nanoTime}; tests give their
   *     own)
   */
  public BackendCallWatch(Duration bound, LongSupplier nanoTime) {
    this.bound = bound;
    this.nanoTime = nanoTime;
  }

  public Duration bound() {
    return bound;
  }

  /** The calling thread enters {@code backend} with a batch of {@code requests}. */
  void enter(String backend, int requests) {
    Thread thread = Thread.currentThread();
    calls.put(thread, new Call(thread.getName(), backend, requests, nanoTime.getAsLong()));
  }

  /** The calling thread's call returned (or threw). */
  void exit() {
    Call call = calls.remove(Thread.currentThread());
    if (call != null && call.reported) {
      LOG.warn(
          "Worker {} returned from backend {} after {} s, past the hung-call bound of {} s; the"
              + " generator is healthy again unless another call hangs",
          call.worker,
          call.backend,
          Duration.ofNanos(nanoTime.getAsLong() - call.startedNanos).toSeconds(),
          bound.toSeconds());
    }
  }

  /** The call in progress the longest, if it has lasted longer than the bound. */
  public Optional<Hung> longestHung() {
    long now = nanoTime.getAsLong();
    Optional<Call> longest =
        calls.values().stream()
            .filter(call -> now - call.startedNanos > bound.toNanos())
            .min(Comparator.comparingLong(call -> call.startedNanos));
    reportNew(now);
    return longest.map(
        call ->
            new Hung(
                call.worker,
                call.backend,
                call.requests,
                Duration.ofNanos(now - call.startedNanos)));
  }

  /** How many calls into {@code backend} have lasted longer than the bound. */
  public int hungCalls(String backend) {
    long now = nanoTime.getAsLong();
    reportNew(now);
    return (int)
        calls.values().stream()
            .filter(call -> call.backend.equals(backend))
            .filter(call -> now - call.startedNanos > bound.toNanos())
            .count();
  }

  /** Logs each call that has passed the bound since the last check, once. */
  private void reportNew(long now) {
    calls.values().stream()
        .filter(call -> !call.reported && now - call.startedNanos > bound.toNanos())
        .forEach(
            call -> {
              call.reported = true;
              LOG.error(
                  "Worker {} has been inside a call to backend {} (a batch of {}) for more than {}"
                      + " s ({}): a forward pass or a server call that does not return. The"
                      + " generator reports not ready and unhealthy until it returns; only a"
                      + " restart of the process ends it (no transaction is open during a backend"
                      + " call and the batch's offsets are not committed: the next owner of its"
                      + " partitions reads it again)",
                  call.worker,
                  call.backend,
                  call.requests,
                  bound.toSeconds(),
                  GeneratorConfig.Keys.HUNG_CALL_MS);
            });
  }
}
