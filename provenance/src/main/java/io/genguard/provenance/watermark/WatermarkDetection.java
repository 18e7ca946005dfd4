package io.genguard.provenance.watermark;

/**
 * The outcome of testing one text for the watermark of one key.
 *
 * @param status the conclusion: WATERMARKED needs both z and the p-value past the threshold
 * @param zScore {@code (green - gamma*T) / sqrt(T*gamma*(1-gamma))} over the T scored pairs; 0 when
 *     nothing was scored
 * @param pValue exact one-sided p-value {@code P(X >= green)}, X ~ Binomial(T, gamma), under "not
 *     watermarked" (tokens green with probability gamma independently); 1 when nothing was scored
 * @param tokensScored T, the number of unique (context, token) pairs scored
 * @param greenTokens how many of them were green
 * @param keyId the key tested (for multi-key detection, the best-scoring one)
 */
public record WatermarkDetection(
    DetectionStatus status,
    double zScore,
    double pValue,
    int tokensScored,
    int greenTokens,
    String keyId) {

  public boolean watermarked() {
    return status == DetectionStatus.WATERMARKED;
  }
}
