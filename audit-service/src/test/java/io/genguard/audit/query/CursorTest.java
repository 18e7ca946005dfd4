package io.genguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class CursorTest {

  @Test
  void shouldRoundTripTimeToTheMicrosecondAndAnyId() {
    Cursor cursor = new Cursor(Instant.parse("2026-11-25T10:00:00.123456Z"), "id:with:colons");

    assertThat(Cursor.decode("cursor", cursor.encode())).isEqualTo(cursor);
  }

  @Test
  void shouldTreatAMissingCursorAsTheFirstPage() {
    assertThat(Cursor.decode("cursor", null)).isNull();
    assertThat(Cursor.decode("cursor", " ")).isNull();
  }

  @Test
  void shouldRejectAnythingThisApiDidNotIssue() {
    String forged =
        Base64.getUrlEncoder().encodeToString("1' or '1'='1:x".getBytes(StandardCharsets.UTF_8));
    for (String bad : new String[] {"not base64 !", forged, "MTIz", "x".repeat(600)}) {
      assertThatThrownBy(() -> Cursor.decode("cursor", bad))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("cursor is not a cursor this API returned");
    }
  }
}
