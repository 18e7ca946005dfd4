package io.genguard.bias.job;

import io.genguard.moderation.job.KafkaMessage;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.TimestampAssignerSupplier;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.util.clock.RelativeClock;

/**
 * The verdict source's watermark strategy: event time is the verdict's decision time, and each
 * Kafka partition has its own {@link IdleAdvancingWatermarks} (given to {@code env.fromSource},
 * Flink keeps one generator per split and emits the smallest of their watermarks).
 *
 * <p>The decision time is read from the record's value, so a verdict is decoded here and again by
 * {@link DecodeVerdicts}; bytes that are not a verdict get no timestamp ({@link Long#MIN_VALUE})
 * and become dead letters there.
 *
 * <p>A decision time further ahead of this machine's wall clock than {@code maxClockAhead} when the
 * verdict is read is taken as the wall clock plus {@code maxClockAhead}: a verdict cannot have been
 * decided after it was read, so such a time says that the moderation host's clock is ahead, and
 * taken as it is it would move event time ahead with it, closing live windows early (every later
 * verdict late) and retiring every campaign group whose last decision was less than the clock's
 * lead before. {@link DecodeVerdicts} counts such verdicts and gives them the bounded time too.
 */
final class DecisionTimeWatermarks implements WatermarkStrategy<KafkaMessage> {
  private static final long serialVersionUID = 1L;

  /** How long a partition must be quiet to be marked idle when the idle advance is off. */
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(10);

  private final Duration outOfOrderness;
  private final Duration idleAdvance;
  private final long maxClockAhead;

  /**
   * Set by the first generator this subtask creates (its reader's main output, before any split's):
   * true until the reader has run for the idle timeout. Each subtask deserialises its own strategy,
   * so this is per reader.
   */
  private transient BooleanSupplier warmingUp;

  DecisionTimeWatermarks(Duration outOfOrderness, Duration idleAdvance, Duration maxClockAhead) {
    this.outOfOrderness = outOfOrderness;
    this.idleAdvance = idleAdvance;
    this.maxClockAhead = maxClockAhead.toMillis();
  }

  /**
   * The event time of a verdict decided at {@code decidedAt} and read at {@code now}: the decision
   * time, at most {@code maxClockAhead} past {@code now}.
   */
  static long bounded(long decidedAt, long now, long maxClockAhead) {
    long latest = now > Long.MAX_VALUE - maxClockAhead ? Long.MAX_VALUE : now + maxClockAhead;
    return Math.min(decidedAt, latest);
  }

  /** How long a partition must be quiet before it follows the wall clock or is marked idle. */
  static Duration idleTimeout(Duration idleAdvance) {
    return idleAdvance.isZero() ? DEFAULT_IDLE_TIMEOUT : idleAdvance;
  }

  @Override
  public TimestampAssigner<KafkaMessage> createTimestampAssigner(
      TimestampAssignerSupplier.Context context) {
    return (message, kafkaTimestamp) ->
        bounded(
            DecodeVerdicts.decisionTime(message.value), System.currentTimeMillis(), maxClockAhead);
  }

  @Override
  public WatermarkGenerator<KafkaMessage> createWatermarkGenerator(
      WatermarkGeneratorSupplier.Context context) {
    RelativeClock activity = context.getInputActivityClock();
    if (warmingUp == null) {
      long openedAt = activity.relativeTimeMillis();
      long warmUp = idleTimeout(idleAdvance).toMillis();
      warmingUp = () -> activity.relativeTimeMillis() - openedAt < warmUp;
    }
    return new IdleAdvancingWatermarks<>(
        outOfOrderness, idleAdvance, activity, System::currentTimeMillis, warmingUp);
  }
}
