package io.genguard.moderation.scoring;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Normalizes text before feature extraction so that the model sees words, not the formatting of the
 * source it was trained on: tweets carry "RT @user", URLs and HTML entities that would otherwise
 * become spurious evidence for whichever label dominates that source.
 */
public final class TextNormalizer {
  private static final Pattern URL = Pattern.compile("(?i)\\b(?:https?://|www\\.)\\S+");
  private static final Pattern MENTION = Pattern.compile("@\\w+:?");
  private static final Pattern RETWEET = Pattern.compile("(?i)(?:^|\\s)rt(?=\\s)");
  private static final Pattern NUMERIC_ENTITY = Pattern.compile("&#(\\d{1,6});");
  private static final Pattern REPEATED_CHAR = Pattern.compile("(.)\\1{3,}");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private TextNormalizer() {}

  /**
   * NFKC, entities decoded, invisible characters removed and look-alike letters inside disguised
   * words read as Latin ({@link Obfuscation#reveal}, so that "ki\u00ADll" and "k\u0456ll" read as
   * "kill"), lower case, URLs / mentions / retweet markers removed. Each pattern runs only when a
   * cheap scan finds text it could match (most generated text has no URL, mention or retweet
   * marker): the same result, at a fraction of the cost (tested against the patterns).
   */
  public static String normalize(String text) {
    return normalize(text, true);
  }

  /**
   * What deduplication, the train/validation/test split and cross-fitting hash to key a text:
   * {@link #normalize} without {@link Obfuscation#reveal}, as it was when the committed models were
   * trained. Revealing would change the key of every tweet whose emoji carry a variation selector
   * ("&amp;#9749;&amp;#65039;"), and so move texts between the split the models trained on and the
   * held-out test split; the words of those texts, and so their features, are the same either way.
   */
  public static String splitKey(String text) {
    return normalize(text, false);
  }

  private static String normalize(String text, boolean reveal) {
    if (isPlain(text)) {
      // One scan instead of the steps' own; what they give for such a text (tested against them).
      return collapseWhitespace(text.toLowerCase(Locale.ROOT));
    }
    String s = Normalizer.normalize(text, Normalizer.Form.NFKC);
    s = decodeEntities(s);
    if (reveal) {
      // After the entities, so that "&#173;" is removed too; the look-alike letters are read as
      // the Latin letters they display as before the checks below, which then see those letters.
      s = Obfuscation.reveal(s);
    }
    // One scan for what the three patterns could match, before the first runs: removing a URL or
    // a mention leaves a space, so it makes no new '@' or "rt", and where it removes the only one
    // the pattern finds nothing and changes nothing.
    int cues = cues(s);
    if ((cues & URL_CUE) != 0) {
      s = URL.matcher(s).replaceAll(" ");
    }
    if ((cues & MENTION_CUE) != 0) {
      s = MENTION.matcher(s).replaceAll(" ");
    }
    if ((cues & RETWEET_CUE) != 0) {
      s = RETWEET.matcher(s).replaceAll(" ");
    }
    s = s.toLowerCase(Locale.ROOT);
    // "soooooo" and "sooo" are the same word; keep three so emphasis still differs from plain.
    if (hasRunOfFour(s)) {
      s = REPEATED_CHAR.matcher(s).replaceAll("$1$1$1");
    }
    return collapseWhitespace(s);
  }

  /**
   * Whether {@link #normalize} of {@code text}, and of every part of it that does not start with
   * "rt" and a whitespace character, is only that part lower-cased with its whitespace collapsed
   * ({@link #collapseWhitespace}): every character is ASCII (which NFKC and {@link
   * Obfuscation#reveal} leave as it is), with no '&amp;' (an entity), no '@' (a mention), no "http"
   * or "www." in any case (a URL), no "rt" in any case between whitespace or the start and
   * whitespace (a retweet marker), and no character four times in a row once lower-cased. One pass
   * over the chars, which {@link #normalize} of such a text ends with; most generated English text
   * is plain, and the sentence rules then read their windows without normalizing each ({@link
   * RuleSentence#of}).
   */
  static boolean isPlain(String text) {
    int length = text.length();
    char previous = 0;
    int run = 0;
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c >= 0x80 || c == '&' || c == '@') {
        return false;
      }
      char lower = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
      run = lower == previous ? run + 1 : 1;
      if (run >= 4) {
        return false;
      }
      previous = lower;
      if (lower == 'h' && asciiRegionMatches(text, i, "http")
          || lower == 'w' && asciiRegionMatches(text, i, "www.")
          || lower == 'r' && (i == 0 || isSpace(text.charAt(i - 1))) && startsRetweet(text, i)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code text} at {@code at} is "rt" in any case and a whitespace character. */
  static boolean startsRetweet(String text, int at) {
    return at + 2 < text.length()
        && (text.charAt(at) | 0x20) == 'r'
        && (text.charAt(at + 1) | 0x20) == 't'
        && isSpace(text.charAt(at + 2));
  }

  /** Whether {@code text} at {@code at} is {@code ascii} (lower case) in ASCII case folding. */
  private static boolean asciiRegionMatches(String text, int at, String ascii) {
    if (at + ascii.length() > text.length()) {
      return false;
    }
    for (int j = 0; j < ascii.length(); j++) {
      char expected = ascii.charAt(j);
      char c = text.charAt(at + j);
      if (c != expected && !(expected >= 'a' && expected <= 'z' && c == expected - ('a' - 'A'))) {
        return false;
      }
    }
    return true;
  }

  /** What {@code \s} means in a Java pattern without UNICODE_CHARACTER_CLASS. */
  private static boolean isSpace(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
  }

  /** The normalizer's last step: runs of whitespace as one space, the ends trimmed. */
  static String collapseWhitespace(String s) {
    return needsWhitespaceCollapse(s) ? WHITESPACE.matcher(s).replaceAll(" ").trim() : s.trim();
  }

  /** {@link #cues}: "http" or "www." in any case. */
  static final int URL_CUE = 1;

  /** {@link #cues}: an '@'. */
  static final int MENTION_CUE = 2;

  /** {@link #cues}: "rt" in any case. */
  static final int RETWEET_CUE = 4;

  /**
   * Which of {@link #URL_CUE}, {@link #MENTION_CUE} and {@link #RETWEET_CUE} {@code s} contains, in
   * one scan (it was one scan each). A marker's first character is compared plainly before the
   * case-insensitive region match: no other character folds to these ASCII letters after NFKC (the
   * Kelvin sign and full-width forms are already ASCII by then), and the plain comparison keeps
   * this from dominating the normalizer on long text.
   */
  static int cues(String s) {
    int cues = 0;
    int length = s.length();
    for (int i = 0; i < length && cues != (URL_CUE | MENTION_CUE | RETWEET_CUE); i++) {
      switch (s.charAt(i)) {
        case 'h', 'H' -> cues |= i + 4 <= length && restMatches(s, i, "http") ? URL_CUE : 0;
        case 'w', 'W' -> cues |= i + 4 <= length && restMatches(s, i, "www.") ? URL_CUE : 0;
        case '@' -> cues |= MENTION_CUE;
        case 'r', 'R' -> cues |= i + 2 <= length && restMatches(s, i, "rt") ? RETWEET_CUE : 0;
        default -> {
          // not the start of a marker
        }
      }
    }
    return cues;
  }

  /**
   * {@code s.regionMatches(true, at, ascii, 0, ascii.length())} after a matching first character:
   * the rest compared as ASCII in either case, and by the region match only where a character is
   * not ASCII (its case folding is the region match's to decide). The region match folds every
   * character through {@link Character#toUpperCase} and {@link Character#toLowerCase}, which cost
   * more than the normalizer's other scans on a text with many r's (it looks for "rt").
   */
  private static boolean restMatches(String s, int at, String ascii) {
    for (int j = 1; j < ascii.length(); j++) {
      char c = s.charAt(at + j);
      char expected = ascii.charAt(j);
      if (c == expected || c == Character.toUpperCase(expected)) {
        continue;
      }
      if (c < 0x80) {
        return false;
      }
      return s.regionMatches(true, at, ascii, 0, ascii.length());
    }
    return true;
  }

  /** Whether some code point occurs four times in a row (what REPEATED_CHAR could match). */
  private static boolean hasRunOfFour(String s) {
    int previous = -1;
    int run = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      run = cp == previous ? run + 1 : 1;
      if (run >= 4) {
        return true;
      }
      previous = cp;
    }
    return false;
  }

  /** Whether \s+ -> " " would change anything: a whitespace run longer than one, or not a space. */
  private static boolean needsWhitespaceCollapse(String s) {
    boolean previousWhitespace = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean whitespace = c == ' ' || (c >= '\t' && c <= '\r');
      if (whitespace && (previousWhitespace || c != ' ')) {
        return true;
      }
      previousWhitespace = whitespace;
    }
    return false;
  }

  static String decodeEntities(String s) {
    if (s.indexOf('&') < 0) {
      return s;
    }
    String decoded =
        s.replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'");
    var matcher = NUMERIC_ENTITY.matcher(decoded);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      int codePoint = Integer.parseInt(matcher.group(1));
      String replacement =
          Character.isValidCodePoint(codePoint) ? new String(Character.toChars(codePoint)) : " ";
      matcher.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(replacement));
    }
    matcher.appendTail(out);
    return out.toString();
  }
}
