package io.genguard.moderation.policy;

import java.util.List;

/** The stable codes of {@link VerdictReason}s: dashboards, reports and tests match on these. */
public final class ReasonCodes {
  public static final String CATEGORY_BLOCK = "category.block";
  public static final String CATEGORY_REVIEW = "category.review";
  public static final String UNSAFE_BLOCK = "unsafe.block";
  public static final String UNSAFE_REVIEW = "unsafe.review";
  public static final String BIAS_TARGETED = "bias.targeted";
  public static final String BIAS_STEREOTYPE = "bias.stereotype";
  public static final String THREAT_PATTERN = "threat.pattern";
  public static final String MINOR_SEXUALIZED = "minor.sexualized";
  public static final String PREJUDICE_FRAMED = "prejudice.framed";
  public static final String SELF_HARM_PATTERN = "self-harm.pattern";
  public static final String MANIFEST_INVALID = "provenance.manifest_invalid";
  public static final String MANIFEST_ABSENT = "provenance.manifest_absent";

  /** Signed with a key id this job holds no public key of: not configured yet, or removed. */
  public static final String MANIFEST_UNKNOWN_KEY = "provenance.manifest_unknown_key";

  public static final String WATERMARK_NOT_DETECTED = "provenance.watermark_not_detected";
  public static final String WATERMARK_NOT_CHECKED = "provenance.watermark_not_checked";
  public static final String WATERMARK_TOO_SHORT = "provenance.watermark_too_short";

  /**
   * TOO_SHORT, but the text is long and repeats a few words: {@code watermarkTooShort} does not
   * release it where the watermark is required.
   */
  public static final String WATERMARK_REPETITIVE = "provenance.watermark_repetitive";

  /**
   * A VALID manifest names the echo backend: the text is the tenant's own prompt, not generated.
   */
  public static final String MANIFEST_ECHOED = "provenance.manifest_echoed";

  /**
   * The event's (unsigned) watermark claim differs from its valid signed manifest's watermark; the
   * watermark was looked for as the manifest states. Calls for no decision of its own.
   */
  public static final String WATERMARK_CLAIM_MISMATCH = "provenance.watermark_claim_mismatch";

  public static final String SCORER_ERROR = "scorer.error";
  public static final String SCORER_TIMEOUT = "scorer.timeout";

  /** A verdict with a reason of one of these codes was decided without the text's scores. */
  public static final List<String> SCORER_FAILURES = List.of(SCORER_ERROR, SCORER_TIMEOUT);

  public static final String TEXT_EMPTY = "text.empty";
  public static final String TEXT_TRUNCATED = "text.truncated";
  public static final String TEXT_INVALID_UTF8 = "text.invalid_utf8";
  public static final String TEXT_UNSUPPORTED_LANGUAGE = "text.unsupported_language";
  public static final String TEXT_OBFUSCATED = "text.obfuscated";
  public static final String CLEAR = "policy.clear";

  private ReasonCodes() {}
}
