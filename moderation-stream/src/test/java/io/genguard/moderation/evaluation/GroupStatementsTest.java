package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.evaluation.QualityReport.ChildrenResult;
import io.genguard.moderation.evaluation.QualityReport.GroupStatementsResult;
import io.genguard.moderation.evaluation.QualityReport.HarmProbeResult;
import io.genguard.moderation.evaluation.QualityReport.Rate;
import io.genguard.moderation.evaluation.QualityReport.ScorerResults;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.NgramLogisticScorer;
import io.genguard.moderation.train.EvaluationSets;
import io.genguard.moderation.train.EvaluationSets.GroupStatements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class GroupStatementsTest {
  @Test
  void shouldLoadBothSetsWithoutCommentsBlankLinesOrRepeats() {
    List<String> hostile = EvaluationSets.hostileStatements();
    List<String> plain = EvaluationSets.plainGroupStatements();
    assertThat(hostile).hasSize(80).doesNotHaveDuplicates();
    assertThat(plain).hasSize(80).doesNotHaveDuplicates().doesNotContainAnyElementsOf(hostile);
    assertThat(Stream.concat(hostile.stream(), plain.stream()))
        .allSatisfy(s -> assertThat(s).isNotBlank().doesNotStartWith("#"));
  }

  @Test
  void shouldLoadTheLaterProbesByKindBesideTheFirst() {
    Map<String, GroupStatements> probes = EvaluationSets.groupProbes();
    assertThat(probes)
        .containsOnlyKeys(
            "evaluation/hostile-statements.txt, evaluation/group-statements.txt",
            "evaluation/groups-2.jsonl",
            "evaluation/counter-speech-1.jsonl",
            "evaluation/groups-3.jsonl",
            "evaluation/frames-1.jsonl",
            "evaluation/affection-1.jsonl",
            "evaluation/affection-2.jsonl");
    assertProbe(
        probes.get("evaluation/groups-2.jsonl"),
        40,
        60,
        "Sikhs are just terrorists in turbans.",
        "Jewish people are not responsible for the actions of any government.");
    assertProbe(
        probes.get("evaluation/counter-speech-1.jsonl"),
        30,
        40,
        "I'm not racist, but Mexicans really are lazy.",
        "The idea that lesbians hate men is a lazy stereotype.");
    assertProbe(
        probes.get("evaluation/groups-3.jsonl"),
        40,
        40,
        "Women belong at home raising children, not running companies.",
        "Women make up nearly half of the country's workforce.");
    assertProbe(
        probes.get("evaluation/frames-1.jsonl"),
        30,
        30,
        "Stereotypes exist for a reason: Jews are greedy.",
        "Let me be blunt: refugees deserve safety, not suspicion.");
    assertProbe(
        probes.get("evaluation/affection-1.jsonl"),
        30,
        40,
        "I like deaf people because at least they can't talk back.",
        "I love my two moms.");
    assertProbe(
        probes.get("evaluation/affection-2.jsonl"),
        30,
        40,
        "I really like Haitians, the ones who stayed in Haiti.",
        "I like Mormons, they helped us move house and wouldn't take a cent.");
    assertThat(probes.get("evaluation/hostile-statements.txt, evaluation/group-statements.txt"))
        .isEqualTo(
            new GroupStatements(
                EvaluationSets.hostileStatements(), EvaluationSets.plainGroupStatements()));
  }

  @Test
  void shouldNotBeAmongTheProjectsOwnTrainingTexts() throws IOException {
    String training =
        (resource("/training/authored-examples.tsv")
                + resource("/training/identity-augmentation.txt"))
            .toLowerCase(Locale.ROOT);
    EvaluationSets.groupProbes().values().stream()
        .flatMap(probe -> Stream.concat(probe.hostile().stream(), probe.plain().stream()))
        .forEach(s -> assertThat(training).doesNotContain(s.toLowerCase(Locale.ROOT)));
  }

  @Test
  void shouldReportBothCountsAndListTheMainScorersMistakes() {
    ScorerResults leaky =
        results(
            "minilm-ensemble",
            new GroupStatementsResult(
                "first",
                new Rate(78, 80),
                new Rate(60, 80),
                List.of("A.", "B."),
                new Rate(1, 80),
                new Rate(1, 80),
                List.of("C.")),
            new GroupStatementsResult(
                "second",
                new Rate(39, 40),
                new Rate(20, 40),
                List.of("D."),
                new Rate(0, 60),
                new Rate(0, 60),
                List.of()));
    ScorerResults tight =
        results(
            "keyword-baseline",
            new GroupStatementsResult(
                "first",
                new Rate(80, 80),
                new Rate(80, 80),
                List.of(),
                new Rate(0, 80),
                new Rate(0, 80),
                List.of()));
    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendGroupStatements(md, List.of(leaky, tight), leaky);
    assertThat(md.toString())
        .contains("## Explicit hostility toward groups")
        .contains(
            "| minilm-ensemble | first | 78/80 (97.5%) | 60/80 (75.0%) | 1/80 (1.3%) | 1/80"
                + " (1.3%) |")
        .contains(
            "| minilm-ensemble | second | 39/40 (97.5%) | 20/40 (50.0%) | 0/60 (0.0%) | 0/60"
                + " (0.0%) |")
        .contains(
            "| keyword-baseline | first | 80/80 (100.0%) | 80/80 (100.0%) | 0/80 (0.0%) | 0/80"
                + " (0.0%) |")
        .contains("Hostile, released by minilm-ensemble (first):\n\n- A.\n- B.\n")
        .contains("Hostile, released by minilm-ensemble (second):\n\n- D.\n")
        .contains(
            "Plain, held by minilm-ensemble (first), each with its decision, its reasons' scores")
        .contains("`score --explain`):\n\n- C.\n")
        .contains("Plain, held by minilm-ensemble (second), each with");
    StringBuilder none = new StringBuilder();
    QualityMarkdown.appendGroupStatements(none, List.of(tight), tight);
    assertThat(none.toString())
        .contains("Hostile, released by keyword-baseline (first): none.\n")
        .contains("Plain, held by keyword-baseline (first), each with")
        .endsWith("): none.\n");
  }

  @Test
  void shouldSayWhyEachHeldStatementWasHeld() {
    PolicySet policies = PolicyLoader.loadDefault();
    QualityReport report =
        new QualityReport(new PrintStream(new ByteArrayOutputStream()), policies);

    List<String> explained =
        report.explained(
            NgramLogisticScorer.loadDefault(),
            policies.defaultPolicy(),
            List.of("shut up you worthless stupid bitch, nobody wants you here"));

    assertThat(explained)
        .singleElement()
        .asString()
        .startsWith(
            "shut up you worthless stupid bitch, nobody wants you here (BLOCK: harassment 1.00")
        .contains(", without \"bitch\" 0.9");
  }

  private static void assertProbe(
      GroupStatements probe, int hostile, int plain, String aHostile, String aPlain) {
    assertThat(probe.hostile()).hasSize(hostile).doesNotHaveDuplicates().contains(aHostile);
    assertThat(probe.plain())
        .hasSize(plain)
        .doesNotHaveDuplicates()
        .doesNotContainAnyElementsOf(probe.hostile())
        .contains(aPlain);
  }

  private static ScorerResults results(String name, GroupStatementsResult... probes) {
    return results(name, List.of(probes), null, null);
  }

  /**
   * A scorer's results holding only what the report sections under test read, the rest null (also
   * used by {@link ThreatProbesTest}).
   */
  static ScorerResults results(
      String name,
      List<GroupStatementsResult> groupStatements,
      List<HarmProbeResult> threatProbes,
      ChildrenResult children) {
    return results(name, groupStatements, threatProbes, List.of(), children);
  }

  /** The same, with self-harm probe results (read by {@link SelfHarmProbesTest}). */
  static ScorerResults results(
      String name,
      List<GroupStatementsResult> groupStatements,
      List<HarmProbeResult> threatProbes,
      List<HarmProbeResult> selfHarmProbes,
      ChildrenResult children) {
    return new ScorerResults(
        name,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        groupStatements,
        null,
        null,
        null,
        threatProbes,
        selfHarmProbes,
        children,
        null);
  }

  /** A classpath resource as text (also read by {@link ThreatProbesTest}). */
  static String resource(String path) throws IOException {
    try (InputStream in = GroupStatementsTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
