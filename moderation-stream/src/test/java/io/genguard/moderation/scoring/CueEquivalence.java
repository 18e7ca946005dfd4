package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/** The check every pattern rule's test makes: its word cues ({@link CueTrie}) change no result. */
final class CueEquivalence {
  private CueEquivalence() {}

  /** The texts of the authored training examples (1,000+ sentences of every kind). */
  static List<String> authoredExamples() throws IOException {
    List<String> texts = new ArrayList<>();
    try (InputStream in =
        CueEquivalence.class.getResourceAsStream("/training/authored-examples.tsv")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.startsWith("#") && line.contains("\t")) {
          texts.add(line.substring(line.indexOf('\t') + 1));
        }
      }
    }
    return texts;
  }

  /**
   * Asserts that {@code find} (text, use the cues) gives the same matches with and without the cues
   * on every text, and that it matched more than {@code atLeast} of them, so the check is not
   * vacuous.
   */
  static void assertCuesChangeNothing(
      List<String> texts, BiFunction<String, Boolean, List<RuleMatch>> find, int atLeast) {
    assertThat(texts).hasSizeGreaterThan(1000);
    int matched = 0;
    for (String text : texts) {
      List<RuleMatch> withCues = find.apply(text, true);
      assertThat(withCues).as(text).isEqualTo(find.apply(text, false));
      matched += withCues.isEmpty() ? 0 : 1;
    }
    assertThat(matched).isGreaterThan(atLeast);
  }
}
