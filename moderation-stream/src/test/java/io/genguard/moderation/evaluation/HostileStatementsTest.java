package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.evaluation.QualityReport.HostileResult;
import io.genguard.moderation.evaluation.QualityReport.Rate;
import io.genguard.moderation.evaluation.QualityReport.ScorerResults;
import io.genguard.moderation.train.EvaluationSets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class HostileStatementsTest {
  @Test
  void shouldLoadTheStatementsWithoutCommentsBlankLinesOrRepeats() {
    List<String> statements = EvaluationSets.hostileStatements();
    assertThat(statements).hasSize(80).doesNotHaveDuplicates();
    assertThat(statements).allSatisfy(s -> assertThat(s).isNotBlank().doesNotStartWith("#"));
  }

  @Test
  void shouldNotBeAmongTheProjectsOwnTrainingTexts() throws IOException {
    String training =
        (resource("/training/authored-examples.tsv")
                + resource("/training/identity-augmentation.txt"))
            .toLowerCase(Locale.ROOT);
    for (String statement : EvaluationSets.hostileStatements()) {
      assertThat(training).doesNotContain(statement.toLowerCase(Locale.ROOT));
    }
  }

  @Test
  void shouldReportHowManyWereHeldAndListTheReleasedOnes() {
    ScorerResults leaky =
        results("minilm-ensemble", new HostileResult(new Rate(78, 80), List.of("A.", "B.")));
    ScorerResults tight =
        results("keyword-baseline", new HostileResult(new Rate(80, 80), List.of()));
    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendHostile(md, List.of(leaky, tight), leaky);
    assertThat(md.toString())
        .contains("## Explicit hostility toward groups")
        .contains("| minilm-ensemble | 78/80 (97.5%) |")
        .contains("| keyword-baseline | 80/80 (100.0%) |")
        .contains("Released by minilm-ensemble:\n\n- A.\n- B.\n");
    StringBuilder none = new StringBuilder();
    QualityMarkdown.appendHostile(none, List.of(tight), tight);
    assertThat(none.toString()).endsWith("Released by keyword-baseline: none.\n");
  }

  private static ScorerResults results(String name, HostileResult hostile) {
    return new ScorerResults(
        name, null, null, null, null, null, null, null, hostile, null, null, null);
  }

  private static String resource(String path) throws IOException {
    try (InputStream in = HostileStatementsTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
