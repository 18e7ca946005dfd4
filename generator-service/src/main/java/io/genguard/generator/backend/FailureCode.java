package io.genguard.generator.backend;

/** The codes a {@code GenerationFailure} event carries; stable, for dashboards and clients. */
public enum FailureCode {
  /** The request itself is wrong: empty or too long prompt, parameters out of range. */
  INVALID_REQUEST("invalid_request"),
  /** No such backend, or the backend does not serve the named model. */
  UNKNOWN_BACKEND("unknown_backend"),
  /** The backend could not be reached or is overloaded, after every retry. */
  BACKEND_UNAVAILABLE("backend_unavailable"),
  /** The backend answered with an error or with something that is not a valid answer. */
  BACKEND_ERROR("backend_error"),
  /** The request's time budget ran out. */
  TIMEOUT("timeout");

  private final String code;

  FailureCode(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
