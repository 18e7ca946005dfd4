package io.genguard.moderation.scoring;

/**
 * A logistic regression over a few inputs (here: the margins of several models for one head),
 * fitted by Newton's method with a small L2 penalty. Used to stack the n-gram and embedding heads:
 * fitted on the validation split, its output is itself a calibrated probability (stacked
 * generalization, Wolpert 1992; Platt scaling is the one-input case).
 *
 * @param weights one weight per input
 * @param bias intercept
 */
public record StackedLogistic(double[] weights, double bias) {
  public double probability(double... inputs) {
    double z = bias;
    for (int i = 0; i < weights.length; i++) {
      z += weights[i] * inputs[i];
    }
    return PlattCalibration.sigmoid(z);
  }

  /** Fits on rows of inputs and labels; {@code l2} regularizes the weights, not the bias. */
  public static StackedLogistic fit(double[][] x, boolean[] y, double l2) {
    int k = x[0].length;
    int d = k + 1;
    double[] beta = new double[d];
    int positives = 0;
    for (boolean label : y) {
      positives += label ? 1 : 0;
    }
    if (positives == 0 || positives == y.length) {
      throw new IllegalArgumentException(
          "stacking needs positives and negatives; got " + positives + " of " + y.length);
    }
    beta[k] = Math.log(positives / (double) (y.length - positives));
    for (int iteration = 0; iteration < 50; iteration++) {
      double[] gradient = new double[d];
      double[][] hessian = new double[d][d];
      for (int i = 0; i < x.length; i++) {
        double z = beta[k];
        for (int j = 0; j < k; j++) {
          z += beta[j] * x[i][j];
        }
        double p = PlattCalibration.sigmoid(z);
        double r = p - (y[i] ? 1 : 0);
        double w = Math.max(p * (1 - p), 1e-9);
        for (int a = 0; a < d; a++) {
          double xa = a < k ? x[i][a] : 1;
          gradient[a] += r * xa;
          for (int b = 0; b < d; b++) {
            double xb = b < k ? x[i][b] : 1;
            hessian[a][b] += w * xa * xb;
          }
        }
      }
      for (int a = 0; a < k; a++) {
        gradient[a] += l2 * beta[a];
        hessian[a][a] += l2;
      }
      double[] step = solve(hessian, gradient);
      // Backtracking line search: a full Newton step can overshoot far from the optimum.
      double current = loss(x, y, beta, l2);
      double scale = 1;
      double[] candidate = new double[d];
      while (true) {
        for (int a = 0; a < d; a++) {
          candidate[a] = beta[a] - scale * step[a];
        }
        if (loss(x, y, candidate, l2) <= current || scale < 1e-6) {
          break;
        }
        scale /= 2;
      }
      double change = 0;
      for (int a = 0; a < d; a++) {
        change = Math.max(change, Math.abs(candidate[a] - beta[a]));
        beta[a] = candidate[a];
      }
      if (change < 1e-8) {
        break;
      }
    }
    double[] weights = new double[k];
    System.arraycopy(beta, 0, weights, 0, k);
    return new StackedLogistic(weights, beta[k]);
  }

  private static double loss(double[][] x, boolean[] y, double[] beta, double l2) {
    int k = beta.length - 1;
    double total = 0;
    for (int i = 0; i < x.length; i++) {
      double z = beta[k];
      for (int j = 0; j < k; j++) {
        z += beta[j] * x[i][j];
      }
      // log(1 + exp(-z)) for positives, log(1 + exp(z)) for negatives, computed stably.
      double m = y[i] ? -z : z;
      total += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
    }
    for (int j = 0; j < k; j++) {
      total += 0.5 * l2 * beta[j] * beta[j];
    }
    return total;
  }

  /** Gaussian elimination with partial pivoting; the systems here are tiny. */
  static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][n + 1];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, m[i], 0, n);
      m[i][n] = b[i];
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int row = col + 1; row < n; row++) {
        if (Math.abs(m[row][col]) > Math.abs(m[pivot][col])) {
          pivot = row;
        }
      }
      double[] tmp = m[col];
      m[col] = m[pivot];
      m[pivot] = tmp;
      double diag = m[col][col];
      if (Math.abs(diag) < 1e-12) {
        diag = 1e-12;
      }
      for (int row = 0; row < n; row++) {
        if (row != col) {
          double factor = m[row][col] / diag;
          for (int c = col; c <= n; c++) {
            m[row][c] -= factor * m[col][c];
          }
        }
      }
    }
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = m[i][n] / (Math.abs(m[i][i]) < 1e-12 ? 1e-12 : m[i][i]);
    }
    return x;
  }
}
