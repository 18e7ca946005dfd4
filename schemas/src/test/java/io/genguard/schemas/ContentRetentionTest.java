package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContentRetentionTest {
  @Test
  void shouldDefaultToAWeekAndAcceptBlankAsUnset() {
    for (String unset : new String[] {null, "", "   "}) {
      assertThat(ContentRetention.parse(unset)).isEqualTo(ContentRetention.hours(168));
    }
    assertThat(ContentRetention.fromEnvironment(Map.of()).retention()).contains(Duration.ofDays(7));
  }

  @Test
  void shouldSetRetentionAndAnEighthOfItAsTheSegmentAge() {
    ContentRetention day = ContentRetention.parse(" 24 ");
    assertThat(day.topicConfig())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("retention.ms", "86400000", "segment.ms", "10800000"));
    assertThat(day).hasToString("24 h");
  }

  @Test
  void shouldGiveTheShortestRetentionSegmentsOfSevenAndAHalfMinutes() {
    assertThat(ContentRetention.hours(1).topicConfig()).containsEntry("segment.ms", "450000");
  }

  @Test
  void shouldLeaveTopicsAloneWhenUnmanaged() {
    ContentRetention unmanaged = ContentRetention.parse("Unmanaged");
    assertThat(unmanaged.retention()).isEmpty();
    assertThat(unmanaged.topicConfig()).isEmpty();
    assertThat(unmanaged).hasToString("unmanaged");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "87841", "9223372036854775807", "99999999999999999999"})
  void shouldRefuseHoursOutOfRange(String value) {
    assertThatThrownBy(() -> ContentRetention.parse(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(ContentRetention.KEY)
        .hasMessageContaining("87840");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a week", "24h", "1.5", "1e3", "P7D", "off", "24 48"})
  void shouldRefuseWhatIsNotAWholeNumberOfHours(String value) {
    assertThatThrownBy(() -> ContentRetention.parse(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(ContentRetention.KEY + "='" + value + "'")
        .hasMessageContaining("unmanaged");
  }

  @Test
  void shouldShowHostileValuesCutAndWithoutControlCharacters() {
    String hostile = "12\u001b[31m" + "x".repeat(10_000);
    assertThatThrownBy(() -> ContentRetention.parse(hostile))
        .hasMessageNotContaining("\u001b")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
  }

  @Test
  void shouldRefuseADurationOutOfRangeBuiltDirectly() {
    assertThatThrownBy(() -> new ContentRetention(Optional.of(Duration.ofMinutes(59))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(ContentRetention.KEY);
  }
}
