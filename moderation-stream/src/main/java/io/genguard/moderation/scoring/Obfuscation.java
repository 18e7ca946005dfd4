package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Invisible characters and look-alike letters that make a word display as one thing and read as
 * another: "ki\u00ADll" (a soft hyphen inside) and "k\u0456ll" (a Cyrillic i) display as "kill",
 * yet the rules and the lexical features, which split words at anything outside a-z, read "ki ll"
 * and "k ll". {@link #reveal} gives the text they should read; {@link #inspect} says whether a text
 * hides or swaps letters this way, for {@link TextScreening}. Plain Java, stateless.
 *
 * <p>Invisible means Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, the same
 * list from Unicode 14 to 15.1): code points a renderer draws as nothing when it has no glyph for
 * them (soft hyphen, zero-width space and joiners, bidirectional controls, variation selectors,
 * Hangul fillers, tag characters). Look-alike letters are the Cyrillic and Greek letters that
 * Unicode's confusables (UTS #39, confusables.txt) map to one Latin letter, or that render as one
 * in common fonts; the table below is that short list, not the full skeleton algorithm (no library
 * on the classpath offers it). Other scripts' look-alikes (Armenian, Cherokee) are not covered;
 * full-width and mathematical letters are not look-alikes here because NFKC, which the normalizer
 * applies first, turns them into plain Latin letters.
 *
 * <p>A look-alike letter is read as Latin only where it disguises a Latin word: in a word that
 * mixes it with Latin letters (or Cyrillic with Greek), or in a word written wholly in look-alikes
 * inside a text that reads as Latin (almost no Cyrillic or Greek letter without a Latin look-alike,
 * {@link #readsAsLatin}). Russian or Greek text is left as it is: a word wholly in one script is
 * not mixed, and such a text does not read as Latin.
 */
public final class Obfuscation {
  private Obfuscation() {}

  /**
   * Letters of another script that display like a Latin letter, as pairs {look-alike, Latin}.
   * Sources: confusables.txt (UTS #39) entries whose target is a single Latin letter, and letters
   * such as Cyrillic к, г and Greek ι, κ, υ that it maps through another look-alike but that are
   * used in place of k, r, i, k and u.
   */
  private static final int[][] LOOK_ALIKES = {
    // Cyrillic, lower case
    {0x0430, 'a'},
    {0x0433, 'r'},
    {0x0435, 'e'},
    {0x0456, 'i'},
    {0x0458, 'j'},
    {0x043A, 'k'},
    {0x043E, 'o'},
    {0x0440, 'p'},
    {0x0441, 'c'},
    {0x0443, 'y'},
    {0x0445, 'x'},
    {0x0455, 's'},
    {0x04BB, 'h'},
    {0x04CF, 'l'},
    {0x0501, 'd'},
    {0x051B, 'q'},
    {0x051D, 'w'},
    {0x0475, 'v'},
    {0x04AF, 'y'},
    // Cyrillic, upper case
    {0x0410, 'A'},
    {0x0412, 'B'},
    {0x0415, 'E'},
    {0x0406, 'I'},
    {0x0408, 'J'},
    {0x041A, 'K'},
    {0x041C, 'M'},
    {0x041D, 'H'},
    {0x041E, 'O'},
    {0x0420, 'P'},
    {0x0421, 'C'},
    {0x0422, 'T'},
    {0x0423, 'Y'},
    {0x0425, 'X'},
    {0x0405, 'S'},
    {0x04AE, 'Y'},
    {0x04BA, 'H'},
    {0x04C0, 'l'},
    {0x051A, 'Q'},
    {0x051C, 'W'},
    {0x0474, 'V'},
    // Greek, lower case
    {0x03B1, 'a'},
    {0x03B3, 'y'},
    {0x03B9, 'i'},
    {0x03BA, 'k'},
    {0x03BD, 'v'},
    {0x03BF, 'o'},
    {0x03C1, 'p'},
    {0x03C5, 'u'},
    {0x03C7, 'x'},
    {0x03F2, 'c'},
    {0x03F3, 'j'},
    // Greek, upper case
    {0x0391, 'A'},
    {0x0392, 'B'},
    {0x0395, 'E'},
    {0x0396, 'Z'},
    {0x0397, 'H'},
    {0x0399, 'I'},
    {0x039A, 'K'},
    {0x039C, 'M'},
    {0x039D, 'N'},
    {0x039F, 'O'},
    {0x03A1, 'P'},
    {0x03A4, 'T'},
    {0x03A5, 'Y'},
    {0x03A7, 'X'},
    {0x03F9, 'C'},
    {0x037F, 'J'},
  };

  /** Latin letter of each look-alike, indexed by code point - 0x0370; 0 where there is none. */
  private static final char[] LATIN = new char[0x0530 - 0x0370];

  static {
    for (int[] pair : LOOK_ALIKES) {
      LATIN[pair[0] - 0x0370] = (char) pair[1];
    }
  }

  /**
   * Whether {@code cp} is a Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 14 to
   * 15.1; ObfuscationTest holds the file's ranges): drawn as nothing, so it can sit inside a word
   * unseen.
   */
  public static boolean isDefaultIgnorable(int cp) {
    if (cp < 0x00AD) {
      return false;
    }
    if (cp < 0x10000) {
      return cp == 0x00AD
          || cp == 0x034F
          || cp == 0x061C
          || cp == 0x115F
          || cp == 0x1160
          || cp == 0x17B4
          || cp == 0x17B5
          || (cp >= 0x180B && cp <= 0x180F)
          || (cp >= 0x200B && cp <= 0x200F)
          || (cp >= 0x202A && cp <= 0x202E)
          || (cp >= 0x2060 && cp <= 0x206F)
          || cp == 0x3164
          || (cp >= 0xFE00 && cp <= 0xFE0F)
          || cp == 0xFEFF
          || cp == 0xFFA0
          || (cp >= 0xFFF0 && cp <= 0xFFF8);
    }
    return (cp >= 0x1BCA0 && cp <= 0x1BCA3)
        || (cp >= 0x1D173 && cp <= 0x1D17A)
        || (cp >= 0xE0000 && cp <= 0xE0FFF);
  }

  /** The Latin letter that {@code cp} displays as, or 0 when it is not a look-alike. */
  static char latinLookAlike(int cp) {
    return cp >= 0x0370 && cp < 0x0530 ? LATIN[cp - 0x0370] : 0;
  }

  /**
   * {@code text} without its invisible characters, and with look-alike letters read as the Latin
   * letters they display as where they disguise a Latin word (see the class comment). The same
   * string when there is nothing to change, which a cheap scan finds for most texts.
   */
  public static String reveal(String text) {
    if (!mayNeedReveal(text)) {
      return text;
    }
    boolean latinText = readsAsLatin(text);
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (!isWordPart(cp)) {
        if (!isDefaultIgnorable(cp)) {
          out.appendCodePoint(cp);
        }
        i += Character.charCount(cp);
        continue;
      }
      int end = wordEnd(text, i);
      Word word = Word.of(text, i, end);
      boolean fold = word.lookAlikes > 0 && (word.mixed() || (latinText && word.wholly()));
      appendRevealed(out, text, i, end, fold);
      i = end;
    }
    return out.toString();
  }

  /** The word at [start, end) without invisible characters, look-alikes read as Latin if fold. */
  private static void appendRevealed(
      StringBuilder out, String text, int start, int end, boolean fold) {
    for (int i = start; i < end; ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      char latin = fold ? latinLookAlike(cp) : 0;
      if (latin != 0) {
        out.append(latin);
      } else if (!isDefaultIgnorable(cp)) {
        out.appendCodePoint(cp);
      }
    }
  }

  /**
   * What disguises words in a text: how many words hide invisible characters between their letters,
   * how many mix scripts (or are written wholly in look-alikes inside a text that reads as Latin),
   * which invisible code points (ascending), and up to {@link #EXAMPLES} of those words as they
   * read.
   */
  public record Found(
      int hiddenWords, int mixedWords, List<Integer> invisibleCodePoints, List<String> examples) {
    public Found {
      invisibleCodePoints = List.copyOf(invisibleCodePoints);
      examples = List.copyOf(examples);
    }
  }

  /** Words quoted in a {@link Found}. */
  public static final int EXAMPLES = 3;

  /**
   * What disguises words in {@code text}, or null when nothing does. Not flagged: invisible
   * characters between words or next to symbols (emoji sequences joined by U+200D, a variation
   * selector after an emoji, flag tag sequences), joiners and variation selectors between letters
   * of scripts that use them (Arabic, Persian, the Indic scripts, Han ideographic variation
   * sequences): only Latin, Cyrillic and Greek letters with an invisible character between them
   * count. A word wholly in look-alike letters counts only with two letters or more (a lone Greek
   * letter in English is usually a symbol: "the angle α") and only in a text that has Latin letters
   * and reads as Latin.
   */
  public static Found inspect(String text) {
    if (!mayNeedReveal(text)) {
      return null;
    }
    boolean latinText = readsAsLatin(text);
    int hidden = 0;
    int mixed = 0;
    Set<Integer> invisible = new TreeSet<>();
    List<String> examples = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (!isWordPart(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      int end = wordEnd(text, i);
      Word word = Word.of(text, i, end);
      boolean hides = !word.hiddenBetweenLetters.isEmpty();
      // As reveal reads it, less a lone look-alike letter (a symbol, more often than not).
      boolean fold = word.lookAlikes > 0 && (word.mixed() || (latinText && word.wholly()));
      boolean swaps = fold && (word.mixed() || word.lookAlikes >= 2);
      if (hides) {
        hidden++;
        invisible.addAll(word.hiddenBetweenLetters);
      }
      if (swaps) {
        mixed++;
      }
      if ((hides || swaps) && examples.size() < EXAMPLES) {
        StringBuilder example = new StringBuilder();
        appendRevealed(example, text, i, end, fold);
        examples.add(example.toString());
      }
      i = end;
    }
    return hidden + mixed == 0
        ? null
        : new Found(hidden, mixed, new ArrayList<>(invisible), examples);
  }

  /** Whether some character could be invisible or a look-alike (one pass over the chars). */
  private static boolean mayNeedReveal(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x00AD
          && (Character.isSurrogate(c)
              || isDefaultIgnorable(c)
              || (c >= 0x0370 && c < 0x0530 && LATIN[c - 0x0370] != 0))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a text reads as Latin: it has Latin letters, and at most one of its letters in ten is a
   * Cyrillic or Greek letter without a Latin look-alike. Russian and Greek prose does not (about
   * six of its letters in ten have none); English with a disguised word, or a Greek symbol or two,
   * does.
   */
  static boolean readsAsLatin(String text) {
    int letters = 0;
    int latin = 0;
    int foreign = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') {
          letters++;
          latin++;
        }
      } else if (Character.isLetter(cp) && !isDefaultIgnorable(cp)) {
        letters++;
        Character.UnicodeScript script = Character.UnicodeScript.of(cp);
        if (script == Character.UnicodeScript.LATIN) {
          latin++;
        } else if (latinLookAlike(cp) == 0
            && (script == Character.UnicodeScript.CYRILLIC
                || script == Character.UnicodeScript.GREEK)) {
          foreign++;
        }
      }
    }
    return latin > 0 && foreign * 10 <= letters;
  }

  /** Letters, combining marks and invisible characters: what a word is made of here. */
  private static boolean isWordPart(int cp) {
    if (cp < 0x80) {
      return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    }
    if (Character.isLetter(cp) || isDefaultIgnorable(cp)) {
      return true;
    }
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK
        || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK;
  }

  private static int wordEnd(String text, int start) {
    int i = start;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (!isWordPart(cp)) {
        break;
      }
      i += Character.charCount(cp);
    }
    return i;
  }

  /** Script of a letter as this class sorts them. */
  private enum Script {
    LATIN,
    CYRILLIC,
    GREEK,
    OTHER;

    static Script of(int cp) {
      if (cp < 0x80) {
        return LATIN;
      }
      Character.UnicodeScript script = Character.UnicodeScript.of(cp);
      return switch (script) {
        case LATIN -> LATIN;
        case CYRILLIC -> CYRILLIC;
        case GREEK -> GREEK;
        default -> OTHER;
      };
    }
  }

  /** What one word holds. */
  private static final class Word {
    int latin;
    int cyrillic;
    int greek;
    int other;
    int lookAlikes;
    final Set<Integer> hiddenBetweenLetters = new TreeSet<>();

    /** Mixes Latin with Cyrillic or Greek, or Cyrillic with Greek. */
    boolean mixed() {
      int scripts = (latin > 0 ? 1 : 0) + (cyrillic > 0 ? 1 : 0) + (greek > 0 ? 1 : 0);
      return scripts >= 2;
    }

    /** Written wholly in look-alike letters (and combining marks or invisible characters). */
    boolean wholly() {
      return latin == 0 && other == 0 && lookAlikes == cyrillic + greek;
    }

    static Word of(String text, int start, int end) {
      Word word = new Word();
      // The script of the last letter before the current position (through combining marks), and
      // the invisible characters seen since it.
      Script previous = null;
      List<Integer> pending = new ArrayList<>();
      for (int i = start; i < end; ) {
        int cp = text.codePointAt(i);
        i += Character.charCount(cp);
        if (isDefaultIgnorable(cp)) {
          if (previous != null) {
            pending.add(cp);
          }
          continue;
        }
        if (!Character.isLetter(cp)) {
          continue; // a combining mark belongs to the letter before it
        }
        Script script = Script.of(cp);
        switch (script) {
          case LATIN -> word.latin++;
          case CYRILLIC -> word.cyrillic++;
          case GREEK -> word.greek++;
          default -> word.other++;
        }
        if (latinLookAlike(cp) != 0) {
          word.lookAlikes++;
        }
        if (!pending.isEmpty() && script != Script.OTHER && previous != Script.OTHER) {
          word.hiddenBetweenLetters.addAll(pending);
        }
        pending.clear();
        previous = script;
      }
      return word;
    }
  }
}
