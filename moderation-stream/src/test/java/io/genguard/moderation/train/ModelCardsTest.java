package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.moderation.scoring.SentenceMaxScorer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCardsTest {
  @Test
  void shouldWriteTheShippedEnsembleCardFromItsMetricsWithTheScorerThatServesIt(@TempDir Path dir)
      throws IOException {
    // Every sentence of the shipped card comes from the train command: a sentence added by hand
    // is dropped by the next retraining.
    Map<String, Object> metrics =
        new ObjectMapper()
            .readValue(resource("/models/minilm-ensemble/metrics.json"), new TypeReference<>() {});
    Path card = dir.resolve("MODEL_CARD.md");
    ModelCards.writeEnsembleCard(card, metrics, new String[] {"--model", "all"});

    String written = Files.readString(card, StandardCharsets.UTF_8);
    assertThat(written).contains("`SentenceMaxScorer` " + SentenceMaxScorer.VERSION);
    assertThat(written).isEqualTo(resource("/models/minilm-ensemble/MODEL_CARD.md"));
  }

  @Test
  void shouldWriteTheShippedNgramAndStereotypeCardsFromTheirMetrics(@TempDir Path dir)
      throws IOException {
    // The committed cards are the train command's output, not hand edits: checked here for the two
    // other cards too, so that what the tests below read is what the code writes.
    Path ngram = dir.resolve("ngram.md");
    ModelCards.writeNgramCard(
        ngram, metrics("/models/ngram-logistic/metrics.json"), new String[] {"--model", "all"});
    assertThat(Files.readString(ngram, StandardCharsets.UTF_8))
        .isEqualTo(resource("/models/ngram-logistic/MODEL_CARD.md"));
    Path stereotype = dir.resolve("stereotype.md");
    ModelCards.writeStereotypeCard(
        stereotype, metrics("/models/stereotype/metrics.json"), new String[] {"--model", "all"});
    assertThat(Files.readString(stereotype, StandardCharsets.UTF_8))
        .isEqualTo(resource("/models/stereotype/MODEL_CARD.md"));
  }

  /** Bars and reasons on test-split figures, as QUALITY.md's notes word them. */
  private static final Pattern READS_THE_TEST_SPLIT =
      Pattern.compile("on the test split|AUPRC at least|held-out ToxiGen");

  @Test
  void shouldNotClaimTheTestSplitDecidedNothingAndNameEveryDecisionThatReadIt() throws IOException {
    // The cards said "test is never used for any choice" while QUALITY.md records keep-or-reject
    // bars on test-split figures, and called nothing of the validation split's being trained on.
    Path quality = Path.of("QUALITY.md");
    assertThat(quality)
        .as("moderation-stream/QUALITY.md, read from the module's directory")
        .exists();
    List<String> notesOnTest = new ArrayList<>();
    String notes = Files.readString(quality, StandardCharsets.UTF_8);
    notes = notes.substring(notes.indexOf("## How to read these numbers"));
    for (String line : notes.split("\n")) {
      if (line.startsWith("- **") && READS_THE_TEST_SPLIT.matcher(line).find()) {
        String title = line.substring(4, line.indexOf("**", 4));
        notesOnTest.add(title.endsWith(".") ? title.substring(0, title.length() - 1) : title);
      }
    }
    assertThat(notesOnTest).as("QUALITY.md's notes name test-split bars").hasSizeGreaterThan(4);

    for (String card :
        List.of(
            "/models/ngram-logistic/MODEL_CARD.md",
            "/models/minilm-ensemble/MODEL_CARD.md",
            "/models/stereotype/MODEL_CARD.md")) {
      String written = resource(card);
      assertThat(written).as(card).doesNotContain("never used for any choice");
      assertThat(written).as(card).contains("## What the test split was used for");
      for (String note : notesOnTest) {
        assertThat(written)
            .as(card + " names the decision of QUALITY.md's note")
            .contains("- \"" + note + "\": ");
      }
    }
    for (String card :
        List.of("/models/ngram-logistic/MODEL_CARD.md", "/models/minilm-ensemble/MODEL_CARD.md")) {
      assertThat(resource(card))
          .as(card)
          .contains("the validation split is training data of these models, not a held-out set");
    }
  }

  @Test
  void shouldStateTheTermsOfTheTrainingDataAndWhatItDoesNotSettle() throws IOException {
    assertThat(Path.of("../pom.xml"))
        .as("the repository root, from the module's directory")
        .exists();
    boolean rootLicense =
        Files.exists(Path.of("../LICENSE"))
            || Files.exists(Path.of("../LICENSE.md"))
            || Files.exists(Path.of("../LICENSE.txt"));
    for (String card :
        List.of(
            "/models/ngram-logistic/MODEL_CARD.md",
            "/models/minilm-ensemble/MODEL_CARD.md",
            "/models/stereotype/MODEL_CARD.md")) {
      String written = resource(card);
      assertThat(written).as(card).contains("## License and intended use");
      String section = written.substring(written.indexOf("## License and intended use"));
      assertThat(section)
          .as(card)
          .contains("toxigen/: MIT + CDLA-Permissive-2.0")
          .contains("bold/: CC BY-SA 4.0")
          .contains("ToxiGen's authors intend research use")
          .contains("is not settled")
          .doesNotContain("holistic_bias") // evaluation only: not a source of the weights
          .doesNotContain("exaggerated-safety");
      // Says the repository names no license only while that is true: a LICENSE added at the root
      // must come with a card that names it.
      assertThat(section.contains("the repository named no license"))
          .as(card + " on the project's license; root LICENSE present: " + rootLicense)
          .isEqualTo(!rootLicense);
    }
  }

  private static Map<String, Object> metrics(String path) throws IOException {
    return new ObjectMapper().readValue(resource(path), new TypeReference<>() {});
  }

  private static String resource(String path) throws IOException {
    try (InputStream in = ModelCardsTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
