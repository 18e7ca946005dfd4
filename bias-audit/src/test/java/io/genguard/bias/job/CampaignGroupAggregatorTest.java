package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.BiasMetric;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Campaign keys, those of state restored from before the tenant was part of them included. */
class CampaignGroupAggregatorTest {
  @Test
  void shouldSplitAKeyIntoTenantCampaignAndGroup() {
    VerdictFacts verdict = new VerdictFacts();
    verdict.tenantId = "bias-audit";
    verdict.campaignId = "c-1";
    verdict.campaignGroup = "control";

    assertThat(CampaignGroupAggregator.keyParts(CampaignGroupAggregator.key(verdict)))
        .containsExactly("bias-audit", "c-1", "control");
  }

  @Test
  void shouldPublishTheTotalsOfAKeyFromBeforeTheUpgradeAsTheyWereThenInsteadOfFailing() {
    // A savepoint of the older job holds keys "campaign\0group" with a pending timer: the timer
    // fires at once after the restore, and must not fail the job on every restart.
    String[] parts = CampaignGroupAggregator.keyParts("c-1\u0000control");
    assertThat(parts).containsExactly(null, "c-1", "control");

    GroupCounts counts = GroupCounts.empty(1);
    counts.count = 3;
    counts.model = "echo/echo@1";
    counts.firstDecidedAt = 1;
    counts.lastDecidedAt = 2;
    BiasMetric metric =
        Topics.BIAS_METRICS
            .codec()
            .decode(
                BiasMetrics.campaign(
                        Topics.BIAS_METRICS.codec(),
                        parts[0],
                        parts[1],
                        parts[2],
                        counts,
                        List.of("hate"),
                        10)
                    .value);

    assertThat(metric.getTenantId()).isNull();
    assertThat(metric.getEventId())
        .as("the id the older job gave the same totals, so the audit store keeps them once")
        .isEqualTo(EventIds.nameBased("bias-metric", "CAMPAIGN", "c-1", "control", "3"));
  }
}
