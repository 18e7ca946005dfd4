package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WordOcclusionTest {
  /** Hate 0.9 while "vermin" is in the text, 0.6 with only "filthy", else 0.1; violence 0.1. */
  private final List<String> scored = new ArrayList<>();

  private final ContentScorer keywords =
      new ContentScorer() {
        @Override
        public List<ContentScores> scoreBatch(List<String> texts) {
          scored.addAll(texts);
          List<ContentScores> out = new ArrayList<>();
          for (String text : texts) {
            String lower = text.toLowerCase();
            double hate = lower.contains("vermin") ? 0.9 : lower.contains("filthy") ? 0.6 : 0.1;
            Map<Category, Double> categories = new EnumMap<>(Category.class);
            for (Category category : Category.values()) {
              categories.put(category, category == Category.HATE ? hate : 0.1);
            }
            out.add(new ContentScores(hate, categories));
          }
          return out;
        }

        @Override
        public Map<String, String> versions() {
          return Map.of("keywords", "1");
        }
      };

  @Test
  void shouldNameTheWordsWhoseRemovalLowersTheScoreStrongestFirst() {
    String text = "Those filthy people are Vermin, vermin I say.";
    ContentScores scores = keywords.score(text);

    Map<Category, List<WordOcclusion.Evidence>> evidence =
        new WordOcclusion(keywords).explain(text, scores, Set.of(Category.HATE, Category.VIOLENCE));

    assertThat(evidence.get(Category.HATE))
        .containsExactly(new WordOcclusion.Evidence("vermin", 0.6));
    assertThat(evidence.get(Category.VIOLENCE)).as("nothing moves violence").isEmpty();
    assertThat(scored).contains("Those filthy people are , I say.");
  }

  @Test
  void shouldRemoveWholeWordsInAnyCaseAndSkipATextThatWouldBeEmpty() {
    assertThat(WordOcclusion.without("Vermin! not verminous, VERMIN.", "vermin"))
        .isEqualTo("! not verminous, .");
    assertThat(WordOcclusion.without("don't stop", "don")).isEqualTo("don't stop");
    ContentScores scores = keywords.score("vermin");

    assertThat(new WordOcclusion(keywords).explain("vermin", scores, Set.of(Category.HATE)))
        .containsEntry(Category.HATE, List.of());
  }

  @Test
  void shouldTryAtMostTheFirstSixtyFourDistinctWords() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      text.append("word").append(i).append(' ');
    }
    List<String> words = WordOcclusion.distinctWords(text + "word1 vermin");

    assertThat(words).hasSize(WordOcclusion.MAX_WORDS).startsWith("word0", "word1");
    assertThat(words).doesNotContain("vermin");
  }

  @Test
  void shouldReadAWordOfThousandsOfApostrophesWithoutRunningOutOfStack() {
    // The apostrophe loop once recursed per repetition: 4,000 of them threw StackOverflowError.
    String hostile = "a'".repeat(4_000) + "a";

    assertThat(WordOcclusion.distinctWords("you idiot " + hostile))
        .containsExactly("you", "idiot", hostile);
  }

  @Test
  void shouldKeepContractionsAndPossessivesWholeAndDropStrayApostrophes() {
    assertThat(
            WordOcclusion.distinctWords(
                "Don't touch O'Brien's rock 'n' roll, ya'll' 42's 'quoted'"))
        .containsExactly(
            "don't", "touch", "o'brien's", "rock", "n", "roll", "ya'll", "42's", "quoted");
  }
}
