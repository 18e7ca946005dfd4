package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Word and character n-grams hashed into a fixed number of buckets (the "hashing trick", Weinberger
 * et al. 2009, with a sign hash so that collisions cancel in expectation). Word 1..{@code maxWordN}
 * grams and character {@code minCharN}..{@code maxCharN} grams inside word boundaries (" word ")
 * are counted, scaled sub-linearly (1 + ln count), and each family is L2-normalized separately
 * before the two are combined, so that long words do not drown out the word features.
 *
 * <p>With {@link KnownWords}, a dictionary word that the training data rarely shows contributes
 * only its stem's character n-grams ({@link #STEM_NGRAM}) to the heads the dictionary applies to:
 * it is represented by itself and its word family, not by the letters it shares with other words
 * ({@link KnownWords#judgedByItself}). The character family is still normalized over the n-grams of
 * every word, so the other words' n-grams weigh what they would without the dictionary. The weights
 * are learned from every word's n-grams ({@link #withoutKnownWords}): learning them without the
 * rare words' n-grams made the remaining n-grams a sign of words outside the dictionary and raised
 * false positives on those ("queer" 11% to 23% of benign sentences).
 *
 * <p>Stateless and thread-safe; the same configuration always yields the same vector on any JVM
 * (the hash is FNV-1a 64 with the MurmurHash3 finalizer, not {@link String#hashCode()}).
 */
public final class HashedNgramFeatures {
  private final int dimensions;
  private final int maxWordN;
  private final int minCharN;
  private final int maxCharN;
  private final KnownWords knownWords;

  /**
   * @param dimensions number of buckets, a power of two
   * @param maxWordN longest word n-gram
   * @param minCharN shortest character n-gram
   * @param maxCharN longest character n-gram
   */
  public HashedNgramFeatures(int dimensions, int maxWordN, int minCharN, int maxCharN) {
    this(dimensions, maxWordN, minCharN, maxCharN, KnownWords.NONE);
  }

  /**
   * @param dimensions number of buckets, a power of two
   * @param maxWordN longest word n-gram
   * @param minCharN shortest character n-gram
   * @param maxCharN longest character n-gram
   * @param knownWords the dictionary and the words frequent in training
   */
  public HashedNgramFeatures(
      int dimensions, int maxWordN, int minCharN, int maxCharN, KnownWords knownWords) {
    if (dimensions <= 0 || Integer.bitCount(dimensions) != 1) {
      throw new IllegalArgumentException("dimensions must be a power of two, got " + dimensions);
    }
    if (maxWordN < 1 || minCharN < 1 || maxCharN < minCharN) {
      throw new IllegalArgumentException(
          "invalid n-gram ranges: words 1.." + maxWordN + ", chars " + minCharN + ".." + maxCharN);
    }
    this.dimensions = dimensions;
    this.maxWordN = maxWordN;
    this.minCharN = minCharN;
    this.maxCharN = maxCharN;
    this.knownWords = java.util.Objects.requireNonNull(knownWords, "knownWords");
  }

  public int dimensions() {
    return dimensions;
  }

  public int maxWordN() {
    return maxWordN;
  }

  public int minCharN() {
    return minCharN;
  }

  public int maxCharN() {
    return maxCharN;
  }

  public KnownWords knownWords() {
    return knownWords;
  }

  /** The same n-grams for every word: how the train command extracts the texts it learns from. */
  public HashedNgramFeatures withoutKnownWords() {
    return new HashedNgramFeatures(dimensions, maxWordN, minCharN, maxCharN);
  }

  /**
   * A sparse vector: sorted distinct indices and their values; L2 norm 1 unless empty or some words
   * are judged by themselves (then less: some of their character n-grams are left out).
   */
  public record SparseVector(int[] indices, float[] values) {
    public double dot(float[] weights) {
      double sum = 0;
      for (int i = 0; i < indices.length; i++) {
        sum += weights[indices[i]] * values[i];
      }
      return sum;
    }
  }

  /**
   * Words of the normalized text: runs of letters, digits and apostrophes, without the apostrophes
   * at their ends, with '\u2019' read as '\''; runs of apostrophes only are no words. One pass that
   * builds each word's string once (the run's letters, a second string only where a '\u2019' is
   * replaced): the moderation operator's language check and identity lexicon read every text's
   * words.
   */
  public static List<String> words(String normalized) {
    int length = normalized.length();
    List<String> words = new ArrayList<>(Math.max(10, length / 5));
    // The current run's first and past-last letter or digit (first < 0: none yet, or no run), and
    // whether a '\u2019' follows its first letter or digit (it may be trimmed as well: then the
    // replacement finds none and changes nothing).
    int first = -1;
    int end = -1;
    boolean curly = false;
    for (int i = 0; i < length; i++) {
      char c = normalized.charAt(i);
      if (isLetterOrDigit(c)) {
        if (first < 0) {
          first = i;
        }
        end = i + 1;
      } else if (c == '\u2019') {
        curly |= first >= 0;
      } else if (c != '\'') {
        if (first >= 0) {
          words.add(word(normalized, first, end, curly));
          first = -1;
          curly = false;
        }
      }
    }
    if (first >= 0) {
      words.add(word(normalized, first, end, curly));
    }
    return words;
  }

  private static String word(String text, int start, int end, boolean curly) {
    String word = text.substring(start, end);
    return curly ? word.replace('\u2019', '\'') : word;
  }

  /** {@link Character#isLetterOrDigit(char)}, without its table look-up for ASCII. */
  private static boolean isLetterOrDigit(char c) {
    if (c < 0x80) {
      return (char) ((c | 0x20) - 'a') < 26 || (char) (c - '0') < 10;
    }
    return Character.isLetterOrDigit(c);
  }

  /** Extracts the feature vector of a raw text (normalizes it first). */
  public SparseVector extract(String text) {
    return extractBoth(text).withDictionary();
  }

  /**
   * A text's vector with the dictionary (rare dictionary words with only their stem's character
   * n-grams) and without it (every word's n-grams); the same object twice when no word is judged by
   * itself.
   */
  public record Vectors(SparseVector withDictionary, SparseVector everyWord) {}

  /** Both vectors of a raw text from one pass over it. */
  public Vectors extractBoth(String text) {
    return extractBothFromWords(words(TextNormalizer.normalize(text)));
  }

  /** {@link #extractBoth} of the text whose {@link #words} of the normalized form these are. */
  public Vectors extractBothFromWords(List<String> words) {
    IntList wordCodes = new IntList(words.size() * maxWordN);
    for (int i = 0; i < words.size(); i++) {
      long h = FNV_OFFSET;
      for (int n = 1; n <= maxWordN && i + n <= words.size(); n++) {
        if (n > 1) {
          h = fnv(h, ' ');
        }
        h = fnv(h, words.get(i + n - 1));
        wordCodes.add(code(fmix(h ^ n)));
      }
    }
    IntList charCodes = new IntList(words.size() * 12);
    // Positions in charCodes of the n-grams that words judged by themselves leave out (ascending);
    // null while there are none, which is most texts.
    IntList leftOut = null;
    for (String word : words) {
      boolean byItself = knownWords.judgedByItself(word);
      // The n-grams of " " + word + " ", read from the word itself (no padded copy).
      int paddedLength = word.length() + 2;
      for (int start = 0; start < paddedLength; start++) {
        long h = fnv(FNV_OFFSET, '#');
        for (int n = 1; n <= maxCharN && start + n <= paddedLength; n++) {
          int at = start + n - 1;
          h = fnv(h, at == 0 || at == paddedLength - 1 ? ' ' : word.charAt(at - 1));
          if (n >= minCharN) {
            if (byItself && !(start == 0 && n >= STEM_NGRAM)) {
              leftOut = leftOut == null ? new IntList(16) : leftOut;
              leftOut.add(charCodes.size);
            }
            charCodes.add(code(fmix(h)));
          }
        }
      }
    }
    Accumulated wordFamily = accumulate(wordCodes);
    Accumulated allChars = accumulate(charCodes);
    SparseVector everyWord = combine(wordFamily, allChars, allChars.norm());
    if (leftOut == null) {
      return new Vectors(everyWord, everyWord);
    }
    return new Vectors(
        combine(wordFamily, accumulate(charCodes.without(leftOut)), allChars.norm()), everyWord);
  }

  /**
   * Shortest n-gram at the start of a word (the leading space and at least three letters) that a
   * word judged by itself keeps: its stem's n-grams, which it shares with its own family
   * ("xenophobic", "xenophobia"), unlike the n-grams inside and at the end, where look-alikes
   * collide ("fitch" and "bitch" share "itch ").
   */
  static final int STEM_NGRAM = 4;

  /** Bucket index times two plus one bit of sign. */
  private int code(long hash) {
    int index = (int) (hash & (dimensions - 1));
    int negative = (int) (hash >>> 63);
    return (index << 1) | negative;
  }

  /**
   * Both families, each divided by its norm; the character family by the norm of every word's
   * n-grams ({@code charNorm}), though {@code chars} may leave some words' n-grams out.
   */
  private static SparseVector combine(Accumulated words, Accumulated chars, double charNorm) {
    double wordNorm = words.norm();
    int families = (wordNorm > 0 ? 1 : 0) + (charNorm > 0 ? 1 : 0);
    if (families == 0) {
      return new SparseVector(new int[0], new float[0]);
    }
    double familyScale = 1.0 / Math.sqrt(families);
    // Merge the two sorted lists, adding values where buckets collide.
    int[] indices = new int[words.size + chars.size];
    float[] values = new float[indices.length];
    int i = 0;
    int j = 0;
    int k = 0;
    while (i < words.size || j < chars.size) {
      int wi = i < words.size ? words.indices[i] : Integer.MAX_VALUE;
      int ci = j < chars.size ? chars.indices[j] : Integer.MAX_VALUE;
      double value = 0;
      int index;
      if (wi <= ci) {
        index = wi;
        value += words.values[i++] / wordNorm;
      } else {
        index = ci;
      }
      if (ci == index) {
        value += chars.values[j++] / charNorm;
      }
      if (value != 0) {
        indices[k] = index;
        values[k++] = (float) (value * familyScale);
      }
    }
    return new SparseVector(Arrays.copyOf(indices, k), Arrays.copyOf(values, k));
  }

  private record Accumulated(int[] indices, double[] values, int size) {
    double norm() {
      double sum = 0;
      for (int i = 0; i < size; i++) {
        sum += values[i] * values[i];
      }
      return Math.sqrt(sum);
    }
  }

  private static Accumulated accumulate(IntList codes) {
    int[] sorted = codes.toSortedArray();
    int[] indices = new int[sorted.length];
    double[] values = new double[sorted.length];
    int size = 0;
    int i = 0;
    while (i < sorted.length) {
      int index = sorted[i] >>> 1;
      int signedCount = 0;
      while (i < sorted.length && (sorted[i] >>> 1) == index) {
        signedCount += (sorted[i] & 1) == 1 ? -1 : 1;
        i++;
      }
      if (signedCount != 0) {
        indices[size] = index;
        values[size++] = Math.signum(signedCount) * (1 + Math.log(Math.abs(signedCount)));
      }
    }
    return new Accumulated(indices, values, size);
  }

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private static long fnv(long h, char c) {
    h ^= c & 0xff;
    h *= FNV_PRIME;
    h ^= c >>> 8;
    h *= FNV_PRIME;
    return h;
  }

  private static long fnv(long h, String s) {
    for (int i = 0; i < s.length(); i++) {
      h = fnv(h, s.charAt(i));
    }
    return h;
  }

  /** MurmurHash3 64-bit finalizer: spreads FNV's weak low bits over the whole word. */
  static long fmix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  private static final class IntList {
    private int[] data;
    private int size;

    IntList(int capacity) {
      data = new int[Math.max(16, capacity)];
    }

    void add(int value) {
      if (size == data.length) {
        data = Arrays.copyOf(data, size * 2);
      }
      data[size++] = value;
    }

    /** The values except those at the given positions (ascending). */
    IntList without(IntList positions) {
      IntList kept = new IntList(size - positions.size);
      int next = 0;
      for (int i = 0; i < size; i++) {
        if (next < positions.size && positions.data[next] == i) {
          next++;
        } else {
          kept.add(data[i]);
        }
      }
      return kept;
    }

    int[] toSortedArray() {
      int[] copy = Arrays.copyOf(data, size);
      Arrays.sort(copy);
      return copy;
    }
  }
}
