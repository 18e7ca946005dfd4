package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObfuscationTest {
  /** Soft hyphen, zero-width space, joiner, combining grapheme joiner, a tag character, BOM. */
  @ParameterizedTest
  @ValueSource(strings = {"\u00AD", "\u200B", "\u200D", "\u034F", "\uDB40\uDC20", "\uFEFF"})
  void shouldRemoveAnInvisibleCharacterInsideAWordAndReportIt(String invisible) {
    String text = "I will k" + invisible + "i" + invisible + "ll you.";
    assertThat(Obfuscation.reveal(text)).isEqualTo("I will kill you.");
    Obfuscation.Found found = Obfuscation.inspect(text);
    assertThat(found).isNotNull();
    assertThat(found.hiddenWords()).isEqualTo(1);
    assertThat(found.invisibleCodePoints()).containsExactly(invisible.codePointAt(0));
    assertThat(found.examples()).containsExactly("kill");
  }

  @Test
  void shouldReadCyrillicAndGreekLookAlikesInsideALatinWordAsLatin() {
    String text = "\u0406 am g\u043E\u0456ng to k\u0456ll \u0443\u043Eu. \u039A\u0399LL them.";
    assertThat(Obfuscation.reveal(text)).isEqualTo("I am going to kill you. KILL them.");
    Obfuscation.Found found = Obfuscation.inspect(text);
    assertThat(found.mixedWords()).isEqualTo(4);
    assertThat(found.hiddenWords()).isZero();
    assertThat(found.examples()).containsExactly("going", "kill", "you");
  }

  @Test
  void shouldReadAWordWrittenWhollyInLookAlikesAsLatinInsideLatinText() {
    // "kill" in Cyrillic ka, byelorussian-ukrainian i and palochka: no Latin letter in the word.
    String text = "I will \u043A\u0456\u04CF\u04CF you tonight.";
    assertThat(Obfuscation.reveal(text)).isEqualTo("I will kill you tonight.");
    Obfuscation.Found found = Obfuscation.inspect(text);
    assertThat(found.mixedWords()).isEqualTo(1);
    assertThat(found.examples()).containsExactly("kill");
  }

  @Test
  void shouldLeaveRussianAndGreekTextAsItIs() {
    String russian = "Сегодня хорошая погода, а вечером мы пойдём в кино с друзьями.";
    String greek = "Η συνεδρίαση αρχίζει στις εννέα το πρωί και τελειώνει το απόγευμα.";
    String quoted = "The motion was adopted (Greek: Εγκρίνεται) after a short debate.";
    String ukrainian = "Kobzari (Ukrainian: кобзарі) were itinerant bards in Ukraine.";
    for (String text : List.of(russian, greek, quoted, ukrainian)) {
      assertThat(Obfuscation.reveal(text)).as(text).isEqualTo(text);
      assertThat(Obfuscation.inspect(text)).as(text).isNull();
    }
  }

  @Test
  void shouldNotFlagInvisibleCharactersThatScriptsAndEmojiNeed() {
    List<String> legitimate =
        List.of(
            "Our family \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 went to the beach.",
            "I love it \u2764\uFE0F and the sun \u2600\uFE0F too",
            "Go England \uD83C\uDFF4\uDB40\uDC67\uDB40\uDC62\uDB40\uDC65\uDB40\uDC6E\uDB40\uDC67"
                + "\uDB40\uDC7F tonight",
            "Persian: \u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 (I want)",
            "Hindi: \u0915\u094D\u200D\u0937 is a conjunct",
            "Japanese: \u845B\uDB40\uDD00\u57CE is a place name",
            "\uFEFFA byte-order mark at the start, a zero-width space\u200B between words.",
            "Press 1\uFE0F\u20E3 to continue");
    for (String text : legitimate) {
      assertThat(Obfuscation.inspect(text)).as(text).isNull();
    }
  }

  @Test
  void shouldNotFlagGreekSymbolsInScienceText() {
    List<String> science =
        List.of(
            "Take 5 \u03BCg twice a day.",
            "The resistor is 10 k\u03A9.",
            "The angle \u03B1 is 30 degrees and \u03C1 = 0.5.",
            "The \u0394T was small.");
    for (String text : science) {
      assertThat(Obfuscation.inspect(text)).as(text).isNull();
    }
  }

  @Test
  void shouldReturnTheSameStringWhenThereIsNothingToReveal() {
    String text = "A caf\u00E9 in M\u00FCnchen, na\u00EFve r\u00E9sum\u00E9.";
    assertThat(Obfuscation.reveal(text)).isSameAs(text);
    assertThat(Obfuscation.inspect(text)).isNull();
  }
}
