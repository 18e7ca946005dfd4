package io.genguard.provenance.text;

/**
 * The two lists of characters that make a word display as one thing and read as another: invisible
 * code points ("ki\u00ADll", a soft hyphen inside) and letters of another script that look like
 * Latin ones ("k\u0456ll", a Cyrillic i). The watermark's {@link WordTokenizer} drops the first and
 * folds the second, so that such edits do not change tokens; moderation's obfuscation screening
 * reads words through the same lists. Plain data, stateless.
 *
 * <p>Invisible means Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, the same
 * list from Unicode 14 to 15.1): code points a renderer draws as nothing when it has no glyph for
 * them (soft hyphen, zero-width space and joiners, bidirectional controls, variation selectors,
 * Hangul fillers, tag characters). Look-alike letters are the Cyrillic and Greek letters that
 * Unicode's confusables (UTS #39, confusables.txt) map to one Latin letter, or that render as one
 * in common fonts; the table below is that short list, not the full skeleton algorithm (no library
 * on the classpath offers it). Other scripts' look-alikes (Armenian, Cherokee) are not covered;
 * full-width and mathematical letters are not look-alikes here because NFKC turns them into plain
 * Latin letters.
 */
public final class DisguisingCharacters {
  private DisguisingCharacters() {}

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

  /** Every look-alike lies in [FIRST, END): the Greek and Cyrillic blocks. */
  private static final int FIRST = 0x0370;

  private static final int END = 0x0530;

  /** Latin letter of each look-alike, indexed by code point - FIRST; 0 where there is none. */
  private static final char[] LATIN = new char[END - FIRST];

  /**
   * The lower-case Latin letter of each letter as it is after lower-casing, indexed like {@link
   * #LATIN}: a lower-case look-alike's own letter, else the one of the capital it is the lower case
   * of (Cyrillic т for Т, T; Greek τ for Τ, T).
   */
  private static final char[] LATIN_IN_LOWER_CASE = new char[END - FIRST];

  static {
    for (int[] pair : LOOK_ALIKES) {
      LATIN[pair[0] - FIRST] = (char) pair[1];
      if (Character.isLowerCase(pair[0])) {
        LATIN_IN_LOWER_CASE[pair[0] - FIRST] = Character.toLowerCase((char) pair[1]);
      }
    }
    // A capital's lower case keeps the letter of its own, where it has one: Greek nu (like v) is
    // the lower case of Nu (like N), and upsilon (like u) of Upsilon (like Y).
    for (int[] pair : LOOK_ALIKES) {
      int lower = Character.toLowerCase(pair[0]);
      if (lower != pair[0] && LATIN_IN_LOWER_CASE[lower - FIRST] == 0) {
        LATIN_IN_LOWER_CASE[lower - FIRST] = Character.toLowerCase((char) pair[1]);
      }
    }
  }

  /**
   * Whether {@code cp} is a Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 14 to
   * 15.1; DisguisingCharactersTest holds the file's ranges): drawn as nothing, so it can sit inside
   * a word unseen.
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

  /**
   * Whether {@code cp} displays as a blank gap like a space although Java does not count it as
   * white space: U+2800 BRAILLE PATTERN BLANK (a symbol) and the Hangul fillers U+115F, U+1160,
   * U+3164 and U+FFA0 (letters, and Default_Ignorable, yet common fonts draw them as an empty cell:
   * the usual "invisible name" characters). Put where each space was, they keep the text looking
   * the same; the watermark's tokenizer and moderation's {@code Obfuscation.reveal} read them as
   * spaces (since the forty-first session), where before the first made a token of each and the
   * others were dropped, joining the words around them. U+180E MONGOLIAN VOWEL SEPARATOR, white
   * space before Unicode 6.3, is drawn as nothing since and stays an invisible character.
   */
  public static boolean isBlank(int cp) {
    return cp == 0x2800 || cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0;
  }

  /** {@code text} with each {@link #isBlank} code point replaced by a space; itself if none. */
  public static String withBlanksAsSpaces(String text) {
    int first = -1;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x115F && isBlank(c)) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    out.append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char c = text.charAt(i);
      // All five are in the Basic Multilingual Plane: no surrogate half is one of them.
      out.append(isBlank(c) ? ' ' : c);
    }
    return out.toString();
  }

  /**
   * The Latin letter that {@code cp} displays as, in its case, or 0 when it is not a look-alike.
   */
  public static char latinLookAlike(int cp) {
    return cp >= FIRST && cp < END ? LATIN[cp - FIRST] : 0;
  }

  /**
   * For text already lower-cased: the lower-case Latin letter that {@code cp}, or the capital it is
   * the lower case of, displays as; 0 when neither is a look-alike. Greek ν and υ stay v and u
   * (their capitals look like N and Y).
   */
  public static char latinLookAlikeInLowerCase(int cp) {
    return cp >= FIRST && cp < END ? LATIN_IN_LOWER_CASE[cp - FIRST] : 0;
  }

  /**
   * {@code text} without its Default_Ignorable code points; {@code text} itself when it has none.
   */
  public static String withoutDefaultIgnorables(String text) {
    int first = firstDefaultIgnorable(text);
    if (first < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    out.append(text, 0, first);
    for (int i = first; i < text.length(); ) {
      int cp = text.codePointAt(i);
      if (!isDefaultIgnorable(cp)) {
        out.appendCodePoint(cp);
      }
      i += Character.charCount(cp);
    }
    return out.toString();
  }

  /** The index of the first Default_Ignorable code point in {@code text}, or -1. */
  private static int firstDefaultIgnorable(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x00AD) {
        continue;
      }
      // Tag characters and the others above U+FFFF are surrogate pairs.
      int cp = Character.isHighSurrogate(c) ? text.codePointAt(i) : c;
      if (isDefaultIgnorable(cp)) {
        return i;
      }
    }
    return -1;
  }
}
