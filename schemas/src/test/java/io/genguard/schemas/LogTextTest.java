package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {
  @Test
  void shouldQuoteAPlainValueAsItIs() {
    assertThat(LogText.quoted("campaign-7")).isEqualTo("\"campaign-7\"");
    assertThat(LogText.quoted("religion:muslim ü 😀")).isEqualTo("\"religion:muslim ü 😀\"");
    assertThat(LogText.quoted(null)).isEqualTo("null");
  }

  @Test
  void shouldEscapeLineBreaksAndControlCharactersSoNoLogLineCanBeForged() {
    String forged = "r1\n2026-12-06 10:00:00 INFO  Released r1\r\u0000\u001b[31m\u0085\u2028\"\\";

    String quoted = LogText.quoted(forged);

    assertThat(quoted)
        .isEqualTo(
            "\"r1\\n2026-12-06 10:00:00 INFO  Released r1\\r\\u0000\\u001b[31m\\u0085\\u2028"
                + "\\\"\\\\\"");
    assertThat(quoted.chars()).noneMatch(c -> Character.isISOControl(c) || c == '\u2028');
  }

  @Test
  void shouldEscapeALoneSurrogateButKeepAPair() {
    assertThat(LogText.quoted("a\ud83db")).isEqualTo("\"a\\ud83db\"");
    assertThat(LogText.quoted("\ude00")).isEqualTo("\"\\ude00\"");
  }

  @Test
  void shouldCutALongValueSayingHowMuchWasLeftOut() {
    String sha256 = "x\nFAKE LINE" + "y".repeat(100_000);

    String quoted = LogText.quoted(sha256);

    assertThat(quoted).doesNotContain("\n").hasSizeLessThanOrEqualTo(LogText.MAX_CHARS + 30);
    assertThat(quoted).startsWith("\"x\\nFAKE LINEyyy").endsWith("\"… (99812 more chars)");
  }

  @Test
  void shouldBoundTheEscapedTextNotOnlyTheValue() {
    String quoted = LogText.quoted("\u0001".repeat(10_000), 60);

    assertThat(quoted).hasSizeLessThanOrEqualTo(60 + 30).endsWith("more chars)");
    assertThat(LogText.quoted("abcdef", 3)).isEqualTo("\"abc\"… (3 more chars)");
    assertThat(LogText.quoted("abc", 3)).isEqualTo("\"abc\"");
  }
}
