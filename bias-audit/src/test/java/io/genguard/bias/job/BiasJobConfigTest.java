package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.bias.analysis.AnalysisSettings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bias job's settings: a value out of bounds is refused, never wrapped or rounded. */
class BiasJobConfigTest {
  private static BiasJobConfig from(String key, String value) {
    return BiasJobConfig.fromEnvironment(Map.of(key, value), "kafka:9092", null, null, null);
  }

  @Test
  void shouldRefuseNumbersThatWouldWrapInsteadOfTakingWhatTheyWrapTo() {
    assertThatThrownBy(() -> from(BiasJobConfig.PARALLELISM, "4294967297"))
        .hasMessage(
            "GENGUARD_BIAS_PARALLELISM='4294967297' is not a whole number of at most 9 digits");
    assertThatThrownBy(() -> from(BiasJobConfig.ALERT_MIN_GROUP, "4294967326"))
        .hasMessageContaining("GENGUARD_BIAS_ALERT_MIN_GROUP='4294967326' is not a whole number");
    assertThatThrownBy(() -> from(AnalysisSettings.BOOTSTRAP_ITERATIONS, "2000.9"))
        .hasMessageContaining("GENGUARD_BIAS_BOOTSTRAP_ITERATIONS='2000.9' is not a whole number");
    assertThatThrownBy(() -> from(AnalysisSettings.BOOTSTRAP_ITERATIONS, "1e12"))
        .hasMessageContaining("is not a whole number");
    assertThatThrownBy(() -> from(AnalysisSettings.BOOTSTRAP_ITERATIONS, "500000000"))
        .hasMessageContaining("must be 0 (off) or 200-100000");
    assertThat(from(AnalysisSettings.BOOTSTRAP_ITERATIONS, " 5000 ").toString()).isNotBlank();
  }

  @Test
  void shouldRefuseDurationsBeyondTheirBounds() {
    assertThatThrownBy(() -> from(BiasJobConfig.CHECKPOINT_INTERVAL_MS, "600000"))
        .hasMessageContaining("GENGUARD_BIAS_CHECKPOINT_INTERVAL_MS must be 10-60000 ms")
        .hasMessageEndingWith("was 600000");
    assertThatThrownBy(() -> from(BiasJobConfig.WINDOW_SECONDS, "999999999"))
        .hasMessage("GENGUARD_BIAS_WINDOW_SECONDS must be 1-604800 s, was 999999999");
    assertThatThrownBy(() -> from(BiasJobConfig.IDLE_ADVANCE_MS, "-1"))
        .hasMessage("GENGUARD_BIAS_IDLE_ADVANCE_MS must be 0-86400000 ms, was -1");
    assertThat(from(BiasJobConfig.WINDOW_SECONDS, "604800").liveWindow())
        .isEqualTo(Duration.ofDays(7));
  }

  @Test
  void shouldRetireCampaignGroupsAfterAWeekUnlessSetToADayToAYear() {
    assertThat(BiasJobConfig.defaults("kafka:9092", null, null, null).campaignRetention())
        .isEqualTo(Duration.ofDays(7));
    assertThat(from(BiasJobConfig.CAMPAIGN_RETENTION_HOURS, "720").campaignRetention())
        .isEqualTo(Duration.ofDays(30));
    assertThatThrownBy(() -> from(BiasJobConfig.CAMPAIGN_RETENTION_HOURS, "12"))
        .hasMessage("GENGUARD_BIAS_CAMPAIGN_RETENTION_HOURS must be 24-8760 h, was 12");
    assertThatThrownBy(() -> from(BiasJobConfig.CAMPAIGN_RETENTION_HOURS, "8761"))
        .hasMessage("GENGUARD_BIAS_CAMPAIGN_RETENTION_HOURS must be 24-8760 h, was 8761");
  }

  @Test
  void shouldCountSixteenModelsPerLiveWindowUnlessSetToOneToAThousand() {
    assertThat(BiasJobConfig.defaults("kafka:9092", null, null, null).liveMaxModels())
        .isEqualTo(16);
    assertThat(from(BiasJobConfig.LIVE_MAX_MODELS, "40").liveMaxModels()).isEqualTo(40);
    assertThatThrownBy(() -> from(BiasJobConfig.LIVE_MAX_MODELS, "0"))
        .hasMessage("GENGUARD_BIAS_LIVE_MAX_MODELS must be 1-1000, was 0");
    assertThatThrownBy(() -> from(BiasJobConfig.LIVE_MAX_MODELS, "1001"))
        .hasMessage("GENGUARD_BIAS_LIVE_MAX_MODELS must be 1-1000, was 1001");
  }
}
