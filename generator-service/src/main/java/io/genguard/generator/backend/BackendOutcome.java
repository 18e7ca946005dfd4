package io.genguard.generator.backend;

/** The result of one request in a batch: generated text, or why not. */
public sealed interface BackendOutcome {
  /** Success. */
  record Generated(Generation generation) implements BackendOutcome {}

  /** Failure of this request only; the rest of the batch is unaffected. */
  record Failed(BackendException error) implements BackendOutcome {}

  static BackendOutcome of(Generation generation) {
    return new Generated(generation);
  }

  static BackendOutcome failed(BackendException error) {
    return new Failed(error);
  }
}
