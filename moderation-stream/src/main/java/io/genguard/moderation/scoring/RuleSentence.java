package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.List;

/**
 * A sentence as the rules read it: cut at {@link ThreatPatterns#MAX_SENTENCE_CHARS}, and its words
 * normalized once ({@link ThreatPatterns#normalize}), so that the threat rules and the prejudice
 * frames, which both read every sentence of every output, do not split and normalize it twice.
 *
 * @param sentence the sentence as written, cut
 * @param words its words, lower case, contractions expanded, single spaces; empty when it has none
 */
public record RuleSentence(String sentence, String words) {
  /** The sentences of {@code text} in order; none for a null or blank text. */
  public static List<RuleSentence> of(String text) {
    if (text == null || text.isBlank()) {
      return List.of();
    }
    List<RuleSentence> sentences = new ArrayList<>();
    for (String sentence : Sentences.split(text)) {
      String cut = cut(sentence);
      sentences.add(new RuleSentence(cut, ThreatPatterns.normalize(cut)));
    }
    return sentences;
  }

  /** The sentence cut at {@link ThreatPatterns#MAX_SENTENCE_CHARS}. */
  static String cut(String sentence) {
    return sentence.length() > ThreatPatterns.MAX_SENTENCE_CHARS
        ? sentence.substring(0, ThreatPatterns.MAX_SENTENCE_CHARS)
        : sentence;
  }
}
