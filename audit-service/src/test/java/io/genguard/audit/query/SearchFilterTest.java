package io.genguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.InvalidInputException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SearchFilterTest {

  @Test
  void shouldAcceptEveryFilterInItsDocumentedForm() {
    SearchFilter filter =
        SearchFilter.parse(
            "acme",
            "review",
            "held_for_review",
            "Hate",
            "0.5",
            "religion:muslim",
            "2026-11-01T00:00:00Z",
            "2026-12-01T00:00:00Z");

    assertThat(filter)
        .isEqualTo(
            new SearchFilter(
                "acme",
                "REVIEW",
                "HELD_FOR_REVIEW",
                "hate",
                0.5,
                "religion:muslim",
                Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z"),
                null));
  }

  @Test
  void shouldReadAnAttributeAsKeyAndValueSplitAtTheFirstColon() {
    assertThat(
            SearchFilter.parse(null, null, null, null, null, null, null, null, "userId:u:123")
                .attribute())
        .isEqualTo(new SearchFilter.Attribute("userId", "u:123"));
    for (String bad : List.of("userId", ":u-1", "userId:", "user id:u-1", "k:v\u0000")) {
      assertThatThrownBy(
              () -> SearchFilter.parse(null, null, null, null, null, null, null, null, bad))
          .as(bad)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("expected key:value, e.g. userId:u-123");
    }
  }

  @Test
  void shouldTreatBlankValuesAsAbsent() {
    assertThat(SearchFilter.parse("", " ", null, "", null, "", "", null))
        .isEqualTo(SearchFilter.none());
  }

  @Test
  void shouldNameTheParameterAndTheExpectedFormInEveryError() {
    assertThatThrownBy(
            () -> SearchFilter.parse("acme' OR '1'='1", null, null, null, null, null, null, null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("tenant 'acme' OR '1'='1' is not valid");
    assertThatThrownBy(
            () ->
                SearchFilter.parse(
                    null, null, null, null, null, null, "+300000-01-01T00:00:00Z", null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("from '+300000-01-01T00:00:00Z' is outside the years 1 to 9999");
    assertThatThrownBy(() -> SearchFilter.parse(null, "MAYBE", null, null, null, null, null, null))
        .hasMessageContaining("decision 'MAYBE' is not one of [BLOCK, RELEASE, REVIEW]");
    assertThatThrownBy(() -> SearchFilter.parse(null, null, "GONE", null, null, null, null, null))
        .hasMessageContaining("outcome 'GONE' is not one of");
    assertThatThrownBy(
            () -> SearchFilter.parse(null, null, null, "hate;drop", null, null, null, null))
        .hasMessageContaining("category 'hate;drop' is not valid");
    assertThatThrownBy(() -> SearchFilter.parse(null, null, null, null, "0.5", null, null, null))
        .hasMessageContaining("minScore needs a category");
    assertThatThrownBy(() -> SearchFilter.parse(null, null, null, "hate", "2", null, null, null))
        .hasMessageContaining("minScore '2' is not a number between 0 and 1");
    assertThatThrownBy(() -> SearchFilter.parse(null, null, null, "hate", "NaN", null, null, null))
        .hasMessageContaining("minScore 'NaN'");
    assertThatThrownBy(() -> SearchFilter.parse(null, null, null, null, null, "a'b", null, null))
        .hasMessageContaining("group 'a'b' is not valid");
    assertThatThrownBy(
            () -> SearchFilter.parse(null, null, null, null, null, null, "yesterday", null))
        .hasMessageContaining("from 'yesterday' is not an ISO-8601 UTC instant");
    assertThatThrownBy(
            () ->
                SearchFilter.parse(
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    "2026-12-01T00:00:00Z",
                    "2026-11-01T00:00:00Z"))
        .hasMessageContaining("must be before to");
  }

  @Test
  void shouldShortenLongBadValuesInErrors() {
    String longValue = "x".repeat(200) + "'";
    assertThatThrownBy(
            () -> SearchFilter.parse(null, null, null, null, null, longValue, null, null))
        .hasMessageContaining("x".repeat(64) + "...")
        .hasMessageNotContaining("x".repeat(65));
  }
}
