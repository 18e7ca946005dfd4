package io.genguard.moderation.job;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.Topics;
import java.time.Instant;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Lets through records that decode as generation outputs; the rest become dead letters (counted in
 * the {@code genguard} metric group as {@value #DEAD_LETTER_COUNT}).
 */
public final class DecodeOutputs extends ProcessFunction<KafkaMessage, KafkaMessage> {
  /** The stage this job's dead letters name. */
  public static final String STAGE = "moderation";

  private static final long serialVersionUID = 1L;

  public static final String DEAD_LETTER_COUNT = "dead_letters";

  /** Dead letters, already encoded for the gen.outputs dead-letter topic. */
  public static final OutputTag<KafkaMessage> DEAD_LETTERS =
      new OutputTag<>(
          "dead-letters",
          org.apache.flink.api.common.typeinfo.TypeInformation.of(KafkaMessage.class));

  private transient EventCodec<GenerationOutput> outputs;
  private transient EventCodec<DeadLetter> deadLetters;
  private transient Counter deadLetterCount;

  @Override
  public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
    outputs = Topics.GENERATION_OUTPUTS.codec();
    deadLetters = Topics.GENERATION_OUTPUTS_DLQ.codec();
    deadLetterCount =
        getRuntimeContext()
            .getMetricGroup()
            .addGroup(BatchingModerationOperator.METRIC_GROUP)
            .counter(DEAD_LETTER_COUNT);
  }

  @Override
  public void processElement(KafkaMessage message, Context context, Collector<KafkaMessage> out) {
    try {
      outputs.decode(message.value);
      out.collect(message);
    } catch (EventDecodingException e) {
      DeadLetter deadLetter =
          DeadLetters.of(
              message.topic,
              message.partition,
              message.offset,
              message.key,
              message.value,
              STAGE,
              e,
              Instant.now());
      deadLetterCount.inc();
      context.output(
          DEAD_LETTERS,
          KafkaMessage.outgoing(
              Topics.GENERATION_OUTPUTS_DLQ.name(),
              DeadLetters.recordKey(message.key),
              deadLetters.encode(deadLetter)));
    }
  }
}
