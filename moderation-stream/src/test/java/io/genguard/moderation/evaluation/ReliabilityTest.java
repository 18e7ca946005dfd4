package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReliabilityTest {
  @Test
  void shouldGiveBrierAndEqualMassEceOfHandMadeScores() {
    // 10 texts, 3 positive; equal-mass bins of one text each
    double[] scores = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    boolean[] labels = {false, false, false, false, false, false, false, true, true, true};

    Reliability r = Reliability.of(scores, labels);

    assertThat(r.texts()).isEqualTo(10);
    assertThat(r.positives()).isEqualTo(3);
    assertThat(r.baseRate()).isCloseTo(0.3, offset(1e-12));
    assertThat(r.meanScore()).isCloseTo(0.45, offset(1e-12));
    // negatives: 0 + .01 + .04 + .09 + .16 + .25 + .36 = .91; positives: .09 + .04 + .01 = .14
    assertThat(r.brier()).isCloseTo(0.105, offset(1e-12));
    assertThat(r.constantBrier()).isCloseTo(0.21, offset(1e-12));
    assertThat(r.brierSkill()).isCloseTo(0.5, offset(1e-12));
    // one text a bin: |p - y| summed = 2.1 (negatives) + 0.6 (positives), over 10
    assertThat(r.ece()).isCloseTo(0.27, offset(1e-12));
    assertThat(r.eceOverBaseRate()).isCloseTo(0.9, offset(1e-12));
  }

  @Test
  void shouldScoreAConstantAtTheBaseRateZeroAndAConstantZeroTheBaseRate() {
    // 7 positives in 8,280 texts, as sexual_minors on the model card
    boolean[] labels = new boolean[8280];
    for (int i = 0; i < 7; i++) {
      labels[i * 1000] = true;
    }
    double b = 7 / 8280.0;
    double[] atBaseRate = new double[labels.length];
    Arrays.fill(atBaseRate, b);
    double[] zero = new double[labels.length];

    Reliability constant = Reliability.of(atBaseRate, labels);
    Reliability zeros = Reliability.of(zero, labels);

    // ties stay in one bin: a constant is one bin, its mean score its positive rate
    assertThat(constant.ece()).isCloseTo(0, offset(1e-12));
    assertThat(constant.brier()).isCloseTo(b * (1 - b), offset(1e-12));
    assertThat(constant.brierSkill()).isCloseTo(0, offset(1e-9));
    assertThat(zeros.ece()).isCloseTo(b, offset(1e-12));
    assertThat(zeros.eceOverBaseRate()).isCloseTo(1, offset(1e-9));
    assertThat(zeros.brierSkill()).isNegative();
  }

  @Test
  void shouldShowOverConfidentScoresOfARareHead() {
    // 1,000 texts, 5 positive; a head that gives 0.9 to 20 texts, 2 of them positive, and 0.02 to
    // the rest (3 positives in 980): its ECE, 0.033, looks small until read against the base rate
    boolean[] labels = new boolean[1000];
    double[] scores = new double[1000];
    Arrays.fill(scores, 0.02);
    for (int i = 0; i < 20; i++) {
      scores[i] = 0.9;
    }
    labels[0] = true;
    labels[1] = true;
    labels[100] = true;
    labels[200] = true;
    labels[300] = true;

    Reliability r = Reliability.of(scores, labels);

    assertThat(r.meanScore() / r.baseRate()).isGreaterThan(7);
    assertThat(r.ece()).isCloseTo(0.0326, offset(1e-9));
    assertThat(r.eceOverBaseRate()).isGreaterThan(3);
    assertThat(r.brierSkill()).isNegative();
    List<Reliability.Bin> bins = r.bins();
    assertThat(bins).hasSize(Reliability.TABLE_BINS);
    assertThat(bins.get(0).texts()).isEqualTo(980);
    assertThat(bins.get(0).positives()).isEqualTo(3);
    assertThat(bins.get(0).meanScore()).isCloseTo(0.02, offset(1e-12));
    assertThat(bins.get(9).texts()).isEqualTo(20);
    assertThat(bins.get(9).positives()).isEqualTo(2);
    assertThat(bins.get(9).positiveRate()).isCloseTo(0.1, offset(1e-12));
    assertThat(bins.get(9).meanScore()).isCloseTo(0.9, offset(1e-12));
    assertThat(bins.subList(1, 9)).allSatisfy(bin -> assertThat(bin.texts()).isZero());
    // score 1.0 falls in the last bin
    assertThat(Reliability.equalWidthBins(new double[] {1.0}, new boolean[] {true}, 10).get(9))
        .isEqualTo(new Reliability.Bin(0.9, 1.0, 1, 1, 1.0));
  }

  @Test
  void shouldNotSplitARunOfTiedScoresAcrossEqualMassBins() {
    // 6 texts at 0.1 (1 positive) and 4 at 0.5 (2 positives); 10 bins asked for, 2 made
    double[] scores = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 0.5, 0.5};
    boolean[] labels = {true, false, false, false, false, false, true, true, false, false};

    // |0.6 - 1| + |2.0 - 2| over 10
    assertThat(Reliability.equalMassEce(scores, labels, 10)).isCloseTo(0.04, offset(1e-12));
  }
}
