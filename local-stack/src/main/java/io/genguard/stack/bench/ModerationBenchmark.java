package io.genguard.stack.bench;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.job.ModerationJob;
import io.genguard.moderation.job.ModerationJobConfig;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Moderation throughput with a real scorer, measured in one run on the same texts: the bare scorer
 * called in batches the size the job uses, and the Flink moderation job (Kafka source, screening,
 * bias, provenance, policy, exactly-once sink) from gen.outputs to committed verdicts. The issue's
 * target is that the job reaches at least 80% of the bare scorer's throughput.
 *
 * <p>The measurements alternate: bare, job, bare, job, ..., bare ({@code rounds} job rounds), all
 * in this process while the broker runs and the deployed job idles between its rounds. Each job
 * round is compared with the mean of the bare runs on either side of it, and the reported ratio is
 * the median of those, because this VM's speed drifts by as much as a third within minutes (one run
 * measured the bare scorer at 75 texts/s before the job and 105 after it).
 */
public final class ModerationBenchmark {
  /** What a run measured. */
  public record Result(
      String scorer,
      int texts,
      double meanTokens,
      double bareBefore,
      double bareAfter,
      double bareMean,
      double jobOutputsPerSecond,
      double ratio,
      List<Double> roundRatios,
      double p50Millis,
      double p99Millis,
      double loadAverage) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"scorer\":\"%s\",\"texts\":%d,\"mean_tokens\":%.0f,\"bare_scorer_texts_per_second\":%.1f,"
              + "\"bare_before\":%.1f,\"bare_after\":%.1f,\"job_outputs_per_second\":%.1f,\"job_vs_bare\":%.2f,"
              + "\"round_ratios\":%s,\"p50_ms\":%.0f,\"p99_ms\":%.0f,\"load_average\":%.2f}",
          scorer,
          texts,
          meanTokens,
          bareMean,
          bareBefore,
          bareAfter,
          jobOutputsPerSecond,
          ratio,
          roundRatios.stream()
              .map(r -> String.format(Locale.ROOT, "%.2f", r))
              .toList()
              .toString()
              .replace(" ", ""),
          p50Millis,
          p99Millis,
          loadAverage);
    }
  }

  private ModerationBenchmark() {}

  /**
   * @param count outputs per job round (and texts per bare run)
   * @param rate outputs/s to send at (0: all at once, which measures throughput; a rate below the
   *     throughput measures latency without a queue)
   * @param rounds job rounds, each between two bare runs
   */
  public static Result run(String scorerName, int count, int warmup, double rate, int rounds)
      throws Exception {
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be at least 1, got " + rounds);
    }
    String scorer =
        scorerName == null || scorerName.equals("default") ? ScorerConfig.DEFAULT_NAME : scorerName;
    ModerationJobConfig defaults = ModerationJobConfig.defaults("unused");
    List<String> texts = texts(count + warmup, 7);
    List<Double> bare = new ArrayList<>();
    List<Double> jobRates = new ArrayList<>();
    List<Double> latencies = new ArrayList<>();

    Path dir = Files.createTempDirectory("genguard-moderation-bench-");
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(dir.resolve("kafka"), 0)) {
      Map<String, Object> client = Map.of("bootstrap.servers", kafka.bootstrapServers());
      TopicProvisioner.provisionCatalogue(client, 4, (short) 1);
      ModerationJobConfig config = ModerationJobConfig.defaults(kafka.bootstrapServers());
      // A watermark key to look for, as the job holds in production: a verifier makes none of its
      // own, and without one it would skip detection and measure less than the job does.
      ProvenanceKeys.loadOrCreate(dir.resolve("keys"));
      BatchModerator.Factory moderator =
          ModerationPipelines.factory(scorer, null, dir.resolve("keys"));
      Configuration conf = new Configuration();
      conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
      conf.set(RestOptions.BIND_PORT, "0");
      StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
      ModerationJob.configure(env, config);
      ModerationJob.buildPipeline(
          env,
          ModerationJob.kafkaSource(config),
          ModerationJob.kafkaSink(config),
          moderator,
          config);
      JobClient job = env.executeAsync("moderation-benchmark");
      try (KafkaConsumer<byte[], byte[]> verdicts = verdictConsumer(kafka.bootstrapServers())) {
        send(kafka.bootstrapServers(), "warmup", texts.subList(0, warmup), 0, new HashMap<>());
        awaitVerdicts(verdicts, warmup, Map.of(), null);
        bare.add(bareScorer(scorer, texts, warmup, defaults.maxBatchSize()));
        for (int round = 1; round <= rounds; round++) {
          jobRates.add(
              jobRound(
                  kafka.bootstrapServers(),
                  verdicts,
                  "measure" + round,
                  texts,
                  warmup,
                  rate,
                  latencies));
          bare.add(bareScorer(scorer, texts, warmup, defaults.maxBatchSize()));
        }
      } finally {
        job.cancel().get();
      }
    }
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    List<Double> ratios = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      ratios.add(jobRates.get(round) / ((bare.get(round) + bare.get(round + 1)) / 2));
    }
    double[] sorted = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new Result(
        scorer,
        count,
        meanTokens(texts),
        bare.get(0),
        bare.get(rounds),
        bare.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
        jobRates.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
        median(ratios),
        ratios,
        percentile(sorted, 0.50),
        percentile(sorted, 0.99),
        load);
  }

  /** One job round: {@code count} outputs in, outputs/s until every verdict is committed. */
  private static double jobRound(
      String bootstrap,
      KafkaConsumer<byte[], byte[]> verdicts,
      String run,
      List<String> texts,
      int warmup,
      double rate,
      List<Double> latencies) {
    int count = texts.size() - warmup;
    long begin = System.nanoTime();
    // Sent from another thread, so that verdicts are read (and timed) while outputs still go out.
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    var sender =
        CompletableFuture.runAsync(
            () -> {
              try {
                send(bootstrap, run, texts.subList(warmup, texts.size()), rate, sentAt);
              } catch (Exception e) {
                throw new IllegalStateException("sending the benchmark outputs failed", e);
              }
            });
    awaitVerdicts(verdicts, count, sentAt, latencies);
    sender.join();
    return count / ((System.nanoTime() - begin) / 1e9);
  }

  static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  private static double bareScorer(String name, List<String> texts, int warmup, int batch) {
    try (ContentScorer scorer = ScorerFactory.create(ScorerConfig.named(name))) {
      for (int i = 0; i < warmup; i += batch) {
        scorer.scoreBatch(texts.subList(i, Math.min(warmup, i + batch)));
      }
      long begin = System.nanoTime();
      for (int i = warmup; i < texts.size(); i += batch) {
        scorer.scoreBatch(texts.subList(i, Math.min(texts.size(), i + batch)));
      }
      return (texts.size() - warmup) / ((System.nanoTime() - begin) / 1e9);
    }
  }

  /** Sends outputs, recording in {@code sentAt} when each request id was sent. */
  private static void send(
      String bootstrap, String run, List<String> texts, double rate, Map<String, Long> sentAt)
      throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    try (var producer =
        new KafkaProducer<>(
            props, new StringSerializer(), Topics.GENERATION_OUTPUTS.valueSerde().serializer())) {
      long start = System.nanoTime();
      for (int i = 0; i < texts.size(); i++) {
        PlumbingBenchmark.awaitSlot(start, i, rate);
        GenerationOutput output =
            GenerationOutput.newBuilder(PlumbingBenchmark.output(run + "-" + EventIds.random(), i))
                .setText(texts.get(i))
                .setGeneratedAt(Instant.now())
                .build();
        sentAt.put(output.getRequestId(), System.currentTimeMillis());
        producer.send(
            new ProducerRecord<>(Topics.GENERATION_OUTPUTS.name(), output.getRequestId(), output));
      }
      producer.flush();
    }
  }

  private static KafkaConsumer<byte[], byte[]> verdictConsumer(String bootstrap) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "moderation-benchmark-" + EventIds.random());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(List.of(Topics.MODERATION_VERDICTS.name()));
    return consumer;
  }

  /** Counts committed verdicts; with a latency list, records (now - time the output was sent). */
  private static void awaitVerdicts(
      KafkaConsumer<byte[], byte[]> consumer,
      int count,
      Map<String, Long> sentAt,
      List<Double> latencies) {
    int seen = 0;
    long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
    while (seen < count) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "Only " + seen + " of " + count + " verdicts within 20 minutes");
      }
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
        seen++;
        if (latencies != null) {
          // Visible now: this consumer reads committed records only, so this includes the wait
          // for the checkpoint that commits the sink's transaction.
          Long sent =
              sentAt.get(Topics.MODERATION_VERDICTS.codec().decode(record.value()).getRequestId());
          if (sent != null) {
            latencies.add((double) (System.currentTimeMillis() - sent));
          }
        }
      }
    }
  }

  private static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  private static double meanTokens(List<String> texts) {
    return texts.stream().mapToInt(text -> text.split("\\s+").length).average().orElse(0);
  }

  /** Outputs of about 100 words built from varied sentences, some of them unsafe. */
  static List<String> texts(int count, long seed) {
    Random random = new Random(seed);
    List<String> texts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      while (text.toString().split("\\s+").length < 100) {
        text.append(SENTENCES.get(random.nextInt(SENTENCES.size()))).append(' ');
      }
      texts.add(text.toString().trim());
    }
    return texts;
  }

  private static final List<String> SENTENCES =
      Arrays.asList(
          "The committee discussed the budget for the coming year and agreed on a timetable.",
          "Our group supports the amendment because it protects consumers in every region.",
          "The new directive on energy efficiency will reduce costs for small businesses.",
          "Transport safety remains a priority and the report lists twelve concrete measures.",
          "Thank you for your help with the migration, the dashboard looks great now.",
          "Here is a short summary: the budget was approved and the next review is in March.",
          "Please send the revised figures before Friday so that we can finish the draft.",
          "The weather in the north will be cold with occasional rain over the weekend.",
          "You are a worthless idiot and everyone at work laughs at you behind your back.",
          "People like them are vermin who should be driven out of this country.",
          "I know where you live and I am going to hurt you tonight.",
          "The museum opens a new exhibition on medieval trade routes next month.");
}
