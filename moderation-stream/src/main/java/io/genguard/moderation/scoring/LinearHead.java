package io.genguard.moderation.scoring;

/**
 * One calibrated logistic-regression head over a dense or hashed feature space: {@code margin = w .
 * x + bias}, probability through {@link PlattCalibration}.
 *
 * @param name "unsafe" or a {@link Category#id()}
 * @param weights one weight per feature
 * @param bias intercept
 * @param calibration maps the margin to a calibrated probability
 */
public record LinearHead(String name, float[] weights, double bias, PlattCalibration calibration) {
  /** The raw margin for a sparse feature vector. */
  public double margin(HashedNgramFeatures.SparseVector x) {
    return x.dot(weights) + bias;
  }

  /** The raw margin for a dense feature vector. */
  public double margin(float[] x) {
    double sum = bias;
    for (int i = 0; i < x.length; i++) {
      sum += weights[i] * x[i];
    }
    return sum;
  }
}
