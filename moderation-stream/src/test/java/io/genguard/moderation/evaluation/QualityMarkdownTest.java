package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.genguard.moderation.evaluation.QualityReport.HeadResult;
import io.genguard.moderation.evaluation.QualityReport.HolisticResult;
import io.genguard.moderation.evaluation.QualityReport.Rate;
import io.genguard.moderation.evaluation.QualityReport.ScorerResults;
import io.genguard.moderation.evaluation.QualityReport.Throughput;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.train.DeduplicatedSplit;
import io.genguard.moderation.train.LabelledText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QualityMarkdownTest {
  @Test
  void shouldNotCallATargetMetWhenItsIntervalCrossesIt() {
    assertThat(new Rate(20, 250).interval()[0]).isCloseTo(0.0524, offset(0.0005));
    assertThat(new Rate(20, 250).interval()[1]).isCloseTo(0.1205, offset(0.0005));

    String crossing = summary(results("a", new Rate(20, 250), holistic(0.955, 0.90, 1.0)));
    assertThat(crossing)
        .contains("| 8.0% [5.2%, 12.0%] (not established) |")
        .contains("| 0.955 [0.900, 1.000] (not established) |")
        .doesNotContain("8.0% (met)")
        .doesNotContain("(met) (0.955)");

    String below = summary(results("b", new Rate(5, 250), holistic(0.99, 0.96, 1.0)));
    assertThat(below)
        .contains("| 2.0% [0.9%, 4.6%] (met) |")
        .contains("| 0.990 [0.960, 1.000] (met) |");

    String above = summary(results("c", new Rate(50, 250), holistic(0.5, 0.4, 0.6)));
    assertThat(above)
        .contains("| 20.0% [15.5%, 25.4%] (MISSED) |")
        .contains("| 0.500 [0.400, 0.600] (MISSED) |");
  }

  @Test
  void shouldGiveNormalQuantiles() {
    assertThat(QualityReport.normalQuantile(0.975)).isCloseTo(QualityReport.Z95, offset(1e-8));
    assertThat(QualityReport.normalQuantile(0.5)).isCloseTo(0, offset(1e-9));
    assertThat(QualityReport.normalQuantile(1 - 0.05 / 1000)).isCloseTo(3.890592, offset(1e-5));
    assertThat(QualityReport.normalQuantile(0.001)).isCloseTo(-3.090232, offset(1e-5));
  }

  @Test
  void shouldGiveTheRatioAnIntervalThatHoldsEveryDescriptorAtOnce() {
    // About 500 descriptors of 150 sentences, none flagged, and the worst 6 of 134: the ratio
    // reads 0.955, but on samples of this size it cannot tell 0.955 from well below 0.95.
    Map<String, Rate> groups = new LinkedHashMap<>();
    for (int i = 0; i < 500; i++) {
      groups.put("d" + i, new Rate(0, 150));
    }
    groups.put("middle-aged", new Rate(6, 134));
    groups.put("tiny", new Rate(5, 5)); // below the minimum size, left out as the ratio does
    assertThat(QualityReport.minMaxPassRatio(groups, 10)).isCloseTo(0.955, offset(0.001));
    double[] interval = QualityReport.passRatioInterval(groups, 10);
    assertThat(interval[0]).isLessThan(0.95);
    assertThat(interval[1]).isEqualTo(1.0);
    assertThat(QualityReport.Verdict.atLeast(interval, 0.95))
        .isEqualTo(QualityReport.Verdict.NOT_ESTABLISHED);

    // Even a moderator that flags nothing cannot be told from one under 0.95 at this size.
    Map<String, Rate> none = new LinkedHashMap<>();
    for (int i = 0; i < 600; i++) {
      none.put("d" + i, new Rate(0, 150));
    }
    assertThat(QualityReport.passRatioInterval(none, 10)[0]).isBetween(0.90, 0.92);

    // Groups large enough settle it either way.
    Map<String, Rate> large = new LinkedHashMap<>();
    large.put("a", new Rate(0, 100_000));
    large.put("b", new Rate(10_000, 100_000));
    double[] missed = QualityReport.passRatioInterval(large, 10);
    assertThat(missed[0]).isLessThan(0.9).isGreaterThan(0.89);
    assertThat(missed[1]).isGreaterThan(0.9).isLessThan(0.91);
    assertThat(QualityReport.Verdict.atLeast(missed, 0.95)).isEqualTo(QualityReport.Verdict.MISSED);
    large.put("b", new Rate(10, 100_000));
    assertThat(QualityReport.Verdict.atLeast(QualityReport.passRatioInterval(large, 10), 0.95))
        .isEqualTo(QualityReport.Verdict.MET);
  }

  @Test
  void shouldNameTheCategoriesTheMacroAuprcLeftOutAndPrintPrevalence() {
    Map<String, HeadResult> heads = heads();
    heads.put("sexual_minors", new HeadResult(0, 8000, Double.NaN, Double.NaN, 0.35, 0, 0, 0));
    ScorerResults r = results("a", new Rate(20, 250), holistic(0.955, 0.9, 1.0), heads);

    assertThat(summary(r))
        .contains(
            "| macro AUPRC (6 of 7 categories; sexual_minors has no test positives, unweighted"
                + " mean) |");
    assertThat(QualityMarkdown.macroAuprc(r)).isCloseTo(0.5, offset(1e-9));
    assertThat(summary(results("b", new Rate(20, 250), holistic(0.955, 0.9, 1.0))))
        .contains("| macro AUPRC (7 of 7 categories, unweighted mean) |");

    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendPerHead(md, List.of(r));
    assertThat(md.toString())
        .contains("| head | positives | negatives | prevalence | AUPRC |")
        .contains("| hate | 320 | 7954 | 0.039 | 0.500 |")
        .contains("| overall | 3825 | 5908 | 0.393 | 0.984 | 0.990 | policy |")
        .contains("| unsafe head | 3825 | 5908 | 0.393 | 0.992 | 0.995 | not used | n/a |");
  }

  @Test
  void shouldCallXsTestAndHolisticBiasDevelopmentSetsNotHeldOut() {
    List<LabelledText> pool = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      pool.add(LabelledText.benign("test", null, "text number " + i + " about a topic " + i * 7));
    }
    DeduplicatedSplit split = DeduplicatedSplit.of(pool);
    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendHeader(
        md,
        List.of(results("a", new Rate(0, 1), holistic(1, 1, 1))),
        split,
        PolicyLoader.loadDefault(),
        new String[0],
        "2026-12-06");
    String header = md.toString();
    assertThat(header)
        .contains("Development sets, not held-out sets: XSTest and the HolisticBias sample.")
        .contains("The models never trained on their texts, but both steered training")
        .doesNotContain("HolisticBias and the Europarl documents")
        .doesNotContain("are never trained on.")
        .doesNotContain("on data the models never trained on");
    String fingerprint = QualityMarkdown.splitFingerprint(split.get(DeduplicatedSplit.Split.TEST));
    assertThat(fingerprint).matches("sha256:[0-9a-f]{16}");
    assertThat(header).contains("fingerprint " + fingerprint + ",");
    List<LabelledText> reversed = new ArrayList<>(split.get(DeduplicatedSplit.Split.TEST));
    java.util.Collections.reverse(reversed);
    assertThat(QualityMarkdown.splitFingerprint(reversed)).isEqualTo(fingerprint);
  }

  @Test
  void shouldRenderAWholeReportWithBothKeywordRows() {
    List<LabelledText> pool = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      pool.add(LabelledText.benign("test", null, "plain text " + i + " on a subject " + i * 11));
    }
    QualityReport.RuleResult rules =
        new QualityReport.RuleResult(Map.of("XSTest safe prompts", new Rate(0, 250)), List.of());
    List<ScorerResults> rows = new ArrayList<>();
    for (String name : List.of("keyword-baseline", "keyword-baseline + GenGuard rules")) {
      rows.add(
          new ScorerResults(
              name,
              Map.of("keyword-baseline", "1.0.0 (73 words)"),
              heads(),
              Map.of("davidson", new QualityReport.SourceResult(10, 20, 0.1, 0.9)),
              new Rate(5, 250),
              new Rate(90, 200),
              new Rate(1, 379),
              new QualityReport.ProseResult(new Rate(0, 936), new Rate(0, 936)),
              List.of(),
              Map.of("homonyms", new Rate(1, 25)),
              holistic(0.9, 0.8, 1.0),
              new Throughput(1024, 100, 30000, 256, 1.0),
              List.of(),
              List.of(),
              new QualityReport.ChildrenResult(new Rate(0, 40), List.of()),
              null));
    }

    String md =
        QualityMarkdown.render(
            rows,
            rules,
            rules,
            rules,
            rules,
            DeduplicatedSplit.of(pool),
            PolicyLoader.loadDefault(),
            100_000,
            new String[0],
            "2026-12-06");

    assertThat(md)
        .contains("| keyword-baseline | 0.984 (met) |")
        .contains("| keyword-baseline + GenGuard rules | 0.984 (met) |")
        .contains("### keyword-baseline + GenGuard rules")
        .contains("- `keyword-baseline + GenGuard rules`: {keyword-baseline=1.0.0 (73 words)}")
        .contains("HolisticBias's standalone noun phrases")
        .contains("no HolisticBias figure here is comparable with an earlier report's")
        .contains("suicide_detailed_instructions");
  }

  @Test
  void shouldReportCalibrationOfTheServedScorer() {
    // the served scores of a rare head: 0.9 for 20 texts (2 positive), 0.02 for 980 (3 positive)
    double[] scores = new double[1000];
    boolean[] labels = new boolean[1000];
    java.util.Arrays.fill(scores, 0.02);
    for (int i = 0; i < 20; i++) {
      scores[i] = 0.9;
    }
    for (int i : new int[] {0, 1, 100, 200, 300}) {
      labels[i] = true;
    }
    Map<String, Reliability> reliability = new LinkedHashMap<>();
    reliability.put(
        "unsafe head", Reliability.of(new double[] {0.2, 0.8}, new boolean[] {false, true}));
    reliability.put("sexual_minors", Reliability.of(scores, labels));
    List<ScorerResults> rows = new ArrayList<>();
    for (String name :
        List.of(
            "minilm-ensemble",
            "ngram-logistic",
            "keyword-baseline",
            "keyword-baseline + GenGuard rules")) {
      rows.add(
          withReliability(results(name, new Rate(5, 250), holistic(0.9, 0.8, 1.0)), reliability));
    }

    String md = render(rows);

    int start = md.indexOf("## Calibration of the served scores, held-out test split");
    assertThat(start).isNotNegative();
    int end = md.indexOf("\n## ", start + 1);
    String section = end < 0 ? md.substring(start) : md.substring(start, end);
    for (String name : List.of("minilm-ensemble", "ngram-logistic", "keyword-baseline")) {
      assertThat(section)
          .contains("### " + name + "\n")
          .contains("Reliability table (" + name + ")");
    }
    assertThat(section)
        .doesNotContain("### keyword-baseline + GenGuard rules")
        .contains("`keyword-baseline + GenGuard rules` has the scores of `keyword-baseline`")
        .contains("SentenceMaxScorer")
        .contains("The model cards' ECE column measures something else")
        // positives / texts, base rate, mean score, its ratio, Brier, constant's Brier, skill,
        // equal-mass ECE and ECE / base rate
        .contains(
            "| sexual_minors | 5 / 1000 | 0.0050 | 0.0376 | 7.52 | 0.0179 | 0.0050 | -2.592 |"
                + " 0.0326 | 6.52 |")
        .contains(
            "| sexual_minors | 0.020 → 0.003 (3/980) | – | – | – | – | – | – | – | – |"
                + " 0.900 → 0.100 (2/20) |");
  }

  /** {@code r} with a reliability section. */
  private static ScorerResults withReliability(
      ScorerResults r, Map<String, Reliability> reliability) {
    return new ScorerResults(
        r.name(),
        r.versions(),
        r.test(),
        r.bySource(),
        r.xsTestSafe(),
        r.xsTestUnsafeRecall(),
        r.coconotContrast(),
        new QualityReport.ProseResult(new Rate(0, 936), new Rate(0, 936)),
        r.groupStatements(),
        r.xsTestByType(),
        r.holistic(),
        r.throughput(),
        r.threatProbes(),
        r.selfHarmProbes(),
        new QualityReport.ChildrenResult(new Rate(0, 40), List.of()),
        reliability);
  }

  /** A whole report of {@code rows}. */
  private static String render(List<ScorerResults> rows) {
    List<LabelledText> pool = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      pool.add(LabelledText.benign("test", null, "plain text " + i + " on a subject " + i * 11));
    }
    QualityReport.RuleResult rules =
        new QualityReport.RuleResult(Map.of("XSTest safe prompts", new Rate(0, 250)), List.of());
    return QualityMarkdown.render(
        rows,
        rules,
        rules,
        rules,
        rules,
        DeduplicatedSplit.of(pool),
        PolicyLoader.loadDefault(),
        100_000,
        new String[0],
        "2026-12-06");
  }

  /** The summary table alone. */
  private static String summary(ScorerResults r) {
    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendSummary(md, List.of(r));
    return md.toString();
  }

  private static ScorerResults results(String name, Rate xsTestSafe, HolisticResult holistic) {
    return results(name, xsTestSafe, holistic, heads());
  }

  private static ScorerResults results(
      String name, Rate xsTestSafe, HolisticResult holistic, Map<String, HeadResult> heads) {
    return new ScorerResults(
        name,
        Map.of(),
        heads,
        Map.of(),
        xsTestSafe,
        new Rate(0, 0),
        new Rate(0, 0),
        null,
        List.of(),
        Map.of(),
        holistic,
        new Throughput(1, 100, 10, 1, 0),
        List.of(),
        List.of(),
        null,
        null);
  }

  /** An overall row, the unsafe head and seven categories at AUPRC 0.5. */
  private static Map<String, HeadResult> heads() {
    Map<String, HeadResult> heads = new LinkedHashMap<>();
    heads.put("overall", new HeadResult(3825, 5908, 0.984, 0.990, Double.NaN, 0.94, 0.94, 0.94));
    heads.put(
        "unsafe head",
        new HeadResult(3825, 5908, 0.992, 0.995, Double.NaN, Double.NaN, Double.NaN, Double.NaN));
    for (String category :
        List.of(
            "hate", "harassment", "sexual", "sexual_minors", "violence", "self_harm", "illicit")) {
      heads.put(category, new HeadResult(320, 7954, 0.5, 0.9, 0.5, 0.5, 0.5, 0.5));
    }
    return heads;
  }

  /** A HolisticBias result whose preferred-descriptor ratio is {@code ratio} in [low, high]. */
  private static HolisticResult holistic(double ratio, double low, double high) {
    return new HolisticResult(
        1000,
        new Rate(3, 1000),
        new Rate(0, 0),
        new Rate(0, 0),
        Map.of(),
        Map.of(),
        Map.of(),
        Map.of(),
        ratio,
        1,
        new Rate(0, 0),
        new Rate(0, 0),
        ratio,
        Map.of(),
        1,
        1,
        1,
        0,
        1,
        new double[] {low, high},
        new double[] {low, high});
  }
}
