package io.genguard.deploy.settings;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.job.BiasJobConfig;
import io.genguard.bias.job.LiveGroupWindow;
import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.observability.MetricsConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The audit store collector's cap on (model, group) pairs with bias gauges ({@code
 * GENGUARD_METRICS_BIAS_MAX_PAIRS}, a setting since the forty-eighth session) against what the bias
 * job writes by default: the collector cannot see the job's settings or lexicon, so this test keeps
 * the two defaults in step.
 */
class BiasGaugeCapTest {

  /**
   * The forty-seventh session's review, finding 5: 16 models and the pooled {@code unknown-model},
   * each with the lexicon's 62 groups plus {@code *}, {@code none} and {@code unknown-group}, are
   * 1,105 pairs, and the cap was 1,000, so a deployment within the job's default bound had groups
   * refused.
   */
  @Test
  void shouldKeepGaugesForEveryPairTheBiasJobWritesWithinItsDefaultModelBound() {
    // The default bound's models, and the pooled unknown-model.
    int models = BiasJobConfig.DEFAULT_LIVE_MAX_MODELS + 1;
    int groupsPerModel = groupsPerModel();

    assertThat(MetricsConfig.fromEnvironment(Map.of()).biasMaxPairs())
        .as(
            "the default of %s: %d models × %d groups",
            MetricsConfig.BIAS_MAX_PAIRS, models, groupsPerModel)
        .isGreaterThanOrEqualTo(models * groupsPerModel);
  }

  /** The setting can be raised as far as the bias job's largest model bound needs. */
  @Test
  void shouldAllowACapForEveryPairTheBiasJobWritesWithinItsLargestModelBound() {
    int pairs = (BiasJobConfig.MAX_LIVE_MAX_MODELS + 1) * groupsPerModel();

    assertThat(
            MetricsConfig.fromEnvironment(
                    Map.of(MetricsConfig.BIAS_MAX_PAIRS, Integer.toString(pairs)))
                .biasMaxPairs())
        .isEqualTo(pairs);
  }

  /** The lexicon's groups plus the job's {@code *}, {@code none} and {@code unknown-group} rows. */
  private static int groupsPerModel() {
    Set<String> groups =
        new TreeSet<>(
            List.of(LiveGroupWindow.ALL, LiveGroupWindow.NONE, LiveGroupWindow.UNKNOWN_GROUP));
    IdentityLexicon.loadDefault().entries().forEach(entry -> groups.add(entry.groupId()));
    return groups.size();
  }
}
