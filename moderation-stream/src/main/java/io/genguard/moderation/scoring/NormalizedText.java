package io.genguard.moderation.scoring;

import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * One text as the moderation operator's checks read it, each form computed once, when first asked
 * for, and then shared: the normalized text ({@link TextNormalizer#normalize}) and its words
 * ({@link HashedNgramFeatures#words}), which the identity lexicon and the stereotype model read,
 * and the words of the text only lower-cased, which the language check reads. The two word lists
 * are one list where normalizing changed nothing but case and whitespace (most generated text),
 * since words do not see whitespace.
 *
 * <p>The sentence rules ({@link RuleSentence}) normalize each sentence on its own, which is not
 * always the whole text's normalized form cut into sentences (a URL or an entity across a
 * boundary), so they do not read these.
 *
 * <p>Not thread-safe: one output's checks read it on one thread. Equal when the texts are.
 */
public final class NormalizedText {
  private final String text;
  private String normalized;
  private List<String> words;
  private List<String> lowerCaseWords;

  private NormalizedText(String text) {
    this.text = text;
  }

  /** The forms of {@code text} (not null), none computed yet. */
  public static NormalizedText of(String text) {
    if (text == null) {
      throw new IllegalArgumentException("a text to normalize must not be null");
    }
    return new NormalizedText(text);
  }

  /** The text as given. */
  public String text() {
    return text;
  }

  /** {@link TextNormalizer#normalize} of the text. */
  public String normalized() {
    if (normalized == null) {
      normalized = TextNormalizer.normalize(text);
    }
    return normalized;
  }

  /**
   * {@code HashedNgramFeatures.words(TextNormalizer.normalize(text))}: what {@link
   * io.genguard.moderation.bias.IdentityLexicon#words} and the n-gram features read. Read-only.
   */
  public List<String> words() {
    if (words == null) {
      words = Collections.unmodifiableList(HashedNgramFeatures.words(normalized()));
    }
    return words;
  }

  /**
   * {@code HashedNgramFeatures.words(text.toLowerCase(Locale.ROOT))}: the language check's words,
   * without NFKC, entities, revealed letters or removed URLs. The same list as {@link #words} when
   * the normalized text is the lower-cased one with its whitespace collapsed as the normalizer
   * collapses it: whitespace is no word character, so both have the same runs of word characters.
   * Read-only.
   */
  public List<String> lowerCaseWords() {
    if (lowerCaseWords == null) {
      String lower = text.toLowerCase(Locale.ROOT);
      if (normalized == null && TextNormalizer.isPlain(text)) {
        // What normalize gives a plain text, from the lower case already made: the same words.
        normalized = TextNormalizer.collapseWhitespace(lower);
        lowerCaseWords = words();
        return lowerCaseWords;
      }
      String normalizedText = null;
      try {
        normalizedText = normalized();
      } catch (RuntimeException | StackOverflowError e) {
        // Left to the check that needs the normalized text to fail as it did on its own (the
        // operator names the stage that failed in the verdict); the language check reads on.
      }
      lowerCaseWords =
          normalizedText != null
                  && (normalizedText.equals(lower)
                      || normalizedText.equals(TextNormalizer.collapseWhitespace(lower)))
              ? words()
              : Collections.unmodifiableList(HashedNgramFeatures.words(lower));
    }
    return lowerCaseWords;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof NormalizedText that && text.equals(that.text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return "NormalizedText[" + text + "]";
  }
}
