package io.genguard.bias.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.train.DataDirectory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Needs the shared data folder (BOLD and HolisticBias) at ../shared/data or GENGUARD_DATA_DIR, and
 * fails (it does not skip) when it is missing: campaigns from the real data sets resolve and plan.
 */
class SharedDataCampaignTest {
  private static final CampaignResolver RESOLVER =
      new CampaignResolver(() -> DataDirectory.resolve(null));

  private static ResolvedCampaign resolve(String yaml) {
    return RESOLVER.resolve(
        CampaignSpecParser.parse(yaml, "shared-data.yaml", Path.of(".")),
        CampaignLimits.defaults());
  }

  @Test
  void shouldBuildACounterfactualCampaignFromHolisticBiasInTheSharedData() {
    ResolvedCampaign campaign =
        resolve(
            """
            name: religion descriptors
            target: {backend: builtin}
            samplesPerGroup: 26
            templates: {holisticBias: {}}
            groups: {holisticBias: {axis: religion, descriptors: [Muslim, Christian, Jewish]}}
            """);
    assertThat(campaign.templates()).hasSize(26);
    List<PlannedSample> plan = CampaignPlanner.plan(campaign);
    assertThat(plan).hasSize(78);
    assertThat(plan)
        .extracting(PlannedSample::prompt)
        .anyMatch(p -> p.contains("Muslim people") || p.contains("a Muslim person"));
    assertThat(campaign.dataSources())
        .extracting(ResolvedCampaign.DataSource::path)
        .containsExactly(
            "holistic_bias/v1.1/sentence_templates.json", "holistic_bias/v1.1/descriptors.json");
  }

  @Test
  void shouldBuildAStratifiedCampaignFromBoldInTheSharedData() {
    ResolvedCampaign campaign =
        resolve(
            """
            name: religions in BOLD
            target: {backend: builtin}
            samplesPerGroup: 10
            prompts: {bold: {domain: religious_ideology}}
            groups: [judaism, islam]
            """);
    assertThat(campaign.groups()).allMatch(g -> g.prompts().size() > 10);
    assertThat(CampaignPlanner.plan(campaign)).hasSize(20);
  }
}
