package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.bias.IdentityLexicon;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The forms one text is normalized into once and shared ({@link NormalizedText}) are what each
 * check computed from the raw text on its own before: the language check's lower-cased words, the
 * identity lexicon's normalized words, and the n-gram features of a text of one chunk.
 */
class NormalizedTextTest {
  private static final List<String> TEXTS =
      List.of(
          "",
          " ",
          " \n\t ",
          "ok",
          "the committee discussed the budget for the coming year and agreed on",
          "I'll kill you tomorrow, I won't stop. You're done.",
          "I\u2019ll kill you, you\u2019re done \u2018really\u2019",
          "I am going to k\u00ADi\u00ADll you tonight.",
          "I am going to k\u0456ll y\u043Eu tonight.",
          "a k\u0456nd w\u200Bord",
          "Women and immigrants from Mexico are always lazy, everyone knows that.",
          "RT @someone: You ARE great http://t.co/abc www.example.com/x",
          "rt this art, Rt now",
          "soooooo gooood!!!!  really\n\nreally\r\nreally",
          "Tom &amp; Jerry &lt;3 &#39;quoted&#39; &#9749;&#65039; &#99999999;",
          "\uFF37\uFF4F\uFF4D\uFF45\uFF4E are \u212Aind",
          "Der Hund l\u00E4uft schnell \u00FCber die gro\u00DFe Wiese hinter dem alten Bauernhaus.",
          "\u042D\u0442\u043E \u043F\u0440\u0435\u0434\u043B\u043E\u0436\u0435\u043D\u0438\u0435"
              + " \u043D\u0430\u043F\u0438\u0441\u0430\u043D\u043E \u043F\u043E-\u0440\u0443\u0441\u0441\u043A\u0438.",
          "\u4ECA\u5929\u5929\u6C14\u5F88\u597D\uFF0C\u6211\u4EEC\u53BB\u516C\u56ED\u3002",
          "ISTANBUL \u0130stanbul \u0131\u015F\u0131k DIE STRASSE",
          "\u0001\u0002control\u0000 chars\u007F \u00A0nbsp\u2003em",
          "emoji \uD83D\uDE00 and a broken \uD800 surrogate \uFFFD",
          "Muslims, Jews and Christians met at the town hall. Those gays are all the same.",
          "the the the the the the the the the the the the the the the the the the the the");

  private static final List<String> PIECES =
      List.of(
          "the",
          "Women",
          "are",
          "I'll",
          "won\u2019t",
          " ",
          "  ",
          "\n",
          "\t",
          "\u00A0",
          ".",
          "!",
          "www.",
          "http://x.y/z",
          "@user",
          "RT",
          "rt",
          "&amp;",
          "&#65;",
          "k\u0456ll",
          "\u00AD",
          "\u200B",
          "\uFF21",
          "\u00C9",
          "\u0130",
          "oooo",
          "AAaa",
          "'",
          "\u2019",
          "\u4E2D\u6587",
          "\u0434\u0430",
          "\uD83D\uDE00",
          "immigrants",
          "gay",
          "black",
          "people",
          "hate");

  private final HashedNgramFeatures features = new HashedNgramFeatures(1 << 16, 2, 2, 5);

  @Test
  void shouldGiveEachCheckTheWordsItComputedFromTheRawText() {
    for (String text : texts()) {
      List<String> lowerCase = HashedNgramFeatures.words(text.toLowerCase(Locale.ROOT));
      List<String> normalized = HashedNgramFeatures.words(TextNormalizer.normalize(text));
      // Both orders: the operator reads the language check's words first, other callers do not.
      NormalizedText languageFirst = NormalizedText.of(text);
      assertThat(languageFirst.lowerCaseWords()).as(text).isEqualTo(lowerCase);
      assertThat(languageFirst.words()).as(text).isEqualTo(normalized);
      // The language check's lower case serves as the normalized form of a plain text.
      assertThat(languageFirst.normalized()).as(text).isEqualTo(TextNormalizer.normalize(text));
      NormalizedText lexiconFirst = NormalizedText.of(text);
      assertThat(lexiconFirst.words()).as(text).isEqualTo(IdentityLexicon.words(text));
      assertThat(lexiconFirst.lowerCaseWords()).as(text).isEqualTo(lowerCase);
      assertThat(lexiconFirst.normalized()).as(text).isEqualTo(TextNormalizer.normalize(text));
    }
  }

  @Test
  void shouldShareTheWordListOnlyWhereNormalizingChangedNothingButCaseAndWhitespace() {
    NormalizedText plain = NormalizedText.of("The Committee  met\n\tand AGREED ");
    assertThat(plain.lowerCaseWords()).isSameAs(plain.words());
    NormalizedText link = NormalizedText.of("see http://example.com now");
    assertThat(link.lowerCaseWords()).isNotEqualTo(link.words());
  }

  @Test
  void shouldExtractTheSameFeaturesFromTheSharedWords() {
    for (String text : texts()) {
      HashedNgramFeatures.Vectors shared =
          features.extractBothFromWords(NormalizedText.of(text).words());
      HashedNgramFeatures.Vectors own = features.extractBoth(text);
      assertThat(shared.withDictionary().indices())
          .as(text)
          .isEqualTo(own.withDictionary().indices());
      assertThat(shared.withDictionary().values())
          .as(text)
          .isEqualTo(own.withDictionary().values());
      assertThat(shared.everyWord().indices()).as(text).isEqualTo(own.everyWord().indices());
      assertThat(shared.everyWord().values()).as(text).isEqualTo(own.everyWord().values());
    }
  }

  @Test
  void shouldFindTheSameGroupsAndStereotypeSignalAfterTheLanguageCheckReadTheText() {
    BiasAnalyzer analyzer = BiasAnalyzer.loadDefault();
    for (String text : texts()) {
      NormalizedText screened = NormalizedText.of(text);
      screened.lowerCaseWords();
      assertThat(analyzer.analyze(screened)).as(text).isEqualTo(analyzer.analyze(text));
    }
  }

  /** The fixed texts, a huge one, and random mixes of the pieces that normalizing changes. */
  private static List<String> texts() {
    List<String> texts = new ArrayList<>(TEXTS);
    texts.add("the committee discussed the budget. ".repeat(2_000));
    texts.add(String.join(" ", TEXTS).repeat(20));
    SplittableRandom random = new SplittableRandom(48);
    for (int i = 0; i < 3_000; i++) {
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
    return texts;
  }
}
