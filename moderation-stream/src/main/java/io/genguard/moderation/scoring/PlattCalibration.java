package io.genguard.moderation.scoring;

/**
 * Platt scaling: {@code p = 1 / (1 + exp(-(a * z + b)))} maps a raw margin {@code z} to a
 * probability. Fitted on held-out data with the smoothed targets and Newton iterations of Lin, Lin
 * and Weng, "A note on Platt's probabilistic outputs for support vector machines" (2007).
 */
public record PlattCalibration(double a, double b) {
  /** Identity on the logit scale: the raw margin is already a log-odds. */
  public static final PlattCalibration IDENTITY = new PlattCalibration(1.0, 0.0);

  public double probability(double margin) {
    return sigmoid(a * margin + b);
  }

  public static double sigmoid(double x) {
    if (x >= 0) {
      return 1.0 / (1.0 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1.0 + e);
  }

  /**
   * Fits a and b by maximum likelihood on margins and labels of a held-out set.
   *
   * @throws IllegalArgumentException when the set lacks positives or negatives
   */
  public static PlattCalibration fit(double[] margins, boolean[] labels) {
    int positives = 0;
    for (boolean label : labels) {
      positives += label ? 1 : 0;
    }
    int negatives = labels.length - positives;
    if (positives == 0 || negatives == 0) {
      throw new IllegalArgumentException(
          "Platt calibration needs positives and negatives; got "
              + positives
              + " positives and "
              + negatives
              + " negatives");
    }
    double hiTarget = (positives + 1.0) / (positives + 2.0);
    double loTarget = 1.0 / (negatives + 2.0);
    double[] t = new double[labels.length];
    for (int i = 0; i < labels.length; i++) {
      t[i] = labels[i] ? hiTarget : loTarget;
    }
    double a = 0.0;
    double b = Math.log((negatives + 1.0) / (positives + 1.0));
    // Lin et al. parameterize p = 1/(1+exp(A f + B)); we keep their A, B and flip signs at the end.
    double fval = objective(margins, t, a, b);
    final double sigma = 1e-12;
    final double minStep = 1e-10;
    for (int iteration = 0; iteration < 100; iteration++) {
      double h11 = sigma;
      double h22 = sigma;
      double h21 = 0;
      double g1 = 0;
      double g2 = 0;
      for (int i = 0; i < margins.length; i++) {
        double fApB = margins[i] * a + b;
        double p;
        double q;
        if (fApB >= 0) {
          p = Math.exp(-fApB) / (1.0 + Math.exp(-fApB));
          q = 1.0 / (1.0 + Math.exp(-fApB));
        } else {
          p = 1.0 / (1.0 + Math.exp(fApB));
          q = Math.exp(fApB) / (1.0 + Math.exp(fApB));
        }
        double d2 = p * q;
        h11 += margins[i] * margins[i] * d2;
        h22 += d2;
        h21 += margins[i] * d2;
        double d1 = t[i] - p;
        g1 += margins[i] * d1;
        g2 += d1;
      }
      if (Math.abs(g1) < 1e-5 && Math.abs(g2) < 1e-5) {
        break;
      }
      double det = h11 * h22 - h21 * h21;
      double dA = -(h22 * g1 - h21 * g2) / det;
      double dB = -(-h21 * g1 + h11 * g2) / det;
      double gd = g1 * dA + g2 * dB;
      double step = 1;
      while (step >= minStep) {
        double newA = a + step * dA;
        double newB = b + step * dB;
        double newF = objective(margins, t, newA, newB);
        if (newF < fval + 0.0001 * step * gd) {
          a = newA;
          b = newB;
          fval = newF;
          break;
        }
        step /= 2.0;
      }
      if (step < minStep) {
        break;
      }
    }
    return new PlattCalibration(-a, -b);
  }

  private static double objective(double[] margins, double[] t, double a, double b) {
    double f = 0;
    for (int i = 0; i < margins.length; i++) {
      double fApB = margins[i] * a + b;
      if (fApB >= 0) {
        f += t[i] * fApB + Math.log(1 + Math.exp(-fApB));
      } else {
        f += (t[i] - 1) * fApB + Math.log(1 + Math.exp(fApB));
      }
    }
    return f;
  }
}
