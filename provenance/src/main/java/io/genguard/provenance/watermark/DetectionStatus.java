package io.genguard.provenance.watermark;

/** What watermark detection concluded about one text. */
public enum DetectionStatus {
  /** The z-score reached the threshold: the text carries the watermark of the key. */
  WATERMARKED,
  /** Enough tokens were scored and the z-score stayed below the threshold. */
  NOT_DETECTED,
  /** Fewer unique (context, token) pairs than the minimum: no conclusion either way. */
  TOO_SHORT,
  /**
   * The key id is not in this detector's key ring, or the ring holds no key at all: no conclusion.
   */
  UNKNOWN_KEY
}
