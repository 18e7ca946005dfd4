package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HashedNgramFeatures#words} and the n-gram vectors ({@link
 * HashedNgramFeatures#extractBothFromWords}) are what they were before the words were read in one
 * pass and the character n-grams hashed from the word itself (no padded copy): the same words, and
 * the same indices and values bit for bit, with and without a dictionary, on fixed and random texts
 * (Unicode letters and digits, surrogate pairs, apostrophes of both kinds, punctuation, long and
 * empty). {@link Reference} is the earlier code, kept here to compare against.
 */
class HashedNgramFeaturesReferenceTest {
  private static final List<String> TEXTS =
      List.of(
          "",
          " ",
          "'",
          "''' \u2019\u2019 '\u2019'",
          "ok",
          "the committee discussed the budget for the coming year and agreed on",
          "don't stop-believing, 'quoted' ''twice'' rock'n'roll o'",
          "I\u2019ll kill you, you\u2019re done \u2018really\u2019 \u2019tis ends\u2019",
          "a1b2 3.14 1,000 x@y.z under_score back\\slash [brackets] {braces} `tick` ~tilde",
          "Women and immigrants from Mexico are always lazy, everyone knows that.",
          "Der Hund l\u00E4uft schnell \u00FCber die gro\u00DFe Wiese. \u00AA\u00BA\u00B5 \u00D7\u00F7",
          "\u042D\u0442\u043E \u043F\u0440\u0435\u0434\u043B\u043E\u0436\u0435\u043D\u0438\u0435",
          "\u4ECA\u5929\u5929\u6C14\u5F88\u597D\uFF0C\u6211\u4EEC\u53BB\u516C\u56ED\u3002",
          "\u0661\u0662\u0663 \u0968 \uFF11\uFF12 \u2460 \u00B2 \u2167",
          "emoji \uD83D\uDE00 and\uD83D\uDE00glued a broken \uD800 surrogate \uDC00x \uFFFD",
          "math \uD835\uDC00\uD835\uDC01 letters \uD801\uDC00",
          "\u0001\u0002control\u0000 chars\u007F \u00A0nbsp\u2003em\u200Bzero",
          "kelvin \u212A and \u0130stanbul \u0131\u015F\u0131k STRASSE",
          "fitch woman b1tch xenophobic xenophobia queer itch");

  /** Characters that are, or border on, word characters. */
  private static final String ALPHABET =
      "aZz09'\u2019 .,!?-_@[`{/:;\"\t\n\u00E9\u00DF\u00B5\u00AA\u00D7\u0456\u4E2D\u0661\u00B2"
          + "\u00AD\u200B\uFFFD\uD83D\uDE00\uD835\uDC00";

  private static final List<String> PIECES =
      List.of(
          "the",
          "Women",
          "fitch",
          "woman",
          "I'll",
          "won\u2019t",
          "'",
          "\u2019",
          "''",
          " ",
          "  ",
          "\n",
          ".",
          "!",
          "-",
          "k\u0456ll",
          "\u00C9t\u00E9",
          "\u4E2D\u6587",
          "\uD83D\uDE00",
          "123",
          "x1",
          "immigrants",
          "gay",
          "people",
          "hate",
          "queer",
          "xenophobic");

  @Test
  void shouldSplitTheSameWordsAsBefore() {
    for (String text : texts()) {
      assertThat(HashedNgramFeatures.words(text)).as(text).isEqualTo(Reference.words(text));
      String lower = text.toLowerCase(Locale.ROOT);
      assertThat(HashedNgramFeatures.words(lower)).as(lower).isEqualTo(Reference.words(lower));
    }
  }

  @Test
  void shouldExtractBitIdenticalVectorsAsBefore() {
    KnownWords dictionary =
        KnownWords.of(List.of("fitch", "woman", "queer", "xenophobic", "people", "hate"));
    List<HashedNgramFeatures> configurations =
        List.of(
            new HashedNgramFeatures(1 << 16, 2, 2, 5),
            new HashedNgramFeatures(1 << 18, 3, 1, 6),
            new HashedNgramFeatures(1 << 4, 1, 3, 3),
            new HashedNgramFeatures(1 << 16, 2, 2, 5, dictionary),
            new HashedNgramFeatures(1 << 16, 2, 2, 5, dictionary.withFrequent(List.of("woman"))));
    for (HashedNgramFeatures features : configurations) {
      Reference reference = new Reference(features);
      for (String text : texts()) {
        List<String> words = Reference.words(TextNormalizer.normalize(text));
        HashedNgramFeatures.Vectors expected = reference.extractBothFromWords(words);
        for (HashedNgramFeatures.Vectors actual :
            List.of(features.extractBothFromWords(words), features.extractBoth(text))) {
          assertSameBits(expected.withDictionary(), actual.withDictionary(), text);
          assertSameBits(expected.everyWord(), actual.everyWord(), text);
        }
      }
    }
  }

  private static void assertSameBits(
      HashedNgramFeatures.SparseVector expected,
      HashedNgramFeatures.SparseVector actual,
      String text) {
    assertThat(actual.indices()).as(text).isEqualTo(expected.indices());
    assertThat(bits(actual.values())).as(text).isEqualTo(bits(expected.values()));
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }

  /** The fixed texts, long ones, random mixes of pieces and random strings of the alphabet. */
  private static List<String> texts() {
    List<String> texts = new ArrayList<>(TEXTS);
    texts.add("the committee discussed the budget. ".repeat(2_000));
    texts.add(String.join(" ", TEXTS).repeat(20));
    SplittableRandom random = new SplittableRandom(50);
    for (int i = 0; i < 2_000; i++) {
      StringBuilder text = new StringBuilder();
      int pieces = random.nextInt(1, 14);
      for (int p = 0; p < pieces; p++) {
        text.append(PIECES.get(random.nextInt(PIECES.size())));
        if (random.nextInt(3) > 0) {
          text.append(' ');
        }
      }
      texts.add(text.toString());
    }
    for (int i = 0; i < 2_000; i++) {
      char[] chars = new char[random.nextInt(0, 40)];
      for (int c = 0; c < chars.length; c++) {
        chars[c] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
      }
      texts.add(new String(chars));
    }
    return texts;
  }

  /** The code before this refactoring: words from substrings, n-grams of a padded copy. */
  private static final class Reference {
    private static final int STEM_NGRAM = 4;
    private final int dimensions;
    private final int maxWordN;
    private final int minCharN;
    private final int maxCharN;
    private final KnownWords knownWords;

    Reference(HashedNgramFeatures features) {
      dimensions = features.dimensions();
      maxWordN = features.maxWordN();
      minCharN = features.minCharN();
      maxCharN = features.maxCharN();
      knownWords = features.knownWords();
    }

    /** Words of the normalized text: runs of letters, digits and apostrophes. */
    static List<String> words(String normalized) {
      List<String> words = new ArrayList<>();
      int start = -1;
      for (int i = 0; i <= normalized.length(); i++) {
        boolean wordChar = i < normalized.length() && isWordChar(normalized.charAt(i));
        if (wordChar && start < 0) {
          start = i;
        } else if (!wordChar && start >= 0) {
          String word = trimApostrophes(normalized.substring(start, i));
          if (!word.isEmpty()) {
            words.add(word);
          }
          start = -1;
        }
      }
      return words;
    }

    /** The n-gram vectors of these words. */
    HashedNgramFeatures.Vectors extractBothFromWords(List<String> words) {
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
      // Positions in charCodes of the n-grams that words judged by themselves leave out
      // (ascending);
      // null while there are none, which is most texts.
      IntList leftOut = null;
      for (String word : words) {
        boolean byItself = knownWords.judgedByItself(word);
        String padded = " " + word + " ";
        for (int start = 0; start < padded.length(); start++) {
          long h = fnv(FNV_OFFSET, '#');
          for (int n = 1; n <= maxCharN && start + n <= padded.length(); n++) {
            h = fnv(h, padded.charAt(start + n - 1));
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
      HashedNgramFeatures.SparseVector everyWord = combine(wordFamily, allChars, allChars.norm());
      if (leftOut == null) {
        return new HashedNgramFeatures.Vectors(everyWord, everyWord);
      }
      return new HashedNgramFeatures.Vectors(
          combine(wordFamily, accumulate(charCodes.without(leftOut)), allChars.norm()), everyWord);
    }

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
    private static HashedNgramFeatures.SparseVector combine(
        Accumulated words, Accumulated chars, double charNorm) {
      double wordNorm = words.norm();
      int families = (wordNorm > 0 ? 1 : 0) + (charNorm > 0 ? 1 : 0);
      if (families == 0) {
        return new HashedNgramFeatures.SparseVector(new int[0], new float[0]);
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
      return new HashedNgramFeatures.SparseVector(
          Arrays.copyOf(indices, k), Arrays.copyOf(values, k));
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

    private static boolean isWordChar(char c) {
      return Character.isLetterOrDigit(c) || c == '\'' || c == '\u2019';
    }

    private static String trimApostrophes(String word) {
      int start = 0;
      int end = word.length();
      while (start < end && !Character.isLetterOrDigit(word.charAt(start))) {
        start++;
      }
      while (end > start && !Character.isLetterOrDigit(word.charAt(end - 1))) {
        end--;
      }
      return word.substring(start, end).replace('\u2019', '\'');
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
}
