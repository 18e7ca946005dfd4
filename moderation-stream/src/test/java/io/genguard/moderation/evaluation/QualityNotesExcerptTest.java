package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.genguard.moderation.train.DataDirectory;
import io.genguard.moderation.train.DeduplicatedSplit;
import io.genguard.moderation.train.LabelledText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The data README forbids committing copies or excerpts of the shared sets: the text the report
 * writes about them cites a behaviour by its id. Needs the shared data folder (HarmBench's
 * behaviours); skipped without it.
 */
class QualityNotesExcerptTest {
  private static final int SHINGLE = 8;

  @Test
  void shouldQuoteNoHarmBenchBehaviour() throws IOException {
    Path harmBench;
    try {
      harmBench =
          DataDirectory.resolve(null)
              .resolve(
                  "safety/AdversariaLLM/data/behavior_datasets/harmbench_behaviors_text_all.csv");
    } catch (IllegalStateException e) {
      harmBench = null;
    }
    assumeTrue(harmBench != null && Files.isRegularFile(harmBench), "needs HarmBench's behaviours");
    Set<String> behaviourShingles = new HashSet<>();
    com.fasterxml.jackson.dataformat.csv.CsvMapper csv =
        new com.fasterxml.jackson.dataformat.csv.CsvMapper();
    try (com.fasterxml.jackson.databind.MappingIterator<java.util.Map<String, String>> rows =
        csv.readerForMapOf(String.class)
            .with(com.fasterxml.jackson.dataformat.csv.CsvSchema.emptySchema().withHeader())
            .readValues(harmBench.toFile())) {
      while (rows.hasNext()) {
        behaviourShingles.addAll(shingles(rows.next().get("Behavior")));
      }
    }
    assertThat(behaviourShingles).hasSizeGreaterThan(1000);
    List<LabelledText> pool = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      pool.add(LabelledText.benign("test", null, "benign text " + i + " of the pool " + i * 3));
    }
    StringBuilder md = new StringBuilder();
    QualityMarkdown.appendNotes(md, DeduplicatedSplit.of(pool));

    Set<String> quoted = shingles(md.toString());
    quoted.retainAll(behaviourShingles);
    assertThat(quoted).isEmpty();
  }

  private static Set<String> shingles(String text) {
    String[] words = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9' ]", " ").split("\\s+");
    Set<String> out = new HashSet<>();
    for (int i = 0; i + SHINGLE <= words.length; i++) {
      out.add(String.join(" ", java.util.Arrays.copyOfRange(words, i, i + SHINGLE)));
    }
    return out;
  }
}
