package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

class BatchOffsetLookupTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  private static Map<String, FinalizedVersionRange> metadataVersion(int level) {
    return Map.of(
        BatchOffsetLookup.METADATA_VERSION,
        new FinalizedVersionRange((short) level, (short) level));
  }

  @Test
  void shouldTellTheSpanOnlyOnBrokersThatLookOffsetsUpByWhereBatchesBegin() {
    // 4.0-IV3 (25): a 4.0 cluster, or one whose rolling upgrade to 4.1 is not finalized yet.
    assertThat(BatchOffsetLookup.whyNot(metadataVersion(25)))
        .hasValueSatisfying(why -> assertThat(why).contains("level 25", "4.1"));
    // 3.7-IV4 (19), a KRaft 3.x cluster.
    assertThat(BatchOffsetLookup.whyNot(metadataVersion(19))).isPresent();
    // A ZooKeeper cluster finalizes no metadata.version.
    assertThat(BatchOffsetLookup.whyNot(Map.of()))
        .hasValueSatisfying(why -> assertThat(why).contains("ZooKeeper"));
    assertThat(
            BatchOffsetLookup.whyNot(
                Map.of("transaction.version", new FinalizedVersionRange((short) 2, (short) 2))))
        .isPresent();
    // 4.1-IV0 (26) and later.
    assertThat(BatchOffsetLookup.whyNot(metadataVersion(26))).isEmpty();
    assertThat(BatchOffsetLookup.whyNot(metadataVersion(29))).isEmpty();
  }

  @Test
  void shouldAskTheClusterAgainOnlyAfterTheRecheckAndSeeAnUpgrade() {
    List<Integer> levels = new ArrayList<>(List.of(25, 27));
    int[] asked = {0};
    MutableClock clock = new MutableClock();
    BatchOffsetLookup lookup =
        new BatchOffsetLookup(
            timeout -> {
              asked[0]++;
              return metadataVersion(levels.remove(0));
            },
            clock);

    assertThat(lookup.whyNot(TIMEOUT)).isPresent();
    clock.now = clock.now.plus(BatchOffsetLookup.RECHECK).minusSeconds(1);
    assertThat(lookup.whyNot(TIMEOUT)).isPresent();
    assertThat(asked[0]).isEqualTo(1);

    clock.now = clock.now.plusSeconds(1);
    assertThat(lookup.whyNot(TIMEOUT)).as("finalized to 4.1-IV1 since").isEmpty();
    assertThat(asked[0]).isEqualTo(2);
  }

  @Test
  void shouldTakeAClusterThatCannotBeAskedAsNotLookingOffsetsUpSoAndAskAgainShortlyAfter() {
    int[] asked = {0};
    MutableClock clock = new MutableClock();
    BatchOffsetLookup lookup =
        new BatchOffsetLookup(
            timeout -> {
              if (asked[0]++ == 0) {
                throw new TimeoutException("no answer");
              }
              return metadataVersion(26);
            },
            clock);

    assertThat(lookup.whyNot(TIMEOUT))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .contains(
                        "could not be read",
                        "org.apache.kafka.common.errors.TimeoutException: no answer"));
    // Kept for a while, so that the threads waiting their turn do not each ask (and wait) again.
    clock.now = clock.now.plus(BatchOffsetLookup.RECHECK_AFTER_FAILURE).minusSeconds(1);
    assertThat(lookup.whyNot(TIMEOUT))
        .hasValueSatisfying(why -> assertThat(why).contains("no answer"));
    assertThat(asked[0]).isEqualTo(1);
    assertThat(BatchOffsetLookup.RECHECK_AFTER_FAILURE).isLessThan(BatchOffsetLookup.RECHECK);

    clock.now = clock.now.plusSeconds(1);
    assertThat(lookup.whyNot(TIMEOUT)).isEmpty();
    assertThat(asked[0]).isEqualTo(2);
  }

  @Test
  void shouldSayWhatFailedWhenTheAnswerDoesNotComeInTime() {
    BatchOffsetLookup lookup =
        new BatchOffsetLookup(
            timeout -> {
              throw new java.util.concurrent.TimeoutException();
            },
            new MutableClock());

    assertThat(lookup.whyNot(TIMEOUT))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .contains("no answer within 1000 ms", "java.util.concurrent.TimeoutException")
                    .doesNotContain("null"));
  }

  /**
   * An admin client closed without a timeout waited for its call in flight up to its own default of
   * 60 s (61 s measured for a 2 s question), and said "(null)". Generous bound: well under the
   * default, far over the question's timeout.
   */
  @Test
  void shouldAnswerAboutAClusterThatCannotBeReachedWithinAboutTheTimeout() {
    BatchOffsetLookup lookup =
        BatchOffsetLookup.ofCluster(
            Map.of("bootstrap.servers", "127.0.0.1:1"), "lookup-test", Clock.systemUTC());
    long started = System.nanoTime();
    Optional<String> why = lookup.whyNot(Duration.ofSeconds(2));
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(took).as("asked with a 2 s timeout").isLessThan(Duration.ofSeconds(30));
    assertThat(why)
        .hasValueSatisfying(
            text ->
                assertThat(text)
                    .contains("could not be read", "TimeoutException")
                    .doesNotContain("(null)"));
  }

  private static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-12-07T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
