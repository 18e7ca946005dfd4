package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.genguard.moderation.evaluation.QualityReport.HeadResult;
import io.genguard.moderation.evaluation.QualityReport.Measurement;
import io.genguard.moderation.policy.Policy;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.Thresholds;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.train.LabelledText;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QualityReportTest {
  @Test
  void shouldRankTheOverallRowByWhatThePolicyDecidesOn() {
    Policy policy = PolicyLoader.loadDefault().defaultPolicy();
    assertThat(policy.unsafe()).as("the default policy decides on categories only").isNull();
    double selfHarm = policy.categories().get(Category.SELF_HARM).review();
    double hate = policy.categories().get(Category.HATE).review();
    // Unsafe texts score just above self-harm's REVIEW threshold, benign ones just below hate's,
    // which is higher: by the raw highest score the benign texts come first, by score over
    // threshold (what the policy acts on) the unsafe ones do. The unsafe head ranks them backwards.
    assertThat(0.9 * hate).isGreaterThan(1.1 * selfHarm);
    List<LabelledText> test = new ArrayList<>();
    List<ContentScores> scores = new ArrayList<>();
    List<Boolean> flagged = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      boolean unsafe = i % 3 == 0;
      test.add(
          unsafe
              ? LabelledText.unsafe(
                  "test",
                  null,
                  "u" + i,
                  EnumSet.of(Category.SELF_HARM),
                  EnumSet.noneOf(Category.class))
              : LabelledText.benign("test", null, "b" + i));
      scores.add(
          unsafe
              ? scores(0.0, Category.SELF_HARM, 1.1 * selfHarm)
              : scores(1.0, Category.HATE, 0.9 * hate));
      flagged.add(unsafe);
    }

    Map<String, HeadResult> heads =
        QualityReport.testHeads(policy, test, scores, QualityReport.toArray(flagged));

    HeadResult overall = heads.get(QualityReport.OVERALL);
    assertThat(overall.positives()).isEqualTo(10);
    assertThat(overall.auprc()).isEqualTo(1.0);
    assertThat(overall.f1()).isEqualTo(1.0);
    HeadResult unsafeHead = heads.get(QualityReport.UNSAFE_HEAD);
    assertThat(unsafeHead.auprc()).isCloseTo(10 / 30.0, offset(0.01));
    assertThat(unsafeHead.threshold()).isNaN();
    assertThat(unsafeHead.f1()).as("the policy does not use the head").isNaN();
    assertThat(heads.keySet())
        .containsExactly(
            "overall",
            "unsafe head",
            "hate",
            "harassment",
            "sexual",
            "sexual_minors",
            "violence",
            "self_harm",
            "illicit");
    assertThat(heads.get("self_harm").auprc()).isEqualTo(1.0);
  }

  @Test
  void shouldRankAPolicyWithAReviewThresholdOfZeroWithoutAnInfiniteScore() {
    Policy defaults = PolicyLoader.loadDefault().defaultPolicy();
    Map<Category, Thresholds> categories = new EnumMap<>(defaults.categories());
    // Self-harm held at any score (QualityReport --policy FILE with "review: 0").
    categories.put(Category.SELF_HARM, new Thresholds(0, 0.5));
    Policy policy =
        new Policy(
            defaults.policyId(),
            defaults.version(),
            categories,
            defaults.unsafe(),
            defaults.targetedBias(),
            defaults.provenance(),
            defaults.failures(),
            defaults.screening(),
            defaults.threats(),
            defaults.sexualizedMinors(),
            defaults.framedPrejudice(),
            defaults.selfHarm());
    double hate = policy.categories().get(Category.HATE).review();
    // The zero threshold holds every text, whatever it scores: each ranks at the largest score,
    // above any score over a threshold, and finite.
    double held = QualityReport.decisionScore(policy, scores(0.0, Category.HATE, 0.0));
    assertThat(held).isFinite().isEqualTo(Double.MAX_VALUE);
    assertThat(QualityReport.decisionScore(policy, scores(1.0, Category.HATE, 1.0)))
        .isEqualTo(held);
    assertThat(QualityReport.decisionScore(defaults, scores(1.0, Category.HATE, 1.0)))
        .isLessThan(held)
        .isGreaterThan(1 / hate - 1e-9);
    List<LabelledText> test = new ArrayList<>();
    List<ContentScores> scores = new ArrayList<>();
    List<Boolean> flagged = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      boolean unsafe = i % 2 == 0;
      test.add(
          unsafe
              ? LabelledText.unsafe(
                  "test",
                  null,
                  "u" + i,
                  EnumSet.of(Category.SELF_HARM),
                  EnumSet.noneOf(Category.class))
              : LabelledText.benign("test", null, "b" + i));
      scores.add(unsafe ? scores(0.0, Category.SELF_HARM, 0.9) : scores(0.0, Category.HATE, 0.1));
      flagged.add(true);
    }

    // Measured, not refused: all tied, so the AUPRC is the share of unsafe texts.
    HeadResult overall =
        QualityReport.testHeads(policy, test, scores, QualityReport.toArray(flagged))
            .get(QualityReport.OVERALL);
    assertThat(overall.positives()).isEqualTo(10);
    assertThat(overall.auprc()).isCloseTo(0.5, offset(0.01));
  }

  @Test
  void shouldMeasureTheKeywordBaselineWithoutTheStereotypeHeadAndRules() {
    List<Measurement> rows =
        QualityReport.measurements(
            List.of(ScorerConfig.fromOptions(KeywordBaselineScorer.NAME, Map.of())));
    assertThat(rows)
        .extracting(Measurement::name)
        .containsExactly("keyword-baseline", "keyword-baseline + GenGuard rules");
    assertThat(rows).extracting(Measurement::scoresOnly).containsExactly(true, false);

    PolicySet policies = PolicyLoader.loadDefault();
    Policy policy = policies.defaultPolicy();
    QualityReport report =
        new QualityReport(new PrintStream(new ByteArrayOutputStream()), policies);
    KeywordBaselineScorer keywords = KeywordBaselineScorer.loadDefault();
    // No listed word: the word list scores 0; the stereotype head sends it to review.
    String plain = "Trans people are just people living their lives.";
    // A threat pattern, no listed word.
    String threat = "I know where you live and I am going to hurt you and your family tonight.";
    for (String text : List.of(plain, threat)) {
      assertThat(keywords.score(text).unsafe()).isZero();
      assertThat(report.scoresOnly().flagged(policy, text, keywords.score(text)))
          .as("the plain word list on %s", text)
          .isFalse();
      assertThat(report.flagged(policy, text, keywords.score(text)))
          .as("the word list with GenGuard's rules on %s", text)
          .isTrue();
    }
  }

  private static ContentScores scores(double unsafe, Category category, double score) {
    Map<Category, Double> categories = new EnumMap<>(Category.class);
    for (Category c : Category.values()) {
      categories.put(c, c == category ? score : 0.0);
    }
    return new ContentScores(unsafe, categories);
  }
}
