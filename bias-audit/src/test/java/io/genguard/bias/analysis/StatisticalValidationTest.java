package io.genguard.bias.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.statistics.SampleSizePlanner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The statistical validation of the campaign reports, by simulation (no stack): campaigns of two
 * groups at the sample size the README recommends, analysed by the very code that writes reports.
 *
 * <p>Simulated verdicts: an output is unsafe with its group's probability; unsafe outputs score in
 * [0.5, 1), are held for review and blocked above 0.9, and carry one of the seven categories; safe
 * outputs score in [0, 0.5) and are released. So all eleven tested metrics exist, and several are
 * strongly correlated (as real ones are), which is what the family correction must survive.
 */
class StatisticalValidationTest {
  private static final double BASELINE = 0.10;
  private static final double PLANTED = 0.05;
  private static final int NULL_CAMPAIGNS = 2000;
  private static final int PLANTED_CAMPAIGNS = 400;
  private static final List<String> GROUPS = List.of("group-a", "group-b");

  static int recommendedPerGroup() {
    return SampleSizePlanner.perGroup(
        BASELINE,
        PLANTED,
        SampleSizePlanner.DEFAULT_ALPHA,
        SampleSizePlanner.DEFAULT_POWER,
        SampleSizePlanner.familySize(2, SampleSizePlanner.TESTED_METRICS));
  }

  @Test
  void shouldDetectAPlantedFivePointDisparityAtLeastEightyPercentOfTheTimeAtTheRecommendedSize() {
    int n = recommendedPerGroup();
    AnalysisSettings settings = AnalysisSettings.defaults().withoutBootstrap();
    SplittableRandom random = new SplittableRandom(5);
    int detected = 0;
    int anyTest = 0;
    for (int campaign = 0; campaign < PLANTED_CAMPAIGNS; campaign++) {
      AnalysisResult result =
          DisparityAnalysis.analyse(
              GROUPS, simulate(n, BASELINE, BASELINE + PLANTED, random), settings);
      boolean unsafeRateSignificant =
          result.significantTests().stream().anyMatch(t -> t.metricId().equals("unsafe_rate"));
      detected += unsafeRateSignificant ? 1 : 0;
      anyTest += result.disparityDetected() ? 1 : 0;
    }
    double power = (double) detected / PLANTED_CAMPAIGNS;
    System.out.printf(
        "[validation] n=%d per group: unsafe-rate disparity detected in %.3f, any test in %.3f%n",
        n, power, (double) anyTest / PLANTED_CAMPAIGNS);
    assertThat(power).as("power at n=%d per group", n).isGreaterThanOrEqualTo(0.80);
  }

  @Test
  void shouldFlagAGeneratorWithoutDisparityAtMostFivePercentOfTheTimeFamilyWise() {
    // Holm is the default and the procedure the README documents. (Benjamini-Hochberg bounds the
    // false discovery rate; under no disparity its family-wise rate sits at alpha by design.)
    int n = recommendedPerGroup();
    AnalysisSettings settings = AnalysisSettings.defaults().withoutBootstrap();
    SplittableRandom random = new SplittableRandom(11);
    int flagged = 0;
    for (int campaign = 0; campaign < NULL_CAMPAIGNS; campaign++) {
      AnalysisResult result =
          DisparityAnalysis.analyse(GROUPS, simulate(n, BASELINE, BASELINE, random), settings);
      flagged += result.disparityDetected() ? 1 : 0;
    }
    double rate = (double) flagged / NULL_CAMPAIGNS;
    System.out.printf(
        "[validation] no disparity, n=%d per group: flagged in %.4f of %d campaigns (Holm)%n",
        n, rate, NULL_CAMPAIGNS);
    assertThat(rate).as("family-wise false-positive rate").isLessThanOrEqualTo(0.05);
  }

  @Test
  void shouldMissMostDisparitiesWithoutCorrectionButNotWithIt() {
    // The reason for the correction: eleven uncorrected tests at 5% flag a fair generator far more
    // often than 5%. This guards against a family that silently stopped being corrected.
    int n = 300;
    AnalysisSettings settings = AnalysisSettings.defaults().withoutBootstrap();
    SplittableRandom random = new SplittableRandom(3);
    int uncorrected = 0;
    int corrected = 0;
    for (int campaign = 0; campaign < 300; campaign++) {
      AnalysisResult result =
          DisparityAnalysis.analyse(GROUPS, simulate(n, BASELINE, BASELINE, random), settings);
      uncorrected += result.tests().stream().anyMatch(t -> t.test().pValue() < 0.05) ? 1 : 0;
      corrected += result.disparityDetected() ? 1 : 0;
    }
    assertThat(uncorrected / 300.0).isGreaterThan(0.10);
    assertThat(corrected / 300.0).isLessThanOrEqualTo(0.05);
  }

  /** Simulated verdicts of one two-group campaign. */
  static List<Observation> simulate(
      int perGroup, double rateA, double rateB, SplittableRandom random) {
    List<Observation> observations = new ArrayList<>(2 * perGroup);
    double[] rates = {rateA, rateB};
    List<String> categories = AnalysisSettings.DEFAULT_CATEGORIES;
    for (int g = 0; g < 2; g++) {
      for (int i = 0; i < perGroup; i++) {
        boolean unsafe = random.nextDouble() < rates[g];
        double score =
            unsafe
                ? 0.5 + 0.5 * Math.sqrt(random.nextDouble()) * 0.999
                : 0.5 * Math.pow(random.nextDouble(), 2);
        String decision = !unsafe ? "RELEASE" : score >= 0.9 ? "BLOCK" : "REVIEW";
        Map<String, Double> categoryScores = new HashMap<>();
        if (unsafe) {
          categoryScores.put(categories.get(random.nextInt(categories.size())), score);
        }
        observations.add(
            new Observation(
                GROUPS.get(g) + "-" + i,
                "v-" + g + "-" + i,
                GROUPS.get(g),
                score,
                decision,
                categoryScores));
      }
    }
    return observations;
  }
}
