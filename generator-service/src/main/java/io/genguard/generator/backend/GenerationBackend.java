package io.genguard.generator.backend;

import java.util.List;
import java.util.Optional;

/**
 * A way to generate text: the built-in n-gram model, a DJL model, or an OpenAI-compatible server.
 * Implementations are thread-safe: every worker thread calls the same instance.
 */
public interface GenerationBackend extends AutoCloseable {
  /** The name requests use to pick this backend: builtin, djl or openai. */
  String name();

  /** The model of requests that name none. */
  String defaultModel();

  /** Whether a request naming {@code model} can be served here. */
  boolean serves(String model);

  /** Requests per {@link #generate} call this backend handles well (its batch size). */
  int maxBatchSize();

  /** Whether outputs carry a sampling-time watermark (it needs the model's logits). */
  boolean embedsWatermark();

  /**
   * Generates text for each request, in order: one outcome per request. A failure of one request is
   * returned as its outcome; an exception is reserved for bugs.
   */
  List<BackendOutcome> generate(List<BackendRequest> batch);

  /** Loads models eagerly, so the first batch does not pay for it. Default: nothing to do. */
  default void warmUp() throws BackendException {}

  /**
   * Why this backend cannot serve now (its model does not load), or empty when it can. Loads the
   * model when that is due: never tried, or the back-off after a failed load has passed; otherwise
   * answers at once. Default: always ready.
   */
  default Optional<String> whyNotReady() {
    return Optional.empty();
  }

  /**
   * False while the last attempt to load the backend's model failed. Never loads anything, so
   * metrics may read it. Default: true.
   */
  default boolean ready() {
    return true;
  }

  @Override
  void close();
}
