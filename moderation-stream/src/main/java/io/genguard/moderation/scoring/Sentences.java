package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Splits text into sentences: after . ! ? (and closing quotes) followed by space, and at line
 * breaks.
 */
public final class Sentences {
  private static final Pattern BOUNDARY = Pattern.compile("(?<=[.!?][\"')\\]]?)\\s+|\\s*\\n+\\s*");

  private Sentences() {}

  /** Non-blank sentences in order; a text without boundaries is one sentence. */
  public static List<String> split(String text) {
    List<String> sentences = new ArrayList<>();
    for (String part : BOUNDARY.split(text)) {
      if (!part.isBlank()) {
        sentences.add(part.strip());
      }
    }
    if (sentences.isEmpty()) {
      sentences.add(text);
    }
    return sentences;
  }

  /**
   * Sentences packed into chunks of at most {@code maxWords} words (a longer sentence is split).
   */
  public static List<String> chunks(String text, int maxWords) {
    List<String> chunks = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int words = 0;
    for (String sentence : split(text)) {
      String[] sentenceWords = sentence.split("\\s+");
      if (words > 0 && words + sentenceWords.length > maxWords) {
        chunks.add(current.toString());
        current.setLength(0);
        words = 0;
      }
      for (String word : sentenceWords) {
        if (words == maxWords) {
          chunks.add(current.toString());
          current.setLength(0);
          words = 0;
        }
        if (words > 0) {
          current.append(' ');
        }
        current.append(word);
        words++;
      }
    }
    if (words > 0 || chunks.isEmpty()) {
      chunks.add(current.toString());
    }
    return chunks;
  }
}
