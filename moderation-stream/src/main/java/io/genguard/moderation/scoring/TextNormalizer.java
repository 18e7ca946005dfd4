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

  /** NFKC, lower case, entities decoded, URLs / mentions / retweet markers removed. */
  public static String normalize(String text) {
    String s = Normalizer.normalize(text, Normalizer.Form.NFKC);
    s = decodeEntities(s);
    s = URL.matcher(s).replaceAll(" ");
    s = MENTION.matcher(s).replaceAll(" ");
    s = RETWEET.matcher(s).replaceAll(" ");
    s = s.toLowerCase(Locale.ROOT);
    // "soooooo" and "sooo" are the same word; keep three so emphasis still differs from plain.
    s = REPEATED_CHAR.matcher(s).replaceAll("$1$1$1");
    return WHITESPACE.matcher(s).replaceAll(" ").trim();
  }

  private static String decodeEntities(String s) {
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
