package io.genguard.moderation.job;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.Topics;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Lets through records that decode as generation outputs with fields of a length it can copy into a
 * verdict; the rest become dead letters (counted in the {@code genguard} metric group as {@value
 * #DEAD_LETTER_COUNT}).
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

  /**
   * Most UTF-8 bytes an output's ids, tenant and model fields may each have: all are copied into
   * its verdict and the ids key it, so longer ones (which only a producer other than GenGuard's
   * generator writes) could make the verdict's record pass Kafka's request size while the output
   * was within it, failing the job's transaction on every restart. The release gate accepts no
   * longer ids either.
   */
  public static final int MAX_FIELD_BYTES = DeadLetters.MAX_KEY_BYTES;

  /**
   * The first of the output's ids, tenant and model fields with more than {@link #MAX_FIELD_BYTES}
   * UTF-8 bytes, by name ({@code tenantId}, {@code model.name}, ...), or null when none is: what
   * this job dead-letters an output for. {@code dlq redrive} applies the same check to the dead
   * letters of this stage, so that it does not send back an output this job refuses again.
   */
  public static String oversizedFieldName(GenerationOutput output) {
    for (Map.Entry<String, String> field : copiedFields(output).entrySet()) {
      if (utf8Bytes(field.getValue()) > MAX_FIELD_BYTES) {
        return field.getKey();
      }
    }
    return null;
  }

  /** Why the output cannot be judged for the length of a field it copies; null when it can. */
  static String oversizedField(GenerationOutput output) {
    String field = oversizedFieldName(output);
    if (field == null) {
      return null;
    }
    return "The output's "
        + field
        + " has "
        + utf8Bytes(copiedFields(output).get(field))
        + " bytes (UTF-8); the moderation job accepts at most "
        + MAX_FIELD_BYTES
        + ", since its verdict copies it";
  }

  /** The fields a verdict copies from its output, by name, in the order they are checked. */
  private static Map<String, String> copiedFields(GenerationOutput output) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("requestId", output.getRequestId());
    fields.put("outputId", output.getOutputId());
    fields.put("tenantId", output.getTenantId());
    if (output.getModel() != null) {
      fields.put("model.name", output.getModel().getName());
      fields.put("model.version", output.getModel().getVersion());
      fields.put("model.backend", output.getModel().getBackend());
    }
    return fields;
  }

  private static int utf8Bytes(String value) {
    return value == null ? 0 : value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  @Override
  public void processElement(KafkaMessage message, Context context, Collector<KafkaMessage> out) {
    try {
      String oversized = oversizedField(outputs.decode(message.value));
      if (oversized != null) {
        throw new EventDecodingException(oversized);
      }
      out.collect(message);
    } catch (EventDecodingException e) {
      deadLetterCount.inc();
      context.output(
          DEAD_LETTERS,
          KafkaMessage.deadLetter(
              message, STAGE, e, Topics.GENERATION_OUTPUTS_DLQ.name(), deadLetters));
    }
  }
}
