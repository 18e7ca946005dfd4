package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SentencesTest {
  /** The pattern the scan replaced; it must split every text the same way. */
  private static final Pattern REFERENCE = Pattern.compile("(?<=[.!?][\"')\\]]?)\\s+|\\s*\\n+\\s*");

  private static List<String> reference(String text) {
    List<String> sentences = new ArrayList<>();
    for (String part : REFERENCE.split(text)) {
      if (!part.isBlank()) {
        sentences.add(part.strip());
      }
    }
    if (sentences.isEmpty()) {
      sentences.add(text);
    }
    return sentences;
  }

  @Test
  void shouldSplitExactlyAsTheReferencePatternDoes() {
    // Random texts over the characters the pattern cares about, plus letters and Unicode spaces.
    String alphabet = "ab .!?\"')]([\n\r\t\u000B\f\u00A0\u2009\u2028x";
    Random random = new Random(20261203);
    for (int n = 0; n < 200_000; n++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(24);
      for (int i = 0; i < length; i++) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String t = text.toString();
      assertThat(Sentences.split(t))
          .as("%s", t.codePoints().boxed().toList())
          .isEqualTo(reference(t));
    }
  }

  @Test
  void shouldSplitEdgeCasesAsTheReferencePatternDoes() {
    for (String text :
        List.of(
            "",
            " ",
            "\n",
            "a.",
            ". a",
            " . a",
            "a.\" b",
            "a.'' b",
            "a)\nb",
            "a. \n b",
            "a \n\n b. c! d? e",
            "Dr. Smith arrived. He said \"hi.\" Then left!",
            "tail. ")) {
      assertThat(Sentences.split(text)).as(text).isEqualTo(reference(text));
    }
  }

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
