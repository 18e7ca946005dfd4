package io.genguard.provenance.text;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The word-level tokenizer the text watermark is defined over, so that detection needs nothing but
 * the text and a key.
 *
 * <p>Tokens: text is NFKC-normalised, lower-cased ({@link Locale#ROOT}) and typographic apostrophes
 * become {@code '}; a word is a run of letters, marks and digits, optionally joined by inner
 * apostrophes ({@code don't}, {@code parliament's}); every other non-space code point is a token of
 * its own (punctuation). A token's id is the first four bytes of SHA-256 over its UTF-8 form
 * (big-endian), a hashed vocabulary that needs no table and is the same on every platform.
 *
 * <p>Invariant (tested): for any list of tokens this tokenizer produces, {@code
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
   * words repeat (Zipf). At most this many entries of at most 32 chars (a few MiB).
   */
  static final int TOKEN_ID_CACHE_LIMIT = 1 << 16;

  private static final ConcurrentHashMap<String, Integer> TOKEN_IDS = new ConcurrentHashMap<>();

  private WordTokenizer() {}

  /** Normalised tokens of the text, in order. */
  public static List<String> tokenize(String text) {
    String normalized = normalize(text);
    List<String> tokens = new ArrayList<>();
    int i = 0;
    int n = normalized.length();
    while (i < n) {
      int cp = normalized.codePointAt(i);
      if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      if (isWordCodePoint(cp)) {
        int start = i;
        i = endOfWordRun(normalized, i);
        // Inner apostrophes join two runs: "don't", "parliament's".
        while (i + 1 < n
            && normalized.charAt(i) == '\''
            && isWordCodePoint(normalized.codePointAt(i + 1))) {
          i = endOfWordRun(normalized, i + 1);
        }
        tokens.add(normalized.substring(start, i));
      } else {
        tokens.add(new String(Character.toChars(cp)));
        i += Character.charCount(cp);
      }
    }
    return tokens;
  }

  /** Watermark token ids of the text, in order (see {@link #tokenId(String)}). */
  public static int[] tokenIds(String text) {
    List<String> tokens = tokenize(text);
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokenId(tokens.get(i));
    }
    return ids;
  }

  /**
   * The id of one normalised token: SHA-256 of its UTF-8 bytes, first four bytes big-endian. Two
   * distinct words collide with probability 2^-32 per pair, which only adds noise to detection.
   */
  public static int tokenId(String normalizedToken) {
    Integer cached = TOKEN_IDS.get(normalizedToken);
    if (cached != null) {
      return cached;
    }
    int id = hashedId(normalizedToken);
    // Bounded: text made of endless new words fills it once, then is hashed as before.
    if (TOKEN_IDS.size() < TOKEN_ID_CACHE_LIMIT && normalizedToken.length() <= 32) {
      TOKEN_IDS.putIfAbsent(normalizedToken, id);
    }
    return id;
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

  private static String normalize(String text) {
    return Normalizer.normalize(text, Normalizer.Form.NFKC)
        .toLowerCase(Locale.ROOT)
        .replace('\u2019', '\'')
        .replace('\u2018', '\'');
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

  private static boolean isWordCodePoint(int cp) {
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
