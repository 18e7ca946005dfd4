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
import java.util.Map;
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

  private static String resource(String path) throws IOException {
    try (InputStream in = ModelCardsTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
