package io.genguard.provenance.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class DisguisingCharactersTest {
  /**
   * Default_Ignorable_Code_Point as DerivedCoreProperties.txt (Unicode 15.1) lists it, range by
   * range, copied from the file rather than from the class under test.
   */
  private static final int[][] DEFAULT_IGNORABLE = {
    {0x00AD, 0x00AD},
    {0x034F, 0x034F},
    {0x061C, 0x061C},
    {0x115F, 0x1160},
    {0x17B4, 0x17B5},
    {0x180B, 0x180D},
    {0x180E, 0x180E},
    {0x180F, 0x180F},
    {0x200B, 0x200F},
    {0x202A, 0x202E},
    {0x2060, 0x2064},
    {0x2065, 0x2065},
    {0x2066, 0x206F},
    {0x3164, 0x3164},
    {0xFE00, 0xFE0F},
    {0xFEFF, 0xFEFF},
    {0xFFA0, 0xFFA0},
    {0xFFF0, 0xFFF8},
    {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A},
    {0xE0000, 0xE0000},
    {0xE0001, 0xE0001},
    {0xE0002, 0xE001F},
    {0xE0020, 0xE007F},
    {0xE0080, 0xE00FF},
    {0xE0100, 0xE01EF},
    {0xE01F0, 0xE0FFF},
  };

  @Test
  void shouldKnowExactlyTheDefaultIgnorableCodePoints() {
    List<Integer> expected = new ArrayList<>();
    for (int[] range : DEFAULT_IGNORABLE) {
      for (int cp = range[0]; cp <= range[1]; cp++) {
        expected.add(cp);
      }
    }
    List<Integer> actual = new ArrayList<>();
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (DisguisingCharacters.isDefaultIgnorable(cp)) {
        actual.add(cp);
      }
    }
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void shouldNotMakeInvisibleCharactersOutOfVisibleOnesByNormalizing() {
    // WordTokenizer drops invisible characters before NFKC and lower-casing, never after.
    List<String> made = new ArrayList<>();
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (DisguisingCharacters.isDefaultIgnorable(cp) || (cp >= 0xD800 && cp <= 0xDFFF)) {
        continue;
      }
      String normalized =
          Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFKC)
              .toLowerCase(Locale.ROOT);
      if (normalized.codePoints().anyMatch(DisguisingCharacters::isDefaultIgnorable)) {
        made.add(String.format("U+%04X", cp));
      }
    }
    assertThat(made).isEmpty();
  }

  @Test
  void shouldReadLookAlikesAsTheLatinLettersTheyDisplayAs() {
    assertThat(DisguisingCharacters.latinLookAlike(0x0456)).isEqualTo('i'); // Cyrillic i
    assertThat(DisguisingCharacters.latinLookAlike(0x0422)).isEqualTo('T'); // Cyrillic Te
    assertThat(DisguisingCharacters.latinLookAlike(0x0442)).isEqualTo((char) 0); // its lower case
    assertThat(DisguisingCharacters.latinLookAlike('a')).isEqualTo((char) 0);
    assertThat(DisguisingCharacters.latinLookAlike(0x0434)).isEqualTo((char) 0); // Cyrillic de
  }

  @Test
  void shouldReadTheLowerCaseOfACapitalLookAlikeAsTheLowerCaseOfItsLetter() {
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x0442)).isEqualTo('t'); // т, Т
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x043C)).isEqualTo('m'); // м, М
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x03C4)).isEqualTo('t'); // τ, Τ
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x0456)).isEqualTo('i');
    // Nu and Upsilon look like N and Y, their lower cases like v and u: the lower case wins.
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x03BD)).isEqualTo('v');
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x03C5)).isEqualTo('u');
    assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(0x0434)).isEqualTo((char) 0); // д
    for (int cp = 0x0370; cp < 0x0530; cp++) {
      char latin = DisguisingCharacters.latinLookAlike(cp);
      int lower = Character.toLowerCase(cp);
      if (latin != 0 && lower != 0x03BD && lower != 0x03C5) {
        assertThat(DisguisingCharacters.latinLookAlikeInLowerCase(lower))
            .as("U+%04X", cp)
            .isEqualTo(Character.toLowerCase(latin));
      }
    }
  }

  @Test
  void shouldRemoveEveryInvisibleCharacterAndReturnTheSameStringWithoutAny() {
    String plain = "A caf\u00E9 in M\u00FCnchen.";
    assertThat(DisguisingCharacters.withoutDefaultIgnorables(plain)).isSameAs(plain);
    assertThat(
            DisguisingCharacters.withoutDefaultIgnorables(
                "\uFEFFk\u00ADi\u200Bl\uDB40\uDC41l\uFE0F \u2764"))
        .isEqualTo("kill \u2764");
  }

  @Test
  void shouldReadBlanksThatDisplayAsASpaceAsSpacesAndReturnTheSameStringWithoutAny() {
    String plain = "A caf\u00E9 in M\u00FCnchen.";
    assertThat(DisguisingCharacters.withBlanksAsSpaces(plain)).isSameAs(plain);
    assertThat(DisguisingCharacters.withBlanksAsSpaces("a\u2800b\u3164c\uFFA0d\u115Fe\u1160f"))
        .isEqualTo("a b c d e f");
    // Invisible, not blank: drawn as nothing since Unicode 6.3.
    assertThat(DisguisingCharacters.isBlank(0x180E)).isFalse();
    assertThat(WordTokenizer.tokenize("kill\u3164them\u2800all"))
        .containsExactly("kill", "them", "all");
  }
}
