package io.genguard.moderation.scoring;

import io.genguard.provenance.text.DisguisingCharacters;
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
 * <p>Invisible characters and look-alike letters are the lists of the provenance module's {@link
 * DisguisingCharacters} (Default_Ignorable_Code_Point; the Cyrillic and Greek letters Unicode's
 * confusables map to one Latin letter), shared with the watermark's tokenizer, which drops the
 * first and folds the second by this class's rule, applied to lower-case tokens. Other scripts'
 * look-alikes (Armenian, Cherokee) are not covered; full-width and mathematical letters are not
 * look-alikes here because NFKC, which the normalizer applies first, turns them into plain Latin
 * letters.
 *
 * <p>A look-alike letter is read as Latin only where it disguises a Latin word: in a word that
 * mixes it with Latin letters (or Cyrillic with Greek), or in a word written wholly in look-alikes
 * inside a text that reads as Latin (almost no Cyrillic or Greek letter without a Latin look-alike,
 * {@link #readsAsLatin}). Russian or Greek text is left as it is: a word wholly in one script is
 * not mixed, and such a text does not read as Latin.
 */
public final class Obfuscation {
  private Obfuscation() {}

  /** Drawn as nothing ({@link DisguisingCharacters#isDefaultIgnorable}). */
  private static boolean isDefaultIgnorable(int cp) {
    return DisguisingCharacters.isDefaultIgnorable(cp);
  }

  /** The Latin letter that {@code cp} displays as, or 0 when it is not a look-alike. */
  static char latinLookAlike(int cp) {
    return DisguisingCharacters.latinLookAlike(cp);
  }

  /**
   * {@code text} without its invisible characters, with a space for each code point that displays
   * as one ({@link DisguisingCharacters#isBlank}: U+2800, the Hangul fillers), and with look-alike
   * letters read as the Latin letters they display as where they disguise a Latin word (see the
   * class comment). The same string when there is nothing to change, which a cheap scan finds for
   * most texts.
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
        if (DisguisingCharacters.isBlank(cp)) {
          out.append(' ');
        } else if (!isDefaultIgnorable(cp)) {
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
              || DisguisingCharacters.isBlank(c)
              || latinLookAlike(c) != 0)) {
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

  /**
   * Letters, combining marks and invisible characters: what a word is made of here. Not the blank
   * code points that display as a space (the Hangul fillers are letters), which end a word.
   */
  private static boolean isWordPart(int cp) {
    if (cp < 0x80) {
      return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    }
    if (DisguisingCharacters.isBlank(cp)) {
      return false;
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
