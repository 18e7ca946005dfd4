package io.genguard.moderation.job;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.PolicyFile;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.pipeline.VerdictBytes;
import io.genguard.moderation.policy.InvalidPolicyException;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.EventTooLargeException;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers outputs and judges them in batches of up to {@code maxBatchSize}, or whatever has arrived
 * after {@code maxDelayMillis}: a few milliseconds of buffering buy a lot of model throughput.
 *
 * <p>Invariant: the buffer is empty at every checkpoint barrier ({@link #prepareSnapshotPreBarrier}
 * flushes it), so no output is in the operator's state and a restore from a checkpoint re-reads
 * from Kafka exactly the outputs that had not yet been judged.
 *
 * <p>Its one piece of state is the policy file in force ({@value #POLICY_STATE}, union list state:
 * each subtask's file, its subtask index and its origin). A restored task starts under the file its
 * own subtask (else the lowest-numbered one) had in force, and the moderator it creates in {@link
 * #open()} reads the file on disk as a change before the first batch ({@link
 * BatchModerator.Factory#create(PolicySet)}): a settled, valid file under a new version decides the
 * whole backlog of an upgrade, and a half-written, invalid or same-version file leaves the restored
 * policy in force, so a restart after a failure does not fail on what the file says at that
 * instant. A checkpoint from before this state, or a file that no longer parses, starts under the
 * policy the job was submitted with, and says so in the log.
 *
 * <p>Beside it, {@value #POLICY_VERSIONS_STATE} (union list state: version, SHA-256 of its file)
 * holds every policy version the task's moderator had in force ({@link
 * BatchModerator#policyVersionsSeen()}, bounded by its reloader), so that a restored task, like a
 * running one, refuses a file that reuses an earlier version for other rules. A restored task is
 * given the versions of all subtasks; a checkpoint from before this state has none.
 *
 * <p>Beside the verdicts it emits the policy file they are decided under, to {@code
 * moderation.policies}, whenever the file in force is not the one this task emitted last (so once
 * at start, after each hot reload, and again after a restore: consumers keep each file once).
 *
 * <p>Metrics (group {@value #METRIC_GROUP}; with Flink's Prometheus reporter they become {@code
 * flink_taskmanager_job_task_operator_genguard_*}): {@value #OUTPUTS_SCORED} (counter), {@value
 * #BATCH_SIZE}, {@value #SCORING_LATENCY_MS} (per model call) and {@value #OUTPUT_AGE_MS} (output
 * generatedAt to its verdict) histograms, and {@value #DECISIONS} per {@code decision} and {@code
 * category} (a REVIEW or BLOCK counts once for each distinct category among the reasons that called
 * for it; RELEASE, and decisions with no such category, count under {@code none}).
 */
public final class BatchingModerationOperator extends AbstractStreamOperator<KafkaMessage>
    implements OneInputStreamOperator<KafkaMessage, KafkaMessage> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(BatchingModerationOperator.class);

  public static final String METRIC_GROUP = "genguard";
  public static final String OUTPUTS_SCORED = "outputs_scored";
  public static final String BATCH_SIZE = "batch_size";
  public static final String SCORING_LATENCY_MS = "scoring_latency_ms";
  public static final String OUTPUT_AGE_MS = "output_age_ms";
  public static final String DECISIONS = "decisions";

  /** The operator state that holds the policy file in force. */
  public static final String POLICY_STATE = "policy-in-force";

  /** The operator state that holds the policy versions seen and the digests of their files. */
  public static final String POLICY_VERSIONS_STATE = "policy-versions-seen";

  /** Samples each histogram keeps for its quantiles. */
  private static final int HISTOGRAM_WINDOW = 1000;

  private final BatchModerator.Factory moderatorFactory;
  private final int maxBatchSize;
  private final long maxDelayMillis;

  private transient BatchModerator moderator;
  private transient EventCodec<GenerationOutput> outputs;
  private transient List<GenerationOutput> buffer;
  private transient boolean flushScheduled;
  private transient MetricGroup metrics;
  private transient Counter outputsScored;
  private transient Histogram batchSize;
  private transient Histogram scoringLatency;
  private transient Histogram outputAge;
  private transient Map<String, Counter> decisions;
  private transient String publishedSha256;
  private transient String taskStart;
  private transient ListState<Tuple3<Integer, String, String>> policyState;
  private transient PolicySet restoredPolicy;
  private transient ListState<Tuple2<String, String>> versionsState;
  private transient Map<String, String> restoredVersions;

  public BatchingModerationOperator(
      BatchModerator.Factory moderatorFactory, int maxBatchSize, long maxDelayMillis) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxDelayMillis < 0) {
      throw new IllegalArgumentException(
          "maxDelayMillis must not be negative, was " + maxDelayMillis);
    }
    this.moderatorFactory = moderatorFactory;
    this.maxBatchSize = maxBatchSize;
    this.maxDelayMillis = maxDelayMillis;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    policyState =
        context
            .getOperatorStateStore()
            .getUnionListState(
                new ListStateDescriptor<>(
                    POLICY_STATE, Types.TUPLE(Types.INT, Types.STRING, Types.STRING)));
    versionsState =
        context
            .getOperatorStateStore()
            .getUnionListState(
                new ListStateDescriptor<>(
                    POLICY_VERSIONS_STATE, Types.TUPLE(Types.STRING, Types.STRING)));
    restoredVersions = Map.of();
    if (context.isRestored()) {
      restoredPolicy = restoredPolicy(policyState.get(), subtask());
      restoredVersions = restoredVersions(versionsState.get());
    }
  }

  /**
   * The versions seen by every subtask at the checkpoint, each once (the first entry of a version
   * wins; subtasks read one file, so they agree), in the order the entries came.
   */
  static Map<String, String> restoredVersions(Iterable<Tuple2<String, String>> entries) {
    Map<String, String> versions = new LinkedHashMap<>();
    for (Tuple2<String, String> entry : entries) {
      versions.putIfAbsent(entry.f0, entry.f1);
    }
    if (!versions.isEmpty()) {
      LOG.info("Restored {} policy versions seen before the checkpoint", versions.size());
    }
    return versions;
  }

  /**
   * The policy to start under, of the entries restored: this subtask's, else the lowest-numbered
   * subtask's (after a change of parallelism); null when there is none or it does not parse.
   */
  static PolicySet restoredPolicy(Iterable<Tuple3<Integer, String, String>> entries, int subtask) {
    Tuple3<Integer, String, String> chosen = null;
    for (Tuple3<Integer, String, String> entry : entries) {
      if (chosen == null || entry.f0 == subtask || (chosen.f0 != subtask && entry.f0 < chosen.f0)) {
        chosen = entry;
      }
    }
    if (chosen == null) {
      LOG.info("No policy in the checkpoint; starting under the policy the job was submitted with");
      return null;
    }
    try {
      PolicySet policy = PolicyLoader.parse(chosen.f2, chosen.f1);
      LOG.info("Starting under {}, in force at the checkpoint", policy);
      return policy;
    } catch (InvalidPolicyException e) {
      LOG.warn(
          "The policy in force at the checkpoint no longer parses ({}); starting under the policy"
              + " the job was submitted with",
          e.getMessage());
      return null;
    }
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    PolicySet policy = moderator.policy();
    policyState.update(
        policy == null ? List.of() : List.of(Tuple3.of(subtask(), policy.origin(), policy.text())));
    List<Tuple2<String, String>> versions = new ArrayList<>();
    moderator.policyVersionsSeen().forEach((version, sha) -> versions.add(Tuple2.of(version, sha)));
    versionsState.update(versions);
  }

  private int subtask() {
    return getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
  }

  @Override
  public void open() throws Exception {
    super.open();
    moderator = moderatorFactory.create(restoredPolicy, restoredVersions);
    restoredPolicy = null;
    restoredVersions = null;
    outputs = Topics.GENERATION_OUTPUTS.codec();
    buffer = new ArrayList<>(maxBatchSize);
    metrics = getMetricGroup().addGroup(METRIC_GROUP);
    outputsScored = metrics.counter(OUTPUTS_SCORED);
    batchSize = metrics.histogram(BATCH_SIZE, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    scoringLatency =
        metrics.histogram(SCORING_LATENCY_MS, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    outputAge =
        metrics.histogram(OUTPUT_AGE_MS, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    decisions = new HashMap<>();
    taskStart = subtask() + "@" + System.currentTimeMillis();
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
    publishPolicy();
    long started = System.nanoTime();
    List<ModerationVerdict> judged = moderator.moderate(batch);
    scoringLatency.update((System.nanoTime() - started) / 1_000_000);
    batchSize.update(batch.size());
    if (judged.size() != batch.size()) {
      // A moderator that loses outputs would break the one-verdict-per-output invariant; stop the
      // task so the restart strategy replays the batch from the last checkpoint.
      throw new IllegalStateException(
          "Moderator returned " + judged.size() + " verdicts for " + batch.size() + " outputs");
    }
    long now = System.currentTimeMillis();
    for (GenerationOutput judgedOutput : batch) {
      outputAge.update(Math.max(0, now - judgedOutput.getGeneratedAt().toEpochMilli()));
    }
    outputsScored.inc(batch.size());
    for (ModerationVerdict verdict : judged) {
      countDecision(verdict);
      output.collect(
          new StreamRecord<>(
              KafkaMessage.outgoing(
                  Topics.MODERATION_VERDICTS.name(),
                  verdict.getRequestId().getBytes(StandardCharsets.UTF_8),
                  VerdictBytes.encode(verdict))));
    }
    publishPolicy(); // a file the moderator took while deciding this batch
  }

  /**
   * Publishes the moderator's policy file to {@code moderation.policies} when it is not the one
   * this task published last: with the verdicts, through the same transactional sink, so that the
   * audit service can keep every file a verdict names. A file too large for an event (over
   * 1,000,000 bytes) is logged and not published; the verdicts still name its digest.
   */
  private void publishPolicy() {
    PolicySet policy = moderator.policy();
    if (policy == null || policy.sha256().equals(publishedSha256)) {
      return;
    }
    publishedSha256 = policy.sha256();
    PolicyFile file =
        PolicyFile.newBuilder()
            .setEventId(EventIds.nameBased("policy-file", policy.sha256(), taskStart))
            .setSha256(policy.sha256())
            .setPolicyId(policy.policyId())
            .setVersion(policy.version())
            .setYaml(policy.text())
            .setOrigin(policy.origin())
            .setLoadedAt(Instant.now())
            .build();
    byte[] value;
    try {
      value = Topics.MODERATION_POLICIES.codec().encode(file);
    } catch (EventTooLargeException e) {
      LOG.warn(
          "Policy {} (SHA-256 {}) is not published for the audit archive: {}",
          policy.version(),
          policy.sha256(),
          e.getMessage());
      return;
    }
    output.collect(
        new StreamRecord<>(
            KafkaMessage.outgoing(
                Topics.MODERATION_POLICIES.name(),
                policy.sha256().getBytes(StandardCharsets.UTF_8),
                value)));
  }

  private void countDecision(ModerationVerdict verdict) {
    String decision = verdict.getDecision().name();
    TreeSet<String> categories = new TreeSet<>();
    for (Reason reason : verdict.getReasons()) {
      if (verdict.getDecision() != Decision.RELEASE
          && reason.getDecision() == verdict.getDecision()
          && reason.getCategory() != null) {
        categories.add(reason.getCategory());
      }
    }
    if (categories.isEmpty()) {
      categories.add("none");
    }
    for (String category : categories) {
      decisions
          .computeIfAbsent(
              decision + "/" + category,
              key ->
                  metrics
                      .addGroup("decision", decision)
                      .addGroup("category", category)
                      .counter(DECISIONS))
          .inc();
    }
  }
}
