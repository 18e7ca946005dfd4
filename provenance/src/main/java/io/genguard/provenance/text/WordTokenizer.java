package io.genguard.provenance.text;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The word-level tokenizer the text watermark is defined over, so that detection needs nothing but
 * the text and a key.
 *
 * <p>Tokens: code points that display as a blank gap ({@link DisguisingCharacters#isBlank}: U+2800
 * braille blank, the Hangul fillers) are spaces, invisible code points ({@link
 * DisguisingCharacters#isDefaultIgnorable}: zero-width space and joiners, soft hyphen, byte-order
 * mark, variation selectors, tag characters) are dropped, then text is NFKC-normalised, lower-cased
 * ({@link Locale#ROOT}) and typographic apostrophes become {@code '}; a word is a run of letters,
 * marks and digits, optionally joined by inner apostrophes ({@code don't}, {@code parliament's});
 * every other non-space code point is a token of its own (punctuation). Cyrillic and Greek letters
 * that look like Latin ones are read as those Latin letters where they disguise a Latin word (see
 * foldLookAlikes). A token's id is the first four bytes of SHA-256 over its UTF-8 form
 * (big-endian), a hashed vocabulary that needs no table and is the same on every platform.
 *
 * <p>Dropping and folding keep edits that do not change what a reader sees from changing tokens
 * (the watermark would otherwise be removed by a zero-width space after every space, or by Cyrillic
 * а, е, о for a, e, o); text without invisible characters and without Cyrillic or Greek letters
 * tokenizes exactly as before they were added (watermark detector version 2; tested on Europarl and
 * on model responses).
 *
 * <p>Invariant (tested): for any list of tokens this tokenizer produces from one text, {@code
 * tokenize(detokenize(tokens))} returns the same list, so text a generator renders re-tokenizes to
 * the tokens it sampled, and casing changes do not move a token.
 */
public final class WordTokenizer {
  /** Punctuation that attaches to the token before it (no space in front). */
  private static final Set<String> CLOSING =
      Set.of(".", ",", ";", ":", "!", "?", ")", "]", "}", "%");

  /** Punctuation that attaches to the token after it (no space behind). */
  private static final Set<String> OPENING = Set.of("(", "[", "{");

  /** Tokens that join their neighbours without spaces on either side. */
  private static final Set<String> JOINING = Set.of("-", "/");

  private static final Set<String> SENTENCE_END = Set.of(".", "!", "?");

  /**
   * Ids of tokens seen before: a SHA-256 per token was the largest cost of watermark detection, and
   * words repeat (Zipf). At most this many entries of at most 32 chars (a few MiB); a power of two.
   */
  static final int TOKEN_ID_CACHE_LIMIT = 1 << 16;

  private static final CachedId[] TOKEN_IDS = new CachedId[TOKEN_ID_CACHE_LIMIT];

  private WordTokenizer() {}

  /** Normalised tokens of the text, in order. */
  public static List<String> tokenize(String text) {
    String normalized = normalize(text);
    int[] bounds = tokenBounds(normalized);
    int count = bounds[0];
    List<String> tokens = new ArrayList<>(count);
    for (int t = 0; t < count; t++) {
      tokens.add(normalized.substring(bounds[1 + 2 * t], bounds[2 + 2 * t]));
    }
    if (mayHoldLookAlikes(normalized)) {
      foldLookAlikes(tokens);
    }
    return tokens;
  }

  /**
   * Watermark token ids of the text, in order: {@link #tokenId(String)} of each of {@link
   * #tokenize(String)}'s tokens. Text without look-alike letters (nearly all of it) is read without
   * making a string of each token: the ids of tokens seen before are found by the text they span.
   */
  public static int[] tokenIds(String text) {
    String normalized = normalize(text);
    if (mayHoldLookAlikes(normalized)) {
      List<String> tokens = tokenize(text);
      int[] ids = new int[tokens.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = tokenId(tokens.get(i));
      }
      return ids;
    }
    int[] bounds = tokenBounds(normalized);
    int[] ids = new int[bounds[0]];
    for (int t = 0; t < ids.length; t++) {
      ids[t] = idOfSpan(normalized, bounds[1 + 2 * t], bounds[2 + 2 * t]);
    }
    return ids;
  }

  /**
   * Where the tokens of normalised text are, before look-alikes are folded: element 0 is the count
   * n, then n pairs of start (inclusive) and end (exclusive) char indexes. A word is a run of word
   * code points joined by inner apostrophes; every other code point that is not a space is a token
   * of its own.
   */
  private static int[] tokenBounds(String normalized) {
    int n = normalized.length();
    int[] bounds = new int[1 + 2 * Math.min(n, 64)];
    int count = 0;
    int i = 0;
    while (i < n) {
      int cp = normalized.codePointAt(i);
      if (isSpace(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      int start = i;
      if (isWordCodePoint(cp)) {
        i = endOfWordRun(normalized, i);
        // Inner apostrophes join two runs: "don't", "parliament's".
        while (i + 1 < n
            && normalized.charAt(i) == '\''
            && isWordCodePoint(normalized.codePointAt(i + 1))) {
          i = endOfWordRun(normalized, i + 1);
        }
      } else {
        i += Character.charCount(cp);
      }
      if (2 + 2 * count >= bounds.length) {
        bounds = Arrays.copyOf(bounds, 1 + 4 * (count + 1));
      }
      bounds[1 + 2 * count] = start;
      bounds[2 + 2 * count] = i;
      count++;
    }
    bounds[0] = count;
    return bounds;
  }

  /**
   * The id of one normalised token: SHA-256 of its UTF-8 bytes, first four bytes big-endian. Two
   * distinct words collide with probability 2^-32 per pair, which only adds noise to detection.
   */
  public static int tokenId(String normalizedToken) {
    return idOfSpan(normalizedToken, 0, normalizedToken.length());
  }

  /**
   * {@link #tokenId} of {@code text.substring(start, end)}, from the cache of ids seen before when
   * it holds the token: one slot per hash of the token's chars, a token of at most 32 chars
   * replacing the one in its slot (so at most {@link #TOKEN_ID_CACHE_LIMIT} tokens, a few MiB).
   * Threads share it without locks: an entry is immutable (final fields), so a thread sees a slot
   * empty, or holding an older or a newer entry, never half of one, and any of them gives the
   * token's id or a miss that hashes it again.
   */
  private static int idOfSpan(String text, int start, int end) {
    int length = end - start;
    int hash = 0;
    for (int i = start; i < end; i++) {
      hash = 31 * hash + text.charAt(i);
    }
    int slot = (hash ^ (hash >>> 16)) & (TOKEN_ID_CACHE_LIMIT - 1);
    CachedId cached = TOKEN_IDS[slot];
    if (cached != null
        && cached.token.length() == length
        && cached.token.regionMatches(0, text, start, length)) {
      return cached.id;
    }
    String token = start == 0 && end == text.length() ? text : text.substring(start, end);
    int id = hashedId(token);
    // Bounded: a long token is hashed every time rather than kept.
    if (length <= 32) {
      TOKEN_IDS[slot] = new CachedId(token, id);
    }
    return id;
  }

  /** A token and its id, immutable so that threads can share it through a plain array. */
  private static final class CachedId {
    final String token;
    final int id;

    CachedId(String token, int id) {
      this.token = token;
      this.id = id;
    }
  }

  private static int hashedId(String normalizedToken) {
    byte[] digest = sha256(normalizedToken.getBytes(StandardCharsets.UTF_8));
    return ((digest[0] & 0xff) << 24)
        | ((digest[1] & 0xff) << 16)
        | ((digest[2] & 0xff) << 8)
        | (digest[3] & 0xff);
  }

  /** Whether the string is exactly one token as {@link #tokenize(String)} would produce it. */
  public static boolean isToken(String candidate) {
    List<String> tokens = tokenize(candidate);
    return tokens.size() == 1 && tokens.get(0).equals(candidate);
  }

  /**
   * Renders tokens as readable text: words separated by spaces, punctuation attached, the first
   * word of each sentence and the pronoun "i" capitalised (unless its upper case would read back as
   * another token, as {@code ı} would). The inverse of {@link #tokenize(String)} up to spacing and
   * case.
   */
  public static String detokenize(List<String> tokens) {
    StringBuilder text = new StringBuilder();
    boolean capitalizeNext = true;
    String previous = null;
    for (String token : tokens) {
      if (previous != null
          && !CLOSING.contains(token)
          && !OPENING.contains(previous)
          && !JOINING.contains(token)
          && !JOINING.contains(previous)) {
        text.append(' ');
      }
      boolean word = !token.isEmpty() && isWordCodePoint(token.codePointAt(0));
      if (word && (capitalizeNext || token.equals("i") || token.startsWith("i'"))) {
        text.append(capitalized(token));
      } else {
        text.append(token);
      }
      if (word) {
        capitalizeNext = false;
      } else if (SENTENCE_END.contains(token)) {
        capitalizeNext = true;
      }
      previous = token;
    }
    return text.toString();
  }

  /**
   * The token with its first letter upper-cased, or the token itself when that upper case would
   * tokenize as another token: Turkish dotless {@code ı} upper-cases to {@code I}, which
   * lower-cases to {@code i}, and the watermark detector would see a word the generator did not
   * sample.
   */
  private static String capitalized(String token) {
    int first = token.codePointAt(0);
    int upper = Character.toUpperCase(first);
    if (upper == first) {
      return token;
    }
    String candidate =
        new StringBuilder(token.length() + 1)
            .appendCodePoint(upper)
            .append(token, Character.charCount(first), token.length())
            .toString();
    return normalize(candidate).equals(token) ? candidate : token;
  }

  /**
   * Blank code points that display as a space ({@link DisguisingCharacters#isBlank}: U+2800, the
   * Hangul fillers) read as spaces, then invisible code points dropped before NFKC, so that a mark
   * after one composes with the letter before it as it would without it (NFKC turns no other code
   * point into an invisible one; it turns U+3164 and U+FFA0 into U+1160, a blank one, which are
   * spaces by then).
   */
  private static String normalize(String text) {
    if (isAscii(text)) {
      // No blank, invisible or typographic code point, and NFKC leaves ASCII as it is.
      return text.toLowerCase(Locale.ROOT);
    }
    return Normalizer.normalize(
            DisguisingCharacters.withoutDefaultIgnorables(
                DisguisingCharacters.withBlanksAsSpaces(text)),
            Normalizer.Form.NFKC)
        .toLowerCase(Locale.ROOT)
        .replace('\u2019', '\'')
        .replace('\u2018', '\'');
  }

  /**
   * Whether some letter of the lower-cased text could be a look-alike (one pass over the chars).
   */
  private static boolean mayHoldLookAlikes(String normalized) {
    for (int i = 0; i < normalized.length(); i++) {
      if (DisguisingCharacters.latinLookAlikeInLowerCase(normalized.charAt(i)) != 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Reads look-alike letters ({@link DisguisingCharacters#latinLookAlikeInLowerCase}) as the Latin
   * letters they display as, in the words they disguise: a word that mixes Latin with Cyrillic or
   * Greek letters (or Cyrillic with Greek), and a word written wholly in look-alikes inside a text
   * that reads as Latin, one with Latin letters where at most one letter in ten is a Cyrillic or
   * Greek letter that looks like none. Russian and Greek prose is left as it is (a fifth to a third
   * of its letters look like no Latin one); so is Latin prose (no look-alikes to fold).
   *
   * <p>The rule of moderation's Obfuscation.reveal, applied to lower-case tokens so that the answer
   * does not depend on case: detokenize capitalises sentence starts, and a capital can be a
   * look-alike where its lower case is not (Cyrillic Т and т). The letters folded in mixed words
   * count as Latin when the text is weighed, so the folded tokens, rendered and read again, weigh
   * the same and fold the same: the round trip holds.
   */
  private static void foldLookAlikes(List<String> tokens) {
    LetterCounts[] counts = new LetterCounts[tokens.size()];
    int letters = 0;
    int latin = 0;
    int foreign = 0;
    for (int i = 0; i < counts.length; i++) {
      LetterCounts word = LetterCounts.of(tokens.get(i));
      counts[i] = word;
      letters += word.letters;
      foreign += word.foreign;
      latin += word.latin + (word.mixed() ? word.lookAlikes : 0);
    }
    boolean latinText = latin > 0 && foreign * 10 <= letters;
    for (int i = 0; i < counts.length; i++) {
      LetterCounts word = counts[i];
      if (word.lookAlikes > 0 && (word.mixed() || (latinText && word.wholly()))) {
        tokens.set(i, folded(tokens.get(i)));
      }
    }
  }

  /** The token with its look-alike letters read as Latin, marks composed again (NFKC). */
  private static String folded(String token) {
    StringBuilder out = new StringBuilder(token.length());
    for (int i = 0; i < token.length(); ) {
      int cp = token.codePointAt(i);
      i += Character.charCount(cp);
      char latin = DisguisingCharacters.latinLookAlikeInLowerCase(cp);
      if (latin != 0) {
        out.append(latin);
      } else {
        out.appendCodePoint(cp);
      }
    }
    // Cyrillic о with an acute has no composed form; Latin o with one does (ó).
    return Normalizer.normalize(out, Normalizer.Form.NFKC);
  }

  /** The letters of one token by script, as {@link #foldLookAlikes} weighs them. */
  private static final class LetterCounts {
    int letters;
    int latin;
    int cyrillic;
    int greek;
    int other;
    int lookAlikes;

    /** Cyrillic and Greek letters that look like no Latin letter. */
    int foreign;

    /** Mixes Latin with Cyrillic or Greek, or Cyrillic with Greek. */
    boolean mixed() {
      return (latin > 0 ? 1 : 0) + (cyrillic > 0 ? 1 : 0) + (greek > 0 ? 1 : 0) >= 2;
    }

    /** Written wholly in look-alike letters (and marks or digits). */
    boolean wholly() {
      return latin == 0 && other == 0 && lookAlikes == cyrillic + greek;
    }

    static LetterCounts of(String token) {
      LetterCounts counts = new LetterCounts();
      for (int i = 0; i < token.length(); ) {
        int cp = token.codePointAt(i);
        i += Character.charCount(cp);
        if (!Character.isLetter(cp)) {
          continue;
        }
        counts.letters++;
        Character.UnicodeScript script =
            cp < 0x80 ? Character.UnicodeScript.LATIN : Character.UnicodeScript.of(cp);
        boolean lookAlike = DisguisingCharacters.latinLookAlikeInLowerCase(cp) != 0;
        if (lookAlike) {
          counts.lookAlikes++;
        }
        if (script == Character.UnicodeScript.LATIN) {
          counts.latin++;
        } else if (script == Character.UnicodeScript.CYRILLIC) {
          counts.cyrillic++;
          counts.foreign += lookAlike ? 0 : 1;
        } else if (script == Character.UnicodeScript.GREEK) {
          counts.greek++;
          counts.foreign += lookAlike ? 0 : 1;
        } else {
          counts.other++;
        }
      }
      return counts;
    }
  }

  private static int endOfWordRun(String text, int from) {
    int i = from;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (!isWordCodePoint(cp)) {
        break;
      }
      i += Character.charCount(cp);
    }
    return i;
  }

  /** White space, a space character or a control: what separates tokens and is none. */
  private static boolean isSpace(int cp) {
    if (cp < 0x80) {
      // The controls (U+0000 to U+001F, DEL) and the space: all of ASCII that is any of them.
      return cp <= 0x20 || cp == 0x7F;
    }
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp);
  }

  private static boolean isAscii(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static boolean isWordCodePoint(int cp) {
    if (cp < 0x80) {
      // Letters and digits; no ASCII code point is a mark.
      return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    }
    return Character.isLetterOrDigit(cp)
        || Character.getType(cp) == Character.NON_SPACING_MARK
        || Character.getType(cp) == Character.COMBINING_SPACING_MARK;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
