package io.genguard.moderation.scoring;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks a text before scoring: empty, enormous (truncated for scoring), not valid UTF-8, not in a
 * language the scorers were trained on (English), or disguising words with invisible characters or
 * look-alike letters ({@link Obfuscation}). Each problem becomes a {@link Finding} that policy
 * turns into a reason; the text to score is returned alongside. Plain Java, thread-safe; the Flink
 * job and the score command share it.
 */
public final class TextScreening {
  /** Default limit on characters scored; longer texts are truncated for scoring. */
  public static final int DEFAULT_MAX_CHARS = 20_000;

  /** What can be wrong with a text. */
  public enum Issue {
    EMPTY,
    TRUNCATED,
    INVALID_UTF8,
    UNSUPPORTED_LANGUAGE,
    /**
     * Words that display as one thing and read as another: invisible characters between their
     * letters, or Latin mixed with Cyrillic or Greek look-alike letters ({@link
     * Obfuscation#inspect}). The rules and lexical features read such words as they display, but
     * the embedding model reads look-alikes as the foreign letters they are, and the text published
     * is the disguised one.
     */
    OBFUSCATED
  }

  /** One problem and a sentence about it. */
  public record Finding(Issue issue, String detail) {}

  /**
   * @param textForScoring the text the scorers should see (possibly truncated, never null)
   * @param findings problems found, empty when the text is fine
   * @param originalLength characters of the input after decoding
   * @param normalized {@code textForScoring} normalized and split as far as the language check
   *     needed it, for the other checks of the same text to read ({@link NormalizedText})
   */
  public record Result(
      String textForScoring,
      List<Finding> findings,
      int originalLength,
      NormalizedText normalized) {
    public Result {
      findings = List.copyOf(findings);
      if (!normalized.text().equals(textForScoring)) {
        throw new IllegalArgumentException("the normalized text is not the text for scoring");
      }
    }

    /** A result whose text is normalized when first read. */
    public Result(String textForScoring, List<Finding> findings, int originalLength) {
      this(textForScoring, findings, originalLength, NormalizedText.of(textForScoring));
    }

    public boolean has(Issue issue) {
      return findings.stream().anyMatch(f -> f.issue() == issue);
    }

    public boolean truncated() {
      return has(Issue.TRUNCATED);
    }

    /** Empty text has nothing to score. */
    public boolean scorable() {
      return !has(Issue.EMPTY);
    }
  }

  private final int maxChars;

  public TextScreening(int maxChars) {
    if (maxChars < 100) {
      throw new IllegalArgumentException("maxChars must be at least 100, got " + maxChars);
    }
    this.maxChars = maxChars;
  }

  public static TextScreening defaults() {
    return new TextScreening(DEFAULT_MAX_CHARS);
  }

  public int maxChars() {
    return maxChars;
  }

  /**
   * Screens raw bytes that should be UTF-8; invalid sequences are replaced by U+FFFD and reported.
   */
  public Result screen(byte[] utf8) {
    CharsetDecoder strict =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer decoded = strict.decode(ByteBuffer.wrap(utf8));
      return screen(decoded.toString(), false);
    } catch (CharacterCodingException e) {
      return screen(new String(utf8, StandardCharsets.UTF_8), true);
    }
  }

  /**
   * Screens an already decoded text. Replacement characters (U+FFFD) and unpaired surrogates are
   * what invalid UTF-8 leaves behind after lenient decoding, so they are reported as such.
   */
  public Result screen(String text) {
    return screen(text == null ? "" : text, false);
  }

  private Result screen(String text, boolean knownInvalid) {
    List<Finding> findings = new ArrayList<>();
    int replacements = countInvalid(text);
    if (knownInvalid || replacements > 0) {
      findings.add(
          new Finding(
              Issue.INVALID_UTF8,
              "the text is not valid UTF-8"
                  + (replacements > 0 ? " (" + replacements + " undecodable characters)" : "")
                  + "; it was scored with replacement characters"));
    }
    if (text.isBlank()) {
      findings.add(new Finding(Issue.EMPTY, "the text is empty; there is nothing to score"));
      return new Result("", findings, text.length());
    }
    String forScoring = text;
    if (text.length() > maxChars) {
      int cut = maxChars;
      if (Character.isHighSurrogate(text.charAt(cut - 1))) {
        cut--;
      }
      forScoring = text.substring(0, cut);
      findings.add(
          new Finding(
              Issue.TRUNCATED,
              "the text has "
                  + text.length()
                  + " characters; only the first "
                  + cut
                  + " were scored"));
    }
    NormalizedText normalized = NormalizedText.of(forScoring);
    String language = languageProblem(normalized);
    if (language != null) {
      findings.add(new Finding(Issue.UNSUPPORTED_LANGUAGE, language));
    }
    String obfuscation = obfuscationProblem(forScoring);
    if (obfuscation != null) {
      findings.add(new Finding(Issue.OBFUSCATED, obfuscation));
    }
    return new Result(forScoring, findings, text.length(), normalized);
  }

  /** A sentence saying how the text disguises words, else null. */
  static String obfuscationProblem(String text) {
    Obfuscation.Found found = Obfuscation.inspect(text);
    if (found == null) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    if (found.hiddenWords() > 0) {
      StringBuilder codes = new StringBuilder();
      for (int cp : found.invisibleCodePoints()) {
        codes
            .append(codes.length() == 0 ? "" : ", ")
            .append(String.format(Locale.ROOT, "U+%04X", cp));
      }
      parts.add(
          found.hiddenWords()
              + (found.hiddenWords() == 1 ? " word hides" : " words hide")
              + " invisible characters between letters ("
              + codes
              + ")");
    }
    if (found.mixedWords() > 0) {
      parts.add(
          found.mixedWords()
              + (found.mixedWords() == 1 ? " word mixes" : " words mix")
              + " Latin with Cyrillic or Greek look-alike letters");
    }
    return String.join(" and ", parts)
        + " (read as: "
        + String.join(", ", found.examples())
        + "); the text displays otherwise than it is written, which can slip past the models";
  }

  private static int countInvalid(String text) {
    int count = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\uFFFD') {
        count++;
      } else if (Character.isHighSurrogate(c)) {
        if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else {
          count++;
        }
      } else if (Character.isLowSurrogate(c)) {
        count++;
      }
    }
    return count;
  }

  /**
   * A sentence when the text is probably not English, else null. Three cheap signals (no model):
   * most letters outside the Latin script; a text of 3+ words in Spanish, German, French, Italian,
   * Portuguese or Dutch by its function words ({@link FunctionWords}), which finds a six-word
   * threat as surely as a paragraph and counts no word those languages share with English ("a",
   * "no", "was", "will") for either; or a text of 8+ words of which under 8% are among the most
   * common English words (every English paragraph is full of them; Turkish or Polish prose is not).
   * Shorter texts, and short ones without clear evidence, get the benefit of the doubt.
   */
  static String languageProblem(String text) {
    return languageProblem(NormalizedText.of(text));
  }

  /** {@link #languageProblem(String)} reading the words {@code normalized} holds. */
  static String languageProblem(NormalizedText normalized) {
    String text = normalized.text();
    int letters = 0;
    int latin = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp < 0x80) {
        // ASCII fast path: UnicodeScript.of is a binary search per character.
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') {
          letters++;
          latin++;
        }
      } else if (Character.isLetter(cp)) {
        letters++;
        if (Character.UnicodeScript.of(cp) == Character.UnicodeScript.LATIN) {
          latin++;
        }
      }
    }
    if (letters >= 4 && latin < letters * 0.5) {
      return "the text is mostly in a non-Latin script ("
          + (letters - latin)
          + " of "
          + letters
          + " letters); the scorers are trained on English only";
    }
    List<String> words = normalized.lowerCaseWords();
    FunctionWords.Guess guess = FunctionWords.nonEnglish(words);
    if (guess != null) {
      return "the text is probably not English: "
          + guess.ownWords()
          + " of its "
          + guess.words()
          + " words are function words of "
          + guess.language()
          + " (or a language near it) and "
          + (guess.englishWords() == 0 ? "none" : guess.englishWords())
          + " only of English; the scorers are trained on English only";
    }
    if (words.size() >= 8) {
      int common = 0;
      for (String word : words) {
        if (COMMON_ENGLISH.contains(word)) {
          common++;
        }
      }
      if (common < words.size() * 0.08) {
        return "only "
            + common
            + " of "
            + words.size()
            + " words are common English words; the text is probably not English, which the scorers"
            + " are not trained on";
      }
    }
    return null;
  }

  private static final Set<String> COMMON_ENGLISH =
      Set.of(
          "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not", "on",
          "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we",
          "say", "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their",
          "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me", "when",
          "make", "can", "like", "time", "no", "just", "him", "know", "take", "people", "into",
          "year", "your", "good", "some", "could", "them", "see", "other", "than", "then", "now",
          "look", "only", "come", "its", "over", "think", "also", "back", "after", "use", "two",
          "how", "our", "work", "first", "well", "way", "even", "new", "want", "because", "any",
          "these", "give", "day", "most", "us", "is", "are", "was", "were", "been", "has", "had",
          "did", "does", "am", "i'm", "it's", "don't", "should", "here", "why", "very", "more",
          "much", "where", "those", "too", "never", "always", "really", "please", "thank", "thanks",
          "yes", "off", "down", "before", "again", "still", "being", "need", "let", "shit", "fuck",
          "lol", "u", "ur", "im", "dont", "got", "gonna", "ain't", "aint", "y'all", "ya", "yo");
}
