package io.genguard.moderation.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What the default policy's comments claim about the scores, against what is measured. */
class DefaultPolicyCommentTest {
  @Test
  void shouldNotCallTheServedScoresCalibratedProbabilities() throws IOException {
    // The served score is a maximum over the whole text and its sentences (SentenceMaxScorer),
    // measured in QUALITY.md's calibration section, not a calibrated probability.
    String comments = comments(resource("/policies/default-policy.yaml"));

    assertThat(comments.toLowerCase(Locale.ROOT))
        .doesNotContain("scores are calibrated probabilities")
        .contains("calibration of the served scores");
  }

  @Test
  void shouldQuoteNoOptimalThresholdThatMetricsJsonDoesNotHold() throws IOException {
    String comments = comments(resource("/policies/default-policy.yaml"));
    String metrics = resource("/models/minilm-ensemble/metrics.json");
    List<String> best = new ArrayList<>();
    Matcher m = Pattern.compile("\"bestF1Threshold\"\\s*:\\s*([0-9.]+)").matcher(metrics);
    while (m.find()) {
      best.add(String.format(Locale.ROOT, "%.2f", Double.parseDouble(m.group(1))));
    }
    assertThat(best).isNotEmpty();

    // every number a comment gives as an optimal point is one of the current out-of-fold points
    Matcher quoted =
        Pattern.compile("(0\\.\\d+)\\)?[^.\\n]{0,20}optimal|optimal[^.\\n]{0,20}?(0\\.\\d+)")
            .matcher(comments);
    while (quoted.find()) {
      String number = quoted.group(1) != null ? quoted.group(1) : quoted.group(2);
      assertThat(best)
          .as("an optimal threshold the policy's comment quotes: %s", quoted.group())
          .contains(String.format(Locale.ROOT, "%.2f", Double.parseDouble(number)));
    }
  }

  /** The comment lines of a yaml file, their text after the '#'. */
  private static String comments(String yaml) {
    StringBuilder out = new StringBuilder();
    for (String line : yaml.split("\n")) {
      int hash = line.indexOf('#');
      if (hash >= 0) {
        out.append(line.substring(hash + 1).strip()).append('\n');
      }
    }
    return out.toString();
  }

  private static String resource(String path) throws IOException {
    try (InputStream in = DefaultPolicyCommentTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
