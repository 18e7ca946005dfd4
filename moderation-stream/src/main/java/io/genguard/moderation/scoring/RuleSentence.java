package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A sentence as the rules read it, its words normalized once ({@link ThreatPatterns#normalize}), so
 * that the threat rules and the prejudice frames, which both read every sentence of every output,
 * do not split and normalize it twice.
 *
 * <p>A sentence longer than {@value #WINDOW_CHARS} characters is read in windows of that length,
 * each starting {@value #WINDOW_STEP} characters after the one before, so that every match up to
 * {@value #WINDOW_STEP} characters long lies whole inside one window and a rule's cost stays that
 * of a window, not of the whole sentence (a run-on text without punctuation is one sentence). Each
 * window's edges move out to keep the words at its edges whole (by at most {@value #WORD_SLACK}
 * characters). A finder counts a sentence once: after a match it skips the windows of the same
 * sentence that follow ({@link #continued}).
 *
 * @param sentence the sentence as written, or the window of it
 * @param words its words, lower case, contractions expanded, single spaces; empty when it has none
 * @param continued whether this is the second or a later window of one long sentence
 */
public record RuleSentence(String sentence, String words, boolean continued) {
  /** Characters the rules read at once. */
  static final int WINDOW_CHARS = 600;

  /** How far each window of a long sentence starts after the one before: half a window. */
  static final int WINDOW_STEP = 300;

  /** How far a window's edge moves out to keep a word whole before it cuts the word. */
  static final int WORD_SLACK = 40;

  /** The sentences (or windows of long ones) of {@code text} in order; none for a blank text. */
  public static List<RuleSentence> of(String text) {
    if (text == null || text.isBlank()) {
      return List.of();
    }
    List<RuleSentence> sentences = new ArrayList<>();
    for (String sentence : Sentences.split(text)) {
      // A plain sentence (most generated text) normalizes as it lower-cases, and so does each of
      // its windows but one starting with "rt" and a space: its windows' words are read from
      // their lower case, without normalizing the sentence once per window (tested against it).
      boolean plain = TextNormalizer.isPlain(sentence);
      for (int start = 0; ; start += WINDOW_STEP) {
        int end = Math.min(sentence.length(), start + WINDOW_CHARS);
        String window =
            start == 0 && end == sentence.length()
                ? sentence
                : sentence.substring(wordStart(sentence, start), wordEnd(sentence, end)).strip();
        String words =
            plain && !TextNormalizer.startsRetweet(window, 0)
                ? ThreatPatterns.words(window.toLowerCase(Locale.ROOT))
                : ThreatPatterns.normalize(window);
        sentences.add(new RuleSentence(window, words, start > 0));
        if (end == sentence.length()) {
          break;
        }
      }
    }
    return sentences;
  }

  /** {@code start}, or the start of the word it falls in when that is near enough. */
  private static int wordStart(String sentence, int start) {
    for (int i = start; i > 0 && i >= start - WORD_SLACK; i--) {
      if (!inWord(sentence, i - 1) || !inWord(sentence, i)) {
        return i;
      }
    }
    return start;
  }

  /** {@code end}, or the end of the word it falls in when that is near enough. */
  private static int wordEnd(String sentence, int end) {
    for (int i = end; i < sentence.length() && i <= end + WORD_SLACK; i++) {
      if (!inWord(sentence, i - 1) || !inWord(sentence, i)) {
        return i;
      }
    }
    return end;
  }

  private static boolean inWord(String sentence, int i) {
    char c = sentence.charAt(i);
    // A surrogate counts as a word character, so that no window splits a pair.
    return Character.isLetterOrDigit(c)
        || Character.isSurrogate(c)
        || c == '\''
        || c == '\u2019'
        || c == '\u2018';
  }
}
