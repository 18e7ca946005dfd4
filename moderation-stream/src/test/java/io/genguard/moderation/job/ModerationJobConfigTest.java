package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** The moderation job's settings: every value out of bounds is refused, naming its key. */
class ModerationJobConfigTest {
  private static ModerationJobConfig from(String key, String value) {
    return ModerationJobConfig.fromEnvironment(Map.of(key, value));
  }

  @Test
  void shouldRefuseACheckpointIntervalTheSinksTransactionCouldNotOutlast() {
    assertThat(from(ModerationJobConfig.CHECKPOINT_INTERVAL_MS, "60000").checkpointInterval())
        .isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(() -> from(ModerationJobConfig.CHECKPOINT_INTERVAL_MS, "300000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_MODERATION_CHECKPOINT_INTERVAL_MS must be 10-60000 ms")
        .hasMessageContaining("times out after 5 minutes")
        .hasMessageEndingWith("was 300000");
  }

  @Test
  void shouldDeclineACheckpointBeforeTheTransactionItCommitsCouldTimeOut() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    ExactlyOnceKafka.configure(env, 1, ExactlyOnceKafka.MAX_CHECKPOINT_INTERVAL);

    Duration timeout = Duration.ofMillis(env.getCheckpointConfig().getCheckpointTimeout());
    assertThat(timeout.multipliedBy(2).plus(ExactlyOnceKafka.MAX_CHECKPOINT_INTERVAL))
        .as("opened when the checkpoint before was taken, committed before the broker aborts it")
        .isLessThan(ExactlyOnceKafka.TRANSACTION_TIMEOUT);
    assertThat(env.getCheckpointConfig().getTolerableCheckpointFailureNumber()).isZero();
  }

  @Test
  void shouldRefuseBatchesAndParallelismBeyondTheirBounds() {
    assertThatThrownBy(() -> from(ModerationJobConfig.MAX_BATCH_SIZE, "2000000000"))
        .hasMessage("GENGUARD_MODERATION_MAX_BATCH_SIZE must be 1-4096, was 2000000000");
    assertThatThrownBy(() -> from(ModerationJobConfig.MAX_BATCH_DELAY_MS, "86400000"))
        .hasMessage("GENGUARD_MODERATION_MAX_BATCH_DELAY_MS must be 0-10000 ms, was 86400000");
    assertThatThrownBy(() -> from(ModerationJobConfig.PARALLELISM, "100000"))
        .hasMessage("GENGUARD_MODERATION_PARALLELISM must be 1-32768, was 100000");
    assertThatThrownBy(() -> from(ModerationJobConfig.PARALLELISM, "4294967297"))
        .hasMessageContaining("is not a whole number");
  }
}
