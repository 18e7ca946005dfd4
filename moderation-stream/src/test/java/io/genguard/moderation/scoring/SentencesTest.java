package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SentencesTest {
  @Test
  void shouldSplitAfterSentencePunctuationAndAtLineBreaks() {
    assertThat(Sentences.split("Hello there. How are you?\nFine! \"Really.\" Yes"))
        .containsExactly("Hello there.", "How are you?", "Fine!", "\"Really.\"", "Yes");
  }

  @Test
  void shouldKeepATextWithoutBoundariesWhole() {
    assertThat(Sentences.split("no punctuation at all")).containsExactly("no punctuation at all");
  }

  @Test
  void shouldPackWholeSentencesIntoChunks() {
    String text = "One two three. Four five six. Seven eight nine ten eleven.";
    assertThat(Sentences.chunks(text, 6))
        .containsExactly("One two three. Four five six.", "Seven eight nine ten eleven.");
    assertThat(Sentences.chunks("a b c d e f g", 3)).containsExactly("a b c", "d e f", "g");
  }
}
