package io.genguard.audit.http;

import io.genguard.audit.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A request's query string, decoded strictly: a '%' not followed by two hex digits, or escapes that
 * are not UTF-8, are refused with the parameter named (Javalin's own decoding throws on the first,
 * a 500, and turns the second into U+FFFD, another value than the one sent), and so is every name
 * the endpoint does not take, so that a misspelt or misplaced parameter is never silently ignored.
 */
final class QueryParameters {
  private final Map<String, List<String>> values;

  private QueryParameters(Map<String, List<String>> values) {
    this.values = values;
  }

  /**
   * Decodes a raw query string ({@code a=1&b=x%20y}; null or empty: no parameters) and checks its
   * names against those the endpoint takes.
   *
   * @throws InvalidInputException for malformed encoding or a name not in {@code known}
   */
  static QueryParameters parse(String rawQuery, Set<String> known) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    if (rawQuery != null) {
      for (String pair : rawQuery.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int equals = pair.indexOf('=');
        String name =
            decode("A query parameter name", equals < 0 ? pair : pair.substring(0, equals));
        if (!known.contains(name)) {
          throw new InvalidInputException(
              "Unknown query parameter '"
                  + shorten(name)
                  + "'; this endpoint takes "
                  + (known.isEmpty() ? "no query parameters" : new TreeSet<>(known)));
        }
        String value =
            equals < 0
                ? ""
                : decode("Query parameter " + shorten(name), pair.substring(equals + 1));
        values.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
      }
    }
    return new QueryParameters(values);
  }

  /** Every value given for {@code name}, in order; empty when it is absent. */
  List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  /**
   * application/x-www-form-urlencoded decoding ('+' is a space), with the escapes' bytes read as
   * strict UTF-8.
   */
  private static String decode(String what, String encoded) {
    if (encoded.indexOf('%') < 0) {
      return encoded.replace('+', ' ');
    }
    return percentDecoded(what, encoded, true);
  }

  /**
   * {@code encoded} percent-decoded, strictly: a '%' not followed by two hex digits, or escapes
   * whose bytes are not UTF-8, are refused ({@code what} names the text in the error) rather than
   * read as something else; '+' is a space where {@code plusIsSpace} (a query), itself otherwise (a
   * path segment).
   */
  static String percentDecoded(String what, String encoded, boolean plusIsSpace) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); i++) {
      if (encoded.charAt(i) == '%') {
        int high = i + 2 < encoded.length() ? Character.digit(encoded.charAt(i + 1), 16) : -1;
        int low = high < 0 ? -1 : Character.digit(encoded.charAt(i + 2), 16);
        if (low < 0) {
          throw new InvalidInputException(
              what
                  + " has a '%' that is not followed by two hex digits (at '"
                  + shorten(encoded.substring(i))
                  + "'); percent-encode a literal '%' as %25");
        }
        bytes.write(high * 16 + low);
        i += 2;
      } else {
        int end = encoded.indexOf('%', i);
        end = end < 0 ? encoded.length() : end;
        String plain = encoded.substring(i, end);
        byte[] utf8 =
            (plusIsSpace ? plain.replace('+', ' ') : plain).getBytes(StandardCharsets.UTF_8);
        bytes.write(utf8, 0, utf8.length);
        i = end - 1;
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new InvalidInputException(
          what
              + " is not percent-encoded UTF-8: its escapes' bytes are not UTF-8; encode the text's"
              + " UTF-8 bytes, e.g. caf%C3%A9 for caf\u00e9");
    }
  }

  /** At most 64 characters of a bad name or value echoed back, so errors stay readable. */
  private static String shorten(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }
}
