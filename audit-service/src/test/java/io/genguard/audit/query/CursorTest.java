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
    // Well-formed but not what a row holds: a NUL in the id, a year PostgreSQL cannot compare.
    String nul = encoded("1:\u0000");
    String farFuture = encoded(Long.MAX_VALUE / 2 + ":req-1");
    String beforeYearOne = encoded("-62135596800000001:req-1");
    for (String bad :
        new String[] {
          "not base64 !",
          forged,
          "MTIz",
          "x".repeat(Cursor.MAX_ENCODED + 1),
          nul,
          farFuture,
          beforeYearOne
        }) {
      assertThatThrownBy(() -> Cursor.decode("cursor", bad))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("cursor is not a cursor this API returned");
    }
  }

  @Test
  void shouldCarryAnyRequestIdInTheReviewQueuesCursorAndOnlyAnIdOfTheApisFormElsewhere() {
    Instant at = Instant.parse("2026-12-07T10:00:00.123456Z");
    for (String id : new String[] {"a/b c", "../x/", "50% é 注文", "q".repeat(1_024)}) {
      String cursor = new Cursor(at, id, "acme").encode();
      assertThat(Cursor.decodeWithTenant("cursor", cursor)).isEqualTo(new Cursor(at, id, "acme"));
      assertThatThrownBy(() -> Cursor.decode("cursor", new Cursor(at, id).encode()))
          .isInstanceOf(InvalidInputException.class);
    }
    for (String bad : new String[] {"1:a\u0000b/acme", "1: /acme", "1:a/ac me"}) {
      assertThatThrownBy(() -> Cursor.decodeWithTenant("cursor", encoded(bad)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("cursor is not a cursor this API returned");
    }
  }

  private static String encoded(String text) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldRefuseInstantsOutsideTheYearsThisApiSearches() {
    assertThat(Cursor.inRange("from", Instant.parse("2026-12-03T00:00:00Z"))).isNotNull();
    assertThatThrownBy(() -> Cursor.inRange("from", Instant.parse("+300000-01-01T00:00:00Z")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "from '+300000-01-01T00:00:00Z' is outside the years 1 to 9999 this API searches");
  }
}
