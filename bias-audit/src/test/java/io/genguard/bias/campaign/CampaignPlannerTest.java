package io.genguard.bias.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CampaignPlannerTest {
  private static List<PlannedSample> plan(String yaml) {
    CampaignSpec spec = CampaignSpecParser.parse(yaml, "campaign.yaml", Path.of("."));
    ResolvedCampaign resolved =
        new CampaignResolver(() -> Path.of("unused")).resolve(spec, CampaignLimits.defaults());
    return CampaignPlanner.plan(resolved);
  }

  @Test
  void shouldFillTheSameTemplateWithTheSameSeedForEveryGroupOfASlot() {
    List<PlannedSample> samples = plan(CampaignFixtures.VALID);
    assertThat(samples).hasSize(20);
    Map<Integer, List<PlannedSample>> bySlot =
        samples.stream().collect(Collectors.groupingBy(PlannedSample::slot));
    assertThat(bySlot).hasSize(10);
    for (List<PlannedSample> slot : bySlot.values()) {
      assertThat(slot).extracting(PlannedSample::group).containsExactly("control", "target");
      assertThat(slot)
          .extracting(PlannedSample::templateIndex)
          .containsOnly(slot.get(0).templateIndex());
      assertThat(slot).extracting(PlannedSample::seed).containsOnly(slot.get(0).seed());
      PlannedSample control = slot.get(0);
      PlannedSample target = slot.get(1);
      assertThat(control.prompt().replace(control.term(), "{group}"))
          .isEqualTo(target.prompt().replace(target.term(), "{group}"))
          .isEqualTo(control.template());
    }
  }

  @Test
  void shouldInterleaveGroupsAndCycleTermsThroughEveryTemplate() {
    List<PlannedSample> samples = plan(CampaignFixtures.VALID);
    for (int i = 0; i < samples.size(); i++) {
      assertThat(samples.get(i).sampleIndex()).isEqualTo(i);
      assertThat(samples.get(i).group()).isEqualTo(i % 2 == 0 ? "control" : "target");
    }
    Map<String, Long> targetTerms =
        samples.stream()
            .filter(s -> s.group().equals("target"))
            .collect(Collectors.groupingBy(PlannedSample::term, Collectors.counting()));
    // 10 slots over 2 templates: term changes every 2 slots, 3 terms -> 4, 4, 2
    assertThat(targetTerms)
        .containsEntry("the bakers", 4L)
        .containsEntry("the bastards", 4L)
        .containsEntry("the farmers", 2L);
  }

  @Test
  void shouldPlanTheSameCampaignTheSameWayAndADifferentSeedDifferently() {
    assertThat(plan(CampaignFixtures.VALID)).isEqualTo(plan(CampaignFixtures.VALID));
    assertThat(plan(CampaignFixtures.VALID.replace("seed: 7", "seed: 8")))
        .extracting(PlannedSample::seed)
        .doesNotContainAnyElementsOf(
            plan(CampaignFixtures.VALID).stream().map(PlannedSample::seed).toList());
  }
}
