package io.genguard.provenance.watermark;

/**
 * Parameters of the Kirchenbauer et al. (2023) "soft" watermark: a green list of fraction {@code
 * gamma} of the vocabulary, re-drawn for every context of the previous {@code contextWidth} tokens,
 * and {@code delta} added to the logits of green tokens before sampling.
 *
 * @param gamma fraction of the vocabulary that is green, in (0, 1); default 0.25
 * @param delta logit bias of green tokens, at least 0; default 2.0
 * @param contextWidth how many previous tokens seed the green list (the paper's h), at least 1
 */
public record WatermarkParameters(double gamma, double delta, int contextWidth) {
  /**
   * Name of this scheme as carried in output events and manifests: KGW soft watermark, green list
   * by HMAC-SHA256 context seed, over {@link io.genguard.provenance.text.WordTokenizer} tokens.
   */
  public static final String SCHEME = "kgw-hmac-sha256-word-v1";

  public static final WatermarkParameters DEFAULTS = new WatermarkParameters(0.25, 2.0, 1);

  public WatermarkParameters {
    if (!(gamma > 0.0 && gamma < 1.0)) {
      throw new IllegalArgumentException(
          "Watermark gamma must be in (0, 1) (the green fraction of the vocabulary), got " + gamma);
    }
    if (!(delta >= 0.0) || Double.isInfinite(delta)) {
      throw new IllegalArgumentException(
          "Watermark delta must be a finite logit bias >= 0, got " + delta);
    }
    if (contextWidth < 1 || contextWidth > 8) {
      throw new IllegalArgumentException(
          "Watermark context width (h) must be between 1 and 8 previous tokens, got "
              + contextWidth);
    }
  }
}
