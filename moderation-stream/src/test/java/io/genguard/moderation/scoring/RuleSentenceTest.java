package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RuleSentenceTest {
  private static final String RUN_ON =
      "we walked along the river and talked about the garden and the new shed and the weather ";

  @Test
  void shouldReadAShortSentenceWhole() {
    assertThat(RuleSentence.of("I will call you. Bye!"))
        .containsExactly(
            new RuleSentence("I will call you.", "i will call you", false),
            new RuleSentence("Bye!", "bye", false));
  }

  @Test
  void shouldReadALongSentenceInOverlappingWindowsOfWholeWords() {
    String sentence = RUN_ON.repeat(20).strip(); // 1,759 characters, no sentence boundary

    List<RuleSentence> windows = RuleSentence.of(sentence);

    assertThat(windows).as("starting at 0, 300, 600, 900 and 1,200").hasSize(5);
    assertThat(windows.get(0).continued()).isFalse();
    assertThat(windows.subList(1, windows.size())).allMatch(RuleSentence::continued);
    assertThat(windows.get(0).sentence()).startsWith("we walked");
    assertThat(windows.get(windows.size() - 1).sentence()).endsWith("and the weather");
    int from = 0;
    for (RuleSentence window : windows) {
      int start = sentence.indexOf(window.sentence(), from);
      int end = start + window.sentence().length();
      assertThat(start).as("a window of the sentence, in order").isGreaterThanOrEqualTo(from);
      assertThat(start == 0 || sentence.charAt(start - 1) == ' ').as("starts a word").isTrue();
      assertThat(end == sentence.length() || sentence.charAt(end) == ' ')
          .as("ends a word")
          .isTrue();
      assertThat(window.sentence().length())
          .isLessThanOrEqualTo(RuleSentence.WINDOW_CHARS + 2 * RuleSentence.WORD_SLACK);
      from = start + 1;
    }
  }

  @Test
  void shouldCutAWordLongerThanTheSlackRatherThanReadItWhole() {
    List<RuleSentence> windows = RuleSentence.of("x".repeat(1_000));

    assertThat(windows)
        .extracting(window -> window.sentence().length())
        .containsExactly(600, 600, 400);
  }
}
