package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.InvalidInputException;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The strict query-string decoding every route reads its parameters through. */
class QueryParametersTest {
  private static final Set<String> SEARCH = Set.of("group", "from", "cursor", "limit");

  @Test
  void shouldDecodeFormEncodingAsUtf8() {
    QueryParameters parameters =
        QueryParameters.parse(
            "group=religion%3Amuslim+women&from=2026-01-01T00:00:00%2B01:00&cursor=&limit", SEARCH);

    assertThat(parameters.all("group")).containsExactly("religion:muslim women");
    assertThat(parameters.all("from")).containsExactly("2026-01-01T00:00:00+01:00");
    assertThat(parameters.all("cursor")).containsExactly("");
    assertThat(parameters.all("limit")).containsExactly("");
  }

  @Test
  void shouldDecodeMultiByteEscapesAndKeepRepeatsForTheCallerToRefuse() {
    QueryParameters parameters = QueryParameters.parse("group=caf%C3%A9&&group=%E2%82%AC", SEARCH);

    assertThat(parameters.all("group")).containsExactly("café", "€");
  }

  @Test
  void shouldTreatNoQueryAsNoParameters() {
    assertThat(QueryParameters.parse(null, Set.of()).all("group")).isEmpty();
    assertThat(QueryParameters.parse("", Set.of()).all("group")).isEmpty();
    assertThat(QueryParameters.parse("&&", Set.of()).all("group")).isEmpty();
  }

  @Test
  void shouldNameAnUnknownParameterBeforeReadingItsValue() {
    assertThatThrownBy(() -> QueryParameters.parse("limit=5&token=%zz", SEARCH))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "Unknown query parameter 'token'; this endpoint takes [cursor, from, group, limit]");
  }

  @Test
  void shouldRefuseAnEscapeWithoutTwoHexDigits() {
    for (String query : new String[] {"group=a%", "group=a%4", "group=a%4g", "group=%-1"}) {
      assertThatThrownBy(() -> QueryParameters.parse(query, SEARCH))
          .as(query)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("Query parameter group has a '%' that is not followed by two hex");
    }
  }

  @Test
  void shouldRefuseEscapedBytesThatAreNotUtf8() {
    for (String query : new String[] {"group=%C3", "group=%FF", "group=%ED%A0%80", "gr%C3oup=x"}) {
      assertThatThrownBy(() -> QueryParameters.parse(query, SEARCH))
          .as(query)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("not UTF-8");
    }
  }
}
