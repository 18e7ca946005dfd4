package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.PolicyFile;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The moderation job on a real broker and a Flink MiniCluster: one verdict per output, through a
 * task failure (failover from checkpoint) and a job restart from a retained checkpoint, and the
 * policy a restored job decides under.
 */
class ModerationJobITCase {
  private static IntegrationInfrastructure infra;

  /** Fails the task once, at the given output count, to force a failover from checkpoint. */
  static final AtomicInteger FAIL_AT = new AtomicInteger(-1);

  static final AtomicInteger SEEN = new AtomicInteger();

  @TempDir Path flinkState;

  @BeforeAll
  static void topics() {
    infra = IntegrationInfrastructure.get();
    infra.createTopics(2, Topics.all().stream().map(topic -> topic.name()).toList());
  }

  /**
   * A deterministic test moderator: BLOCK texts that say "forbidden", RELEASE the rest, under the
   * built-in policy file.
   */
  static BatchModerator keywordModerator() {
    return new BatchModerator() {
      @Override
      public List<ModerationVerdict> moderate(List<GenerationOutput> outputs) {
        List<ModerationVerdict> verdicts = new ArrayList<>();
        for (GenerationOutput output : outputs) {
          if (SEEN.incrementAndGet() == FAIL_AT.get()) {
            throw new IllegalStateException("injected failure to test failover");
          }
          verdicts.add(
              Events.verdict(
                  output,
                  output.getText().contains("forbidden") ? Decision.BLOCK : Decision.RELEASE));
        }
        return verdicts;
      }

      @Override
      public PolicySet policy() {
        return PolicyLoader.loadDefault();
      }
    };
  }

  @Test
  void shouldJudgeEveryOutputExactlyOnceThroughFailureAndRestart() throws Exception {
    String prefix = "job-it-" + System.nanoTime() + "-";
    ModerationJobConfig config = config(prefix, 2);

    produce(prefix, 0, 150);
    produceGarbage(prefix);
    FAIL_AT.set(SEEN.get() + 80);
    JobClient first = start(config, null);
    await().atMost(Duration.ofMinutes(4)).until(() -> verdictsFor(prefix).size() >= 150);

    // Stop as a crash would leave it: cancelled, with only the retained checkpoint to resume from.
    first.cancel().get();
    produce(prefix, 150, 300);
    Path checkpoint = newestCheckpoint();
    JobClient second = start(config, checkpoint);
    await().atMost(Duration.ofMinutes(4)).until(() -> verdictsFor(prefix).size() >= 300);
    Thread.sleep(1500); // let any duplicate that would appear become visible
    second.cancel().get();

    Map<String, Integer> perRequest = new HashMap<>();
    for (ModerationVerdict verdict : verdictsFor(prefix)) {
      perRequest.merge(verdict.getRequestId(), 1, Integer::sum);
    }
    assertThat(perRequest).hasSize(300);
    assertThat(perRequest.values()).allMatch(count -> count == 1);
    assertThat(verdictsFor(prefix))
        .filteredOn(v -> v.getDecision() == Decision.BLOCK)
        .hasSize(300 / 7 + 1);
    // The policy file the verdicts were decided under, published beside them for the archive.
    String sha256 = PolicyLoader.loadDefault().sha256();
    List<PolicyFile> published =
        readAll(Topics.MODERATION_POLICIES.name()).stream()
            .map(record -> Topics.MODERATION_POLICIES.codec().decode(record.value()))
            .filter(file -> file.getSha256().equals(sha256))
            .toList();
    assertThat(published)
        .as("each task publishes the file it decides under")
        .isNotEmpty()
        .allSatisfy(
            file -> {
              assertThat(file.getYaml()).isEqualTo(PolicyLoader.defaultText());
              assertThat(file.getVersion()).isEqualTo(PolicyLoader.loadDefault().version());
            });
    assertThat(deadLettersFor(prefix))
        .singleElement()
        .satisfies(
            deadLetter ->
                assertThat(deadLetter.getReason())
                    .contains("Not an Avro single-object encoded GenerationOutput"));
  }

  /**
   * The built-in policy with a comment that makes the file larger than an event may be: valid, and
   * decided under, but not publishable.
   */
  static final PolicySet OVERSIZED_POLICY =
      PolicyLoader.parse(
          PolicyLoader.defaultText()
              + "\n# "
              + "padding ".repeat(EventCodec.MAX_EVENT_BYTES / 8 + 1)
              + "\n",
          "oversized-test-policy.yaml");

  /** Releases everything, under {@link #OVERSIZED_POLICY}. */
  static BatchModerator oversizedPolicyModerator() {
    return new BatchModerator() {
      @Override
      public List<ModerationVerdict> moderate(List<GenerationOutput> outputs) {
        return outputs.stream().map(output -> Events.verdict(output, Decision.RELEASE)).toList();
      }

      @Override
      public PolicySet policy() {
        return OVERSIZED_POLICY;
      }
    };
  }

  @Test
  void shouldKeepDecidingUnderAPolicyFileTooLargeToPublishAndPublishNoneOfIt() throws Exception {
    assertThat(OVERSIZED_POLICY.text().length()).isGreaterThan(EventCodec.MAX_EVENT_BYTES);
    String prefix = "job-large-policy-it-" + System.nanoTime() + "-";
    ModerationJobConfig config = config(prefix, 1);
    produce(prefix, 0, 20);
    JobClient job = start(config, null, ModerationJobITCase::oversizedPolicyModerator);
    try {
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 20);
    } finally {
      job.cancel().get();
    }
    assertThat(verdictsFor(prefix)).hasSize(20);
    assertThat(
            readAll(Topics.MODERATION_POLICIES.name()).stream()
                .map(record -> Topics.MODERATION_POLICIES.codec().decode(record.value()))
                .filter(file -> file.getSha256().equals(OVERSIZED_POLICY.sha256())))
        .as("logged, not published: the audit service lists its digest as not archived")
        .isEmpty();
  }

  /**
   * A task restored from a checkpoint goes on under the policy in force at the checkpoint: the
   * file, changed meanwhile to other rules under the same version, is refused as a hot reload would
   * refuse it, instead of going into force unchecked because the task happened to restart.
   */
  @Test
  void shouldRestartUnderThePolicyInForceAtTheCheckpointNotChangedRulesUnderItsVersion(
      @TempDir Path files) throws Exception {
    String prefix = "job-policy-restart-it-" + System.nanoTime() + "-";
    ModerationJobConfig config = config(prefix, 2);
    Path file = files.resolve("policy.yaml");
    String inForce =
        PolicyLoader.defaultText().replaceFirst("(?m)^version: .*$", "version: \"restart-it\"");
    String sameVersionOtherRules =
        inForce.replace("hate:          {review: 0.50", "hate:          {review: 0.45");
    assertThat(sameVersionOtherRules).isNotEqualTo(inForce);
    Files.writeString(file, inForce);
    produce(prefix, 0, 20);
    JobClient first = start(config, null, factory(file, files));
    await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 20);
    first.cancel().get();

    Files.writeString(file, sameVersionOtherRules);
    produce(prefix, 20, 40);
    JobClient second = start(config, newestCheckpoint(), factory(file, files));
    try {
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 40);
      Thread.sleep(3000); // past the reloader's settle time, so the changed file has been read
      produce(prefix, 40, 60);
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 60);
    } finally {
      second.cancel().get();
    }

    assertThat(verdictsFor(prefix))
        .hasSize(60)
        .extracting(ModerationVerdict::getPolicySha256)
        .containsOnly(PolicyLoader.parse(inForce, "x").sha256());
  }

  /**
   * An upgrade: the job stopped, a new policy file (a new version, other rules) put in place, and
   * the outputs that piled up meanwhile judged by the restored job. A restored task takes the
   * settled new file before its first batch, so the whole backlog is decided under the rules the
   * operator deployed, not under the old ones until the reloader has looked at the file twice.
   */
  @Test
  void shouldJudgeTheBacklogAfterARestoreUnderTheNewPolicyVersionSettledOnDisk(@TempDir Path files)
      throws Exception {
    String prefix = "job-policy-upgrade-it-" + System.nanoTime() + "-";
    ModerationJobConfig config = config(prefix, 2);
    Path file = files.resolve("policy.yaml");
    String before =
        PolicyLoader.defaultText().replaceFirst("(?m)^version: .*$", "version: \"upgrade-it-1\"");
    String upgraded =
        before
            .replace("version: \"upgrade-it-1\"", "version: \"upgrade-it-2\"")
            .replace("hate:          {review: 0.50", "hate:          {review: 0.45");
    assertThat(upgraded).doesNotContain("hate:          {review: 0.50");
    Files.writeString(file, before);
    produce(prefix, 0, 20);
    JobClient first = start(config, null, factory(file, files));
    await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 20);
    first.cancel().get();

    // Deployed a minute before the restore, as an upgrade does it: the file has long settled.
    Files.writeString(file, upgraded);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofMinutes(1))));
    produce(prefix, 20, 220);
    JobClient second = start(config, newestCheckpoint(), factory(file, files));
    try {
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 220);
    } finally {
      second.cancel().get();
    }

    Map<String, Integer> backlogByPolicy = new TreeMap<>();
    for (ModerationVerdict verdict : verdictsFor(prefix)) {
      if (Integer.parseInt(verdict.getRequestId().substring(prefix.length())) >= 20) {
        backlogByPolicy.merge(
            verdict.getPolicyVersion() + " " + verdict.getPolicySha256(), 1, Integer::sum);
      }
    }
    assertThat(backlogByPolicy)
        .as("the verdicts on the outputs that piled up during the upgrade, by the policy they name")
        .containsExactly(
            Map.entry("upgrade-it-2 " + PolicyLoader.parse(upgraded, "x").sha256(), 200));
  }

  /** The job's moderator over the given policy file (the trivial scorer: this is about policy). */
  private static BatchModerator.Factory factory(Path policy, Path dir) {
    return ModerationPipelines.factory("trivial-benchmark", policy, dir.resolve("keys"));
  }

  /** The job's own consumer group and transactional ids, checkpoints every 300 ms. */
  private static ModerationJobConfig config(String prefix, int parallelism) {
    return ModerationJobConfig.defaults(infra.kafkaBootstrapServers())
        .withNames(prefix + "group", prefix + "tx")
        .withParallelism(parallelism)
        .withCheckpointInterval(Duration.ofMillis(300));
  }

  private JobClient start(ModerationJobConfig config, Path restoreFrom) throws Exception {
    return start(config, restoreFrom, ModerationJobITCase::keywordModerator);
  }

  private JobClient start(
      ModerationJobConfig config, Path restoreFrom, BatchModerator.Factory moderator)
      throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 2);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, flinkState.toUri().toString());
    conf.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    if (restoreFrom != null) {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
    ModerationJob.configure(env, config);
    ModerationJob.buildPipeline(
        env, ModerationJob.kafkaSource(config), ModerationJob.kafkaSink(config), moderator, config);
    return env.executeAsync("moderation-it");
  }

  private Path newestCheckpoint() throws Exception {
    try (Stream<Path> files = Files.walk(flinkState)) {
      return files
          .filter(path -> path.getFileName().toString().equals("_metadata"))
          .map(Path::getParent)
          .max((a, b) -> Long.compare(number(a), number(b)))
          .orElseThrow(() -> new AssertionError("no retained checkpoint in " + flinkState));
    }
  }

  private static long number(Path checkpoint) {
    return Long.parseLong(checkpoint.getFileName().toString().replace("chk-", ""));
  }

  private static void produce(String prefix, int from, int to) {
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = from; i < to; i++) {
      GenerationOutput output =
          Events.output(prefix + i, i % 7 == 0 ? "a forbidden text " + i : "fine text " + i);
      records.add(
          new ProducerRecord<>(
              Topics.GENERATION_OUTPUTS.name(),
              output.getRequestId().getBytes(StandardCharsets.UTF_8),
              Topics.GENERATION_OUTPUTS.codec().encode(output)));
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
  }

  private static void produceGarbage(String prefix) {
    TestInput.sendAll(
        infra.kafkaBootstrapServers(),
        List.of(
            new ProducerRecord<>(
                Topics.GENERATION_OUTPUTS.name(),
                (prefix + "garbage").getBytes(StandardCharsets.UTF_8),
                new byte[] {1, 2, 3})));
  }

  private static List<ModerationVerdict> verdictsFor(String prefix) {
    return readAll(Topics.MODERATION_VERDICTS.name()).stream()
        .map(record -> Topics.MODERATION_VERDICTS.codec().decode(record.value()))
        .filter(verdict -> verdict.getRequestId().startsWith(prefix))
        .toList();
  }

  private static List<DeadLetter> deadLettersFor(String prefix) {
    return readAll(Topics.GENERATION_OUTPUTS_DLQ.name()).stream()
        .filter(
            record ->
                record.key() != null
                    && new String(record.key(), StandardCharsets.UTF_8).startsWith(prefix))
        .map(record -> Topics.GENERATION_OUTPUTS_DLQ.codec().decode(record.value()))
        .toList();
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      var partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new org.apache.kafka.common.TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }
}
