package io.genguard.moderation.job;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Buffers outputs and judges them in batches of up to {@code maxBatchSize}, or whatever has arrived
 * after {@code maxDelayMillis}: a few milliseconds of buffering buy a lot of model throughput.
 *
 * <p>Invariant: the buffer is empty at every checkpoint barrier ({@link
 * #prepareSnapshotPreBarrier} flushes it), so the operator needs no state and a restore from a
 * checkpoint re-reads from Kafka exactly the outputs that had not yet been judged.
 */
public final class BatchingModerationOperator extends AbstractStreamOperator<KafkaMessage>
    implements OneInputStreamOperator<KafkaMessage, KafkaMessage> {
  private static final long serialVersionUID = 1L;

  private final BatchModerator.Factory moderatorFactory;
  private final int maxBatchSize;
  private final long maxDelayMillis;

  private transient BatchModerator moderator;
  private transient EventCodec<GenerationOutput> outputs;
  private transient EventCodec<ModerationVerdict> verdicts;
  private transient List<GenerationOutput> buffer;
  private transient boolean flushScheduled;

  public BatchingModerationOperator(
      BatchModerator.Factory moderatorFactory, int maxBatchSize, long maxDelayMillis) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxDelayMillis < 0) {
      throw new IllegalArgumentException("maxDelayMillis must not be negative, was " + maxDelayMillis);
    }
    this.moderatorFactory = moderatorFactory;
    this.maxBatchSize = maxBatchSize;
    this.maxDelayMillis = maxDelayMillis;
  }

  @Override
  public void open() throws Exception {
    super.open();
    moderator = moderatorFactory.create();
    outputs = Topics.GENERATION_OUTPUTS.codec();
    verdicts = Topics.MODERATION_VERDICTS.codec();
    buffer = new ArrayList<>(maxBatchSize);
  }

  @Override
  public void processElement(StreamRecord<KafkaMessage> element) {
    buffer.add(outputs.decode(element.getValue().value));
    if (buffer.size() >= maxBatchSize) {
      flush();
    } else if (!flushScheduled) {
      flushScheduled = true;
      long due = getProcessingTimeService().getCurrentProcessingTime() + maxDelayMillis;
      getProcessingTimeService().registerTimer(due, timestamp -> flush());
    }
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    flush();
    super.prepareSnapshotPreBarrier(checkpointId);
  }

  @Override
  public void finish() throws Exception {
    flush();
    super.finish();
  }

  @Override
  public void close() throws Exception {
    if (moderator != null) {
      moderator.close();
    }
    super.close();
  }

  private void flush() {
    flushScheduled = false;
    if (buffer.isEmpty()) {
      return;
    }
    List<GenerationOutput> batch = List.copyOf(buffer);
    buffer.clear();
    List<ModerationVerdict> judged = moderator.moderate(batch);
    if (judged.size() != batch.size()) {
      // A moderator that loses outputs would break the one-verdict-per-output invariant; stop the
      // task so the restart strategy replays the batch from the last checkpoint.
      throw new IllegalStateException(
          "Moderator returned " + judged.size() + " verdicts for " + batch.size() + " outputs");
    }
    for (ModerationVerdict verdict : judged) {
      output.collect(
          new StreamRecord<>(
              KafkaMessage.outgoing(
                  Topics.MODERATION_VERDICTS.name(),
                  verdict.getRequestId().getBytes(StandardCharsets.UTF_8),
                  verdicts.encode(verdict))));
    }
  }
}
