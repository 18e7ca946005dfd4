package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.scoring.NgramLogisticScorer;
import io.genguard.moderation.scoring.SentenceMaxScorer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed QUALITY.md must come from the committed code: the scorer versions its header
 * records are the ones this build reports. It fails after a change to a scorer until the quality
 * command is run again and its QUALITY.md committed.
 */
class QualityMarkdownVersionsTest {
  private static final Pattern SCORER_LINE = Pattern.compile("^- `([^`]+)`: \\{(.*)}$");

  @Test
  void shouldRecordTheScorerVersionsOfTheCommittedCode() throws IOException {
    Map<String, Map<String, String>> recorded = recordedVersions(Path.of("QUALITY.md"));
    assertThat(recorded).containsKeys("minilm-ensemble", "ngram-logistic", "keyword-baseline");
    String ngram = NgramLogisticScorer.loadDefault().versions().get(NgramLogisticScorer.NAME);
    for (String scorer : new String[] {"minilm-ensemble", "ngram-logistic"}) {
      assertThat(recorded.get(scorer))
          .as("%s in QUALITY.md", scorer)
          .containsEntry(SentenceMaxScorer.NAME, SentenceMaxScorer.VERSION)
          .containsEntry(NgramLogisticScorer.NAME, ngram);
    }
    assertThat(recorded.get("keyword-baseline"))
        .isEqualTo(KeywordBaselineScorer.loadDefault().versions());
  }

  /** Scorer name to its recorded versions, from the header's "- `name`: {k=v, ...}" lines. */
  static Map<String, Map<String, String>> recordedVersions(Path qualityMd) throws IOException {
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(qualityMd, StandardCharsets.UTF_8)) {
      if (line.startsWith("## ")) {
        break;
      }
      Matcher m = SCORER_LINE.matcher(line);
      if (m.matches()) {
        Map<String, String> versions = new LinkedHashMap<>();
        for (String entry : m.group(2).split(", (?=[^=, ]+=)")) {
          int eq = entry.indexOf('=');
          versions.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        out.putIfAbsent(m.group(1), versions);
      }
    }
    return out;
  }
}
