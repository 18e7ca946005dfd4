package io.genguard.provenance.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.provenance.text.LoneSurrogates;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
  @Test
  void shouldSortKeysAndDropWhitespace() {
    Map<String, Object> tree = new LinkedHashMap<>();
    tree.put("b", 1);
    tree.put("a", Map.of("z", true, "y", List.of(1, "x")));
    tree.put("c", null);

    assertThat(CanonicalJson.write(tree))
        .isEqualTo("{\"a\":{\"y\":[1,\"x\"],\"z\":true},\"b\":1,\"c\":null}");
  }

  @Test
  void shouldSortKeysByUtf16CodeUnitsAsRfc8785Requires() {
    // RFC 8785 section 3.2.3 example keys (subset): "\r", "1", "\u0080", "\u00f6", "\u20ac",
    // "\ud83d\ude00".
    Map<String, Object> tree = new LinkedHashMap<>();
    for (String key : List.of("\u20ac", "\ud83d\ude00", "\r", "1", "\u0080", "\u00f6")) {
      tree.put(key, 0);
    }
    String json = CanonicalJson.write(tree);
    assertThat(json)
        .startsWith(
            "{\"\\r\":0,\"1\":0,\"\u0080\":0,\"\u00f6\":0,\"\u20ac\":0,\"\ud83d\ude00\":0}");
  }

  @Test
  void shouldFormatNumbersLikeEcmaScript() {
    // Values from RFC 8785 appendix B and ECMAScript Number.prototype.toString.
    Map<Double, String> expected = new LinkedHashMap<>();
    expected.put(0.0, "0");
    expected.put(-0.0, "0");
    expected.put(1.0, "1");
    expected.put(2.0, "2");
    expected.put(0.7, "0.7");
    expected.put(4.50, "4.5");
    expected.put(2e-3, "0.002");
    expected.put(1e-6, "0.000001");
    expected.put(1e-7, "1e-7");
    expected.put(1e21, "1e+21");
    expected.put(1e20, "100000000000000000000");
    expected.put(333333333.33333329, "333333333.3333333");
    expected.put(1E30, "1e+30");
    expected.put(-1.5e-9, "-1.5e-9");
    expected.put(9007199254740992.0, "9007199254740992");
    expected.put(295147905179352830000.0, "295147905179352830000");
    expected.put(5e-324, "5e-324");
    expected.put(1.7976931348623157e308, "1.7976931348623157e+308");
    expected.put(0.1 + 0.2, "0.30000000000000004");
    expected.forEach(
        (value, text) ->
            assertThat(CanonicalJson.formatNumber(value)).as("%s", value).isEqualTo(text));
  }

  @Test
  void shouldEscapeOnlyWhatJsonRequires() {
    assertThat(CanonicalJson.write("a\"b\\c\n\t\u0001\u00e9\u20ac/"))
        .isEqualTo("\"a\\\"b\\\\c\\n\\t\\u0001\u00e9\u20ac/\"");
  }

  @Test
  void shouldRefuseValuesWithoutAnExactCanonicalForm() {
    assertThatThrownBy(() -> CanonicalJson.write(Double.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> CanonicalJson.write(Long.MAX_VALUE)).hasMessageContaining("2^53");
    // Math.abs(Long.MIN_VALUE) is negative: a check of the absolute value let it through.
    assertThatThrownBy(() -> CanonicalJson.write(Long.MIN_VALUE)).hasMessageContaining("2^53");
    assertThatThrownBy(() -> CanonicalJson.write("\ud800x")).hasMessageContaining("lone surrogate");
    assertThatThrownBy(() -> CanonicalJson.write(Arrays.asList(new Object())))
        .hasMessageContaining("Cannot write");
  }

  @Test
  void shouldFindTheFirstLoneSurrogate() {
    assertThat(LoneSurrogates.first("")).isEqualTo(-1);
    assertThat(LoneSurrogates.first("a\ud83d\ude00b")).as("a pair").isEqualTo(-1);
    assertThat(LoneSurrogates.first("\ud800x")).isZero();
    assertThat(LoneSurrogates.first("ab\ud83d")).as("high at the end").isEqualTo(2);
    assertThat(LoneSurrogates.first("ab\ude00")).as("low alone").isEqualTo(2);
    assertThat(LoneSurrogates.first("\ude00\ud83d")).as("pair reversed").isZero();
    assertThat(LoneSurrogates.first("\ud83d\ude00\ude00")).isEqualTo(2);
  }
}
