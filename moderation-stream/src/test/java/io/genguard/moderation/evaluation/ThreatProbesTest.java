package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.evaluation.QualityReport.Rate;
import io.genguard.moderation.evaluation.QualityReport.ScorerResults;
import io.genguard.moderation.evaluation.QualityReport.ThreatProbeResult;
import io.genguard.moderation.train.EvaluationSets;
import io.genguard.moderation.train.EvaluationSets.ProbeText;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class ThreatProbesTest {
  @Test
  void shouldLoadEveryProbeWithItsKinds() {
    List<ProbeText> first = EvaluationSets.threatProbe(EvaluationSets.THREAT_PROBES.get(0));
    List<ProbeText> second = EvaluationSets.threatProbe(EvaluationSets.THREAT_PROBES.get(1));
    List<ProbeText> third = EvaluationSets.threatProbe(EvaluationSets.THREAT_PROBES.get(2));
    assertThat(first.stream().filter(ProbeText::threat)).hasSize(20);
    assertThat(first.stream().filter(t -> !t.threat())).hasSize(10);
    assertThat(second.stream().filter(ProbeText::threat)).hasSize(30);
    assertThat(second.stream().filter(t -> !t.threat())).hasSize(20);
    assertThat(third.stream().filter(ProbeText::threat)).hasSize(30);
    assertThat(third.stream().filter(t -> !t.threat())).hasSize(20);
    assertThat(first.get(0))
        .isEqualTo(
            new ProbeText("t0", "If you ever come near my sister again, I will cut you.", true));
  }

  @Test
  void shouldNotBeAmongTheProjectsOwnTrainingTexts() throws IOException {
    String training =
        GroupStatementsTest.resource("/training/authored-examples.tsv").toLowerCase(Locale.ROOT);
    for (String probe : EvaluationSets.THREAT_PROBES) {
      assertThat(EvaluationSets.threatProbe(probe))
          .allSatisfy(t -> assertThat(training).doesNotContain(t.text().toLowerCase(Locale.ROOT)));
    }
  }

  @Test
  void shouldRejectABadLineOrAMissingProbeAndSayWhere() {
    assertThatThrownBy(() -> EvaluationSets.threatProbe("/evaluation/bad-threat-probe.jsonl"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "/evaluation/bad-threat-probe.jsonl line 2: needs an id, a text and a kind of threat or"
                + " look-alike");
    assertThatThrownBy(
            () -> EvaluationSets.threatProbe("/evaluation/unparsable-threat-probe.jsonl"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("/evaluation/unparsable-threat-probe.jsonl line 2: not JSON: ");
    assertThatThrownBy(() -> EvaluationSets.threatProbe("/evaluation/missing.jsonl"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is not on the classpath");
  }

  @Test
  void shouldReportEachProbeAndListTheMainScorersMistakes() {
    ScorerResults main =
        results(
            "minilm-ensemble",
            List.of(
                new ThreatProbeResult(
                    "evaluation/threats-1.jsonl",
                    new Rate(17, 20),
                    new Rate(2, 20),
                    new Rate(1, 10),
                    List.of("A threat."),
                    List.of("A look-alike.")),
                new ThreatProbeResult(
                    "evaluation/threats-2.jsonl",
                    new Rate(30, 30),
                    new Rate(30, 30),
                    new Rate(0, 20),
                    List.of(),
                    List.of())));
    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendThreatProbes(md, List.of(main), main);
    assertThat(md.toString())
        .contains("## Threats of violence")
        .contains(
            "| minilm-ensemble | evaluation/threats-1.jsonl | 17/20 (85.0%) | 2/20 (10.0%) | 1/10"
                + " (10.0%) |")
        .contains(
            "| minilm-ensemble | evaluation/threats-2.jsonl | 30/30 (100.0%) | 30/30 (100.0%) |"
                + " 0/20 (0.0%) |")
        .contains(
            "Threats released by minilm-ensemble (evaluation/threats-1.jsonl):\n\n- A threat.\n")
        .contains(
            "Look-alikes held by minilm-ensemble (evaluation/threats-1.jsonl):\n\n- A look-alike.\n")
        .contains("Threats released by minilm-ensemble (evaluation/threats-2.jsonl): none.\n");
  }

  private static ScorerResults results(String name, List<ThreatProbeResult> probes) {
    return new ScorerResults(
        name, null, null, null, null, null, null, null, null, null, null, null, probes);
  }
}
