package io.genguard.provenance.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fiftieth session's faster tokenizer (ASCII read without NFKC, token spans instead of a string
 * per token, ids found by the text a token spans) gives what the computation it replaced gave, kept
 * here as the reference: the same tokens and, for every token, the first four bytes of its SHA-256,
 * on varied, random and long texts.
 */
class WordTokenizerSpansTest {
  private static final List<String> TEXTS =
      List.of(
          "",
          " ",
          " \n\t ",
          "ok",
          "OK!",
          "the committee discussed the budget for the coming year and agreed on",
          "I'll kill you tomorrow, I won't stop. You're done.",
          "I\u2019ll kill you, you\u2019re done \u2018really\u2019 ''quoted'' don'",
          "I am going to k\u00ADi\u00ADll you tonight.",
          "I am going to k\u0456ll y\u043Eu tonight.",
          "a k\u0456nd w\u200Bord",
          "snake_case, x@y.z, 3.14159, 1,000,000 $5 #tag ~tilde `back` ^caret |pipe \\ \"q\"",
          "RT @someone: You ARE great http://t.co/abc www.example.com/x",
          "soooooo gooood!!!!  really\n\nreally\r\nreally",
          "\uFF37\uFF4F\uFF4D\uFF45\uFF4E are \u212Aind \uFB01ne \u2460",
          "Der Hund l\u00E4uft schnell \u00FCber die gro\u00DFe Wiese hinter dem alten Bauernhaus.",
          "\u042D\u0442\u043E \u043F\u0440\u0435\u0434\u043B\u043E\u0436\u0435\u043D\u0438\u0435"
              + " \u043D\u0430\u043F\u0438\u0441\u0430\u043D\u043E \u043F\u043E-\u0440\u0443\u0441\u0441\u043A\u0438.",
          "\u4ECA\u5929\u5929\u6C14\u5F88\u597D\uFF0C\u6211\u4EEC\u53BB\u516C\u56ED\u3002",
          "ISTANBUL \u0130stanbul \u0131\u015F\u0131k DIE STRASSE",
          "\u0001\u0002control\u0000 chars\u007F \u00A0nbsp\u2003em\u2800braille\u3164filler",
          "emoji \uD83D\uDE00 and a broken \uD800 surrogate \uDC00 \uFFFD \uD83D",
          "e\u0301 cafe\u0301 \u0915\u093F\u0924\u093E\u092C \u0645\u0631\u062D\u0628\u0627",
          "tag\uDB40\uDC41\uDB40\uDC42 characters and a variation\uFE0F selector",
          String.join(" ", Collections.nCopies(300, "the the, the. (the) [the] {the}")),
          "x".repeat(5_000) + " " + "\u00E9".repeat(40) + " " + "y".repeat(33));

  /** Code points the random texts are drawn from: each kind the tokenizer treats apart. */
  private static final int[] ALPHABET = {
    'a', 'b', 'z', 'A', 'Q', 'Z', '0', '7', '9', ' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x1F, 0x7F,
    0x00, '\'', '.', ',', '!', '?', '(', ')', '-', '/', '_', '@', '"', '%', '`', '~', 0xA0, 0xAD,
    0xE9, 0xDF, 0x130, 0x131, 0x301, 0x308, 0x2019, 0x2018, 0x201C, 0x2014, 0x2800, 0x115F, 0x3164,
    0xFFA0, 0x200B, 0x200D, 0xFEFF, 0xFE0F, 0x430, 0x435, 0x43E, 0x456, 0x410, 0x3B1, 0x3BF, 0x391,
    0x416, 0x3A9, 0x4E2D, 0x3002, 0xFF37, 0xFF4F, 0x212A, 0xFB01, 0x2460, 0x1F600, 0xE0041, 0xD800,
    0xDC00, 0x0915, 0x093F, 0x0645, 0x0E01, 0x0E31
  };

  @Test
  void shouldTokenizeAsTheReferenceOnVariedTexts() {
    for (String text : TEXTS) {
      assertSameAsReference(text);
    }
  }

  @Test
  void shouldTokenizeAsTheReferenceOnRandomTexts() {
    SplittableRandom random = new SplittableRandom(50);
    for (int n = 0; n < 3_000; n++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(60);
      boolean asciiOnly = random.nextInt(3) == 0;
      for (int i = 0; i < length; i++) {
        int cp = ALPHABET[random.nextInt(asciiOnly ? 34 : ALPHABET.length)];
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          text.append((char) cp);
        } else {
          text.appendCodePoint(cp);
        }
      }
      assertSameAsReference(text.toString());
    }
  }

  @Test
  void shouldTokenizeAsTheReferenceOnEuroparl() {
    List<String> documents = EuroparlCorpus.load().heldOutDocuments();
    for (String document : documents) {
      assertSameAsReference(document);
      assertSameAsReference(document.toUpperCase(Locale.ROOT));
    }
  }

  private static void assertSameAsReference(String text) {
    List<String> tokens = WordTokenizer.tokenize(text);
    String normalized = referenceNormalize(text);
    List<String> reference = referenceSplit(normalized);
    if (hasLookAlike(normalized)) {
      // Folding look-alikes (unchanged) may rewrite tokens, never add or remove one.
      assertThat(tokens).as(text).hasSameSizeAs(reference);
    } else {
      assertThat(tokens).as(text).isEqualTo(reference);
    }
    int[] expectedIds = new int[tokens.size()];
    for (int i = 0; i < expectedIds.length; i++) {
      expectedIds[i] = referenceId(tokens.get(i));
    }
    // Twice: the second time the ids come from the cache.
    assertThat(WordTokenizer.tokenIds(text)).as(text).containsExactly(expectedIds);
    assertThat(WordTokenizer.tokenIds(text)).as(text).containsExactly(expectedIds);
    for (String token : tokens) {
      assertThat(WordTokenizer.tokenId(token)).as(token).isEqualTo(referenceId(token));
    }
  }

  private static boolean hasLookAlike(String normalized) {
    for (int i = 0; i < normalized.length(); i++) {
      if (DisguisingCharacters.latinLookAlikeInLowerCase(normalized.charAt(i)) != 0) {
        return true;
      }
    }
    return false;
  }

  // The reference: the tokenizer before the fiftieth session, less the folding of look-alikes.

  private static String referenceNormalize(String text) {
    return Normalizer.normalize(
            DisguisingCharacters.withoutDefaultIgnorables(
                DisguisingCharacters.withBlanksAsSpaces(text)),
            Normalizer.Form.NFKC)
        .toLowerCase(Locale.ROOT)
        .replace('\u2019', '\'')
        .replace('\u2018', '\'');
  }

  private static List<String> referenceSplit(String normalized) {
    List<String> tokens = new ArrayList<>();
    int i = 0;
    int n = normalized.length();
    while (i < n) {
      int cp = normalized.codePointAt(i);
      if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      if (referenceIsWord(cp)) {
        int start = i;
        i = referenceEndOfRun(normalized, i);
        while (i + 1 < n
            && normalized.charAt(i) == '\''
            && referenceIsWord(normalized.codePointAt(i + 1))) {
          i = referenceEndOfRun(normalized, i + 1);
        }
        tokens.add(normalized.substring(start, i));
      } else {
        tokens.add(new String(Character.toChars(cp)));
        i += Character.charCount(cp);
      }
    }
    return tokens;
  }

  private static int referenceEndOfRun(String text, int from) {
    int i = from;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (!referenceIsWord(cp)) {
        break;
      }
      i += Character.charCount(cp);
    }
    return i;
  }

  private static boolean referenceIsWord(int cp) {
    return Character.isLetterOrDigit(cp)
        || Character.getType(cp) == Character.NON_SPACING_MARK
        || Character.getType(cp) == Character.COMBINING_SPACING_MARK;
  }

  private static int referenceId(String token) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return ((digest[0] & 0xff) << 24)
          | ((digest[1] & 0xff) << 16)
          | ((digest[2] & 0xff) << 8)
          | (digest[3] & 0xff);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
