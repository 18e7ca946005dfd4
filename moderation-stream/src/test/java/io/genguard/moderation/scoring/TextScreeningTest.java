package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.scoring.TextScreening.Issue;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextScreeningTest {
  private final TextScreening screening = new TextScreening(1000);

  @Test
  void shouldPassOrdinaryEnglishUntouched() {
    TextScreening.Result result =
        screening.screen("The museum opens at nine and the guided tour takes about an hour.");
    assertThat(result.findings()).isEmpty();
    assertThat(result.textForScoring()).startsWith("The museum");
  }

  @Test
  void shouldReportEmptyText() {
    TextScreening.Result result = screening.screen(" \n\t ");
    assertThat(result.has(Issue.EMPTY)).isTrue();
    assertThat(result.scorable()).isFalse();
  }

  @Test
  void shouldTruncateEnormousTextAndSaySo() {
    TextScreening.Result result =
        screening.screen("all work and no play makes a dull day. ".repeat(100));
    assertThat(result.textForScoring()).hasSize(1000);
    assertThat(result.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.issue()).isEqualTo(Issue.TRUNCATED);
              assertThat(f.detail()).contains("3900 characters").contains("first 1000");
            });
  }

  @Test
  void shouldNotCutASurrogatePairInHalf() {
    String text = "a".repeat(999) + "\uD83D\uDE00" + " tail words here";
    assertThat(screening.screen(text).textForScoring()).hasSize(999);
  }

  @Test
  void shouldReportInvalidUtf8Bytes() {
    byte[] bytes = "hello there, how are you today? ".getBytes(StandardCharsets.UTF_8);
    byte[] broken = new byte[bytes.length + 2];
    System.arraycopy(bytes, 0, broken, 0, bytes.length);
    broken[bytes.length] = (byte) 0xC3;
    broken[bytes.length + 1] = (byte) 0x28;
    TextScreening.Result result = screening.screen(broken);
    assertThat(result.has(Issue.INVALID_UTF8)).isTrue();
    assertThat(screening.screen(bytes).findings()).isEmpty();
  }

  @Test
  void shouldReportReplacementCharactersLeftByLenientDecoding() {
    assertThat(
            screening
                .screen("bad \uFFFD byte in an otherwise English sentence")
                .has(Issue.INVALID_UTF8))
        .isTrue();
  }

  @Test
  void shouldReportTextInAnotherScriptOrLanguage() {
    assertThat(
            screening
                .screen("Это предложение написано по-русски и не по-английски.")
                .has(Issue.UNSUPPORTED_LANGUAGE))
        .isTrue();
    assertThat(
            screening
                .screen("Der Hund läuft schnell über die große Wiese hinter dem alten Bauernhaus.")
                .has(Issue.UNSUPPORTED_LANGUAGE))
        .isTrue();
    assertThat(screening.screen("Hola").has(Issue.UNSUPPORTED_LANGUAGE)).isFalse();
  }

  @Test
  void shouldReportWordsDisguisedWithInvisibleCharactersOrLookAlikeLetters() {
    TextScreening.Result hidden = screening.screen("I am going to k\u00ADi\u00ADll you tonight.");
    assertThat(hidden.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.issue()).isEqualTo(Issue.OBFUSCATED);
              assertThat(f.detail())
                  .contains("1 word hides invisible characters between letters (U+00AD)")
                  .contains("read as: kill");
            });
    TextScreening.Result swapped = screening.screen("I am going to k\u0456ll y\u043Eu tonight.");
    assertThat(swapped.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.issue()).isEqualTo(Issue.OBFUSCATED);
              assertThat(f.detail())
                  .contains("2 words mix Latin with Cyrillic or Greek look-alike letters")
                  .contains("read as: kill, you");
            });
    // What is scored stays what was written: the models are not changed by this check.
    assertThat(swapped.textForScoring()).isEqualTo("I am going to k\u0456ll y\u043Eu tonight.");
  }

  @Test
  void shouldNotReportEmojiSequencesOrTextWhollyInAnotherScriptAsObfuscated() {
    assertThat(
            screening
                .screen(
                    "Our family \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 loved the"
                        + " beach \u2764\uFE0F")
                .findings())
        .isEmpty();
    TextScreening.Result russian =
        screening.screen("Сегодня хорошая погода, а вечером мы пойдём в кино с друзьями.");
    assertThat(russian.has(Issue.UNSUPPORTED_LANGUAGE)).isTrue();
    assertThat(russian.has(Issue.OBFUSCATED)).isFalse();
  }

  @Test
  void shouldReportShortTextsAndTextsThatShareWordsWithEnglish() {
    // Each released before: under 8 words, or counted "a", "no", "me", "was", "will" as English.
    assertThat(
            List.of(
                "Te voy a matar esta noche.",
                "Te voy a matar esta noche a ti y a toda tu familia, no me importa nada.",
                "Ich will dich heute Nacht umbringen, und ich weiss wo du wohnst, was du auch tust.",
                "Ich bringe dich um.",
                "Je vais te tuer.",
                "Tutti gli immigrati devono andarsene da qui.",
                "Você vai morrer como um cachorro.",
                "Ik ga je vanavond vermoorden."))
        .allSatisfy(
            text -> assertThat(screening.screen(text).has(Issue.UNSUPPORTED_LANGUAGE)).isTrue());
    assertThat(screening.screen("Te voy a matar esta noche.").findings())
        .singleElement()
        .satisfies(
            finding ->
                assertThat(finding.detail())
                    .contains("probably not English")
                    .contains("function words of Spanish"));
  }

  @Test
  void shouldLeaveEnglishWithForeignNamesAndPhrasesAlone() {
    assertThat(
            List.of(
                "Who is Juan de la Cruz?",
                "She has a certain je ne sais quoi about her.",
                "Leonardo da Vinci painted the Mona Lisa.",
                "Les Misérables is playing downtown tonight.",
                "The EU and the UN signed it.",
                "Van der Berg and De Vries won the match.",
                "What does \"por favor\" mean?",
                "Translate \"ich liebe dich\" into English.",
                "oh my gosh why are you so cute?! FA LA LA LA LA LA LA LA LA",
                "C'mon, die already, you stupid printer.",
                "Make America great again."))
        .allSatisfy(
            text -> assertThat(screening.screen(text).has(Issue.UNSUPPORTED_LANGUAGE)).isFalse());
  }
}
