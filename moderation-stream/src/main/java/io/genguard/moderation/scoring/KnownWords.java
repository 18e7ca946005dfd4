package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Ordinary English words, spelled correctly, which of them the training data shows often, and the
 * model heads they apply to. For those heads, a dictionary word the training data rarely or never
 * shows is judged by itself and its word family, not by the letters it shares with other words:
 * {@link HashedNgramFeatures} gives it only its stem's character n-grams, so "fitch" (a polecat) or
 * "bigger" no longer borrow the weight of the slurs they resemble. Misspellings and obfuscations
 * ("b1tch", "biatch") keep all their n-grams, and so do the words the training data shows often
 * ("stupid", "people"), whose n-grams the model learned from them.
 *
 * <p>A word is in the dictionary when it is in the set or when WordNet's inflection rules
 * ("morphy": "geese" is in the set as an exception form, "pitches" strips to "pitch") take it to a
 * word in the set. All three are chosen by the train command (the dictionary from WordNet, see
 * {@code WordNetVocabulary}; the frequent words by counting the training texts) and stored in the
 * model file, so a model always scores with the dictionary it was trained with.
 *
 * <p>Immutable and thread-safe.
 */
public final class KnownWords {
  /** No known words: every word gets character n-grams (models of format 1). */
  public static final KnownWords NONE = new KnownWords(Set.of(), Set.of(), Set.of());

  /** WordNet's detachment rules, all parts of speech: suffix and replacement, in pairs. */
  private static final String[][] DETACHMENTS = {
    {"s", ""},
    {"ses", "s"},
    {"xes", "x"},
    {"zes", "z"},
    {"ches", "ch"},
    {"shes", "sh"},
    {"men", "man"},
    {"ies", "y"},
    {"es", "e"},
    {"es", ""},
    {"ed", "e"},
    {"ed", ""},
    {"ing", "e"},
    {"ing", ""},
    {"er", ""},
    {"est", ""},
    {"er", "e"},
    {"est", "e"},
    {"'s", ""},
    {"s'", "s"}
  };

  private final Set<String> words;
  private final Set<String> frequent;
  private final Set<String> heads;

  private KnownWords(
      Collection<String> words, Collection<String> frequent, Collection<String> heads) {
    this.words = Set.copyOf(words);
    this.frequent = Set.copyOf(frequent);
    this.heads = Set.copyOf(heads);
  }

  /**
   * Dictionary words (lower case, letters and apostrophes only; anything else is rejected, since
   * the feature extractor's words never contain it), none of them frequent in training.
   */
  public static KnownWords of(Collection<String> words) {
    return of(words, Set.of(), Set.of());
  }

  /**
   * Dictionary words, the words (as {@link HashedNgramFeatures#words} yields them) that the
   * training data shows often, and the names of the model heads that score with the dictionary.
   */
  public static KnownWords of(
      Collection<String> words, Collection<String> frequent, Collection<String> heads) {
    validate(words);
    validate(frequent);
    return words.isEmpty() ? NONE : new KnownWords(words, frequent, heads);
  }

  /** The same dictionary with these words marked frequent in training. */
  public KnownWords withFrequent(Collection<String> frequentWords) {
    return of(words, frequentWords, heads);
  }

  /** The same dictionary for these model heads. */
  public KnownWords forHeads(Collection<String> headNames) {
    return of(words, frequent, headNames);
  }

  /**
   * Whether the model head of this name scores with the dictionary; the other heads see every
   * word's n-grams.
   */
  public boolean appliesTo(String head) {
    return heads.contains(head);
  }

  /** The heads that score with the dictionary, sorted (what the model file stores). */
  public String[] sortedHeads() {
    return sorted(heads);
  }

  private static void validate(Collection<String> words) {
    for (String word : words) {
      if (word.isEmpty() || !word.equals(word.toLowerCase(java.util.Locale.ROOT))) {
        throw new IllegalArgumentException(
            "known words must be non-empty lower case: '" + word + "'");
      }
      for (int i = 0; i < word.length(); i++) {
        char c = word.charAt(i);
        if (!Character.isLetter(c) && c != '\'') {
          throw new IllegalArgumentException(
              "known words hold letters and apostrophes only: '" + word + "'");
        }
      }
    }
  }

  /**
   * Whether the word is a dictionary word that the training data does not show often: it gets no
   * character n-grams.
   */
  public boolean judgedByItself(String word) {
    return !frequent.contains(word) && contains(word);
  }

  /** Whether the word (as {@link HashedNgramFeatures#words} yields it) is a dictionary word. */
  public boolean contains(String word) {
    if (words.isEmpty()) {
      return false;
    }
    if (words.contains(word)) {
      return true;
    }
    // Called for every word of every scored text: the rules are tried in place, no list is built.
    for (String[] rule : DETACHMENTS) {
      String base = detach(word, rule);
      if (base != null && words.contains(base)) {
        return true;
      }
    }
    return false;
  }

  /**
   * What WordNet's detachment rules make of the word ("pitches": "pitche", "pitch", ...), whether
   * or not those are words.
   */
  public static List<String> bases(String word) {
    List<String> bases = new ArrayList<>(4);
    for (String[] rule : DETACHMENTS) {
      String base = detach(word, rule);
      if (base != null) {
        bases.add(base);
      }
    }
    return bases;
  }

  /** The word with the rule's suffix replaced, or null when the rule does not apply. */
  private static String detach(String word, String[] rule) {
    String suffix = rule[0];
    if (word.length() > suffix.length() + 1 && word.endsWith(suffix)) {
      return word.substring(0, word.length() - suffix.length()) + rule[1];
    }
    return null;
  }

  /** Number of dictionary words (inflected forms found by the rules not counted). */
  public int size() {
    return words.size();
  }

  /** The dictionary words in sorted order (what the model file stores). */
  public String[] sortedWords() {
    return sorted(words);
  }

  /** The words frequent in training, in sorted order (what the model file stores). */
  public String[] sortedFrequentWords() {
    return sorted(frequent);
  }

  private static String[] sorted(Set<String> strings) {
    return new TreeSet<>(strings).toArray(String[]::new);
  }
}
