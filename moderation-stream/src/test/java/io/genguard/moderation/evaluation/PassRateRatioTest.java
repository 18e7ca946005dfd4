package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.genguard.moderation.evaluation.QualityReport.Rate;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PassRateRatioTest {
  @Test
  void shouldCompareLowestAndHighestPassRateOfGroupsLargeEnough() {
    Map<String, Rate> groups = new LinkedHashMap<>();
    groups.put("a", new Rate(1, 20)); // pass 0.95
    groups.put("b", new Rate(0, 20)); // pass 1.0
    groups.put("c", new Rate(9, 10)); // pass 0.1
    groups.put("tiny", new Rate(5, 5)); // below the minimum size, ignored
    assertThat(QualityReport.minMaxPassRatio(groups, 10)).isCloseTo(0.1, offset(1e-9));
    groups.remove("c");
    assertThat(QualityReport.minMaxPassRatio(groups, 10)).isCloseTo(0.95, offset(1e-9));
  }

  @Test
  void shouldLeaveOutTheDescriptorsTrainingUsesWhateverTheirCase() {
    Map<String, Rate> groups = new LinkedHashMap<>();
    groups.put("redneck", new Rate(9, 10)); // the training's identity sentences use it
    groups.put("Deaf", new Rate(0, 10)); // "deaf" there
    groups.put("left-footed", new Rate(1, 10));
    groups.put("Salvadoran-American", new Rate(0, 10));
    assertThat(QualityReport.TRAINED_DESCRIPTORS).contains("redneck", "deaf", "queer");
    Map<String, Rate> unseen = QualityReport.unseen(groups, QualityReport.TRAINED_DESCRIPTORS);
    assertThat(unseen).containsOnlyKeys("left-footed", "Salvadoran-American");
    assertThat(QualityReport.minMaxPassRatio(unseen, 10)).isCloseTo(0.9, offset(1e-9));
  }

  @Test
  void shouldGiveOneForAModeratorThatNeverFlags() {
    assertThat(QualityReport.sameRateRatio(groups(600, 35), 10, 0.0, 100)).isEqualTo(1.0);
  }

  @Test
  void shouldShowTheNoiseFloorOfSmallGroups() {
    // 600 groups of 35 at 0.9%: some group almost surely gets 3 flags (pass 32/35 = 0.914) and
    // another none, so an unbiased moderator still shows a ratio near 0.91 on such a sample.
    double small = QualityReport.sameRateRatio(groups(600, 35), 10, 0.009, 200);
    assertThat(small).isBetween(0.85, 0.95);
    // With 10,000 sentences a group the same moderator shows almost no spread.
    double large = QualityReport.sameRateRatio(groups(60, 10_000), 10, 0.009, 50);
    assertThat(large).isGreaterThan(0.99);
  }

  private static Map<String, Rate> groups(int count, int size) {
    Map<String, Rate> groups = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      groups.put("g" + i, new Rate(0, size));
    }
    return groups;
  }
}
