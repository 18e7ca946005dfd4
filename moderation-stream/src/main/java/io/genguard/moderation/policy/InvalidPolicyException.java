package io.genguard.moderation.policy;

/** A policy file that cannot be used, with the line and column of the problem and what to do. */
public final class InvalidPolicyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String origin;
  private final int line;
  private final int column;
  private final String reason;

  public InvalidPolicyException(String origin, int line, int column, String reason) {
    super(
        "Invalid policy "
            + origin
            + (line > 0 ? " at line " + line + ", column " + column : "")
            + ": "
            + reason);
    this.origin = origin;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }

  /** The file or resource. */
  public String origin() {
    return origin;
  }

  /** 1-based line of the problem, 0 when unknown. */
  public int line() {
    return line;
  }

  public int column() {
    return column;
  }

  /** What is wrong, without the location. */
  public String reason() {
    return reason;
  }
}
