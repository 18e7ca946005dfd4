package io.genguard.bias.job;

import io.genguard.bias.analysis.LiveDisparity;
import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.moderation.job.ExactlyOnceKafka;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.settings.KnownSettings;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bias-aggregation job: reads moderation verdicts and writes per-group statistics to
 * bias.metrics: running totals per campaign x group (campaign requests), and per model x detected
 * group x tumbling window (live traffic). When some group of a live window differs from the rest
 * significantly after correction, it raises a live bias alert: a bias.alerts event (Kafka, so the
 * audit log records it) and a bias_audit.live_alert row (what the dashboard and reports query).
 *
 * <pre>
 * moderation.verdicts ─ decode ─┬─ campaign? ─ key (campaign, group) ─ running totals ─────┐
 *   (dead letters ─> .dlq)      └─ live ─ key (window) ─ models ─ key (model) ─ window, counts per group ─┤
 *                                              key (model) ─ window ─ one-vs-rest tests ─ alerts ─┬─ live_alert
 *                                                                                     bias.alerts <┘
 *                                                                          bias.metrics <─┘
 * </pre>
 *
 * <p>Event time is the verdicts' decision time, watermarked per Kafka partition at the source
 * ({@link DecisionTimeWatermarks}); a live verdict that still reaches a closed window is counted in
 * {@value LateLiveVerdicts#LATE_LIVE_VERDICTS} and logged ({@link LateLiveVerdicts}).
 *
 * <p>Exactly once: offsets are part of each checkpoint and the Kafka sink commits its transaction
 * when the checkpoint completes; metric ids are deterministic; alerts are upserted by id, once
 * their checkpoint completes, and wait in the checkpoints while the alert database is down ({@link
 * LiveAlertWriter}).
 */
public final class BiasAggregationJob {
  private static final Logger LOG = LoggerFactory.getLogger(BiasAggregationJob.class);
  public static final String JOB_NAME = "genguard-bias-aggregation";

  /** Every topic the job writes to: metrics, live alerts, dead letters. */
  public static final List<Topic<?, ?>> OUTPUT_TOPICS =
      List.of(Topics.BIAS_METRICS, Topics.BIAS_ALERTS, Topics.MODERATION_VERDICTS_DLQ);

  private BiasAggregationJob() {}

  /**
   * Wires the pipeline between any source and sinks, so tests run it on their own I/O.
   *
   * @param sink receives bias.metrics and bias.alerts events and dead letters (each names its
   *     topic)
   * @param alertSink receives live bias alerts
   */
  public static void buildPipeline(
      StreamExecutionEnvironment env,
      Source<KafkaMessage, ?, ?> source,
      Sink<KafkaMessage> sink,
      Sink<BiasAlert> alertSink,
      BiasJobConfig config) {
    TypeInformation<KafkaMessage> messages = TypeInformation.of(KafkaMessage.class);
    // Event time is the decision time, with watermarks per Kafka partition (the source's is the
    // smallest of its partitions'), so a partition read ahead of another makes nothing late; a
    // decision time further ahead of the wall clock than the bound counts as the bound.
    SingleOutputStreamOperator<VerdictFacts> verdicts =
        env.fromSource(
                source,
                new DecisionTimeWatermarks(
                    config.outOfOrderness(), config.idleAdvance(), config.maxClockAhead()),
                "moderation.verdicts source",
                messages)
            .uid("verdicts-source")
            .process(
                new DecodeVerdicts(
                    config.unsafeThreshold(), config.categoryThreshold(), config.categories()))
            .name("decode verdicts")
            .uid("decode-verdicts");

    // Campaign totals: one key per campaign group, each campaign sample counted once, retired
    // (state cleared, totals final) once event time is the retention past its latest decision.
    DataStream<KafkaMessage> campaignMetrics =
        verdicts
            .filter(verdict -> verdict.campaignId != null && verdict.campaignGroup != null)
            .name("campaign verdicts")
            .uid("campaign-verdicts")
            // A group or sample a campaign cannot have, or a group past the campaign's bound, is
            // rejected (counted), so a tenant's requests cannot grow campaign state without end.
            .keyBy(CampaignAdmission::key)
            .process(new CampaignAdmission(config.campaignMaxGroups()))
            .name("campaign admission")
            .uid("campaign-admission")
            .keyBy(CampaignGroupAggregator::key)
            .transform(
                "campaign group totals",
                messages,
                CampaignGroupAggregator.operator(
                    config.campaignEmitInterval().toMillis(),
                    config.campaignRetention().toMillis(),
                    config.categories()))
            .name("campaign group totals")
            .uid("campaign-group-totals");

    // Live traffic: windows per model, on the decision time, each counting every detected group of
    // its verdicts in one aggregate, so that the one subtask holding a model decides once whether
    // a verdict is late and counts it under every group or under none. A new uid since the
    // forty-fourth session: the windows keyed by model and group ("live-window-counts") held other
    // state, left behind by an upgrade with --allowNonRestoredState (docs/OPERATIONS.md).
    long liveWindowMillis = config.liveWindow().toMillis();
    SingleOutputStreamOperator<LiveGroupWindow> liveWindows =
        verdicts
            .filter(LiveWindowFunctions::isLive)
            .name("live verdicts")
            .uid("live-verdicts")
            // At most GENGUARD_BIAS_LIVE_MAX_MODELS models per window keep their key, the rest
            // count under unknown-model, so a writer of moderation.verdicts inventing models cannot
            // grow the windows' keys without bound. New since the forty-sixth session: a savepoint
            // without it restores the windows as they were, this operator starts empty.
            .keyBy(verdict -> LiveModelAdmission.windowStart(verdict, liveWindowMillis), Types.LONG)
            .process(new LiveModelAdmission(liveWindowMillis, config.liveMaxModels()))
            .name("live window models")
            .uid("live-window-models")
            .keyBy(LiveWindowFunctions::model)
            .window(TumblingEventTimeWindows.of(config.liveWindow()))
            .sideOutputLateData(LateLiveVerdicts.LATE)
            .aggregate(
                new LiveWindowFunctions.CountGroups(config.categories()),
                new LiveWindowFunctions.LabelGroups(),
                LiveWindowFunctions.groupCountsType(),
                LiveWindowFunctions.groupCountsType(),
                TypeInformation.of(LiveGroupWindow.class))
            .name("live window counts per model")
            .uid("live-model-window-counts");
    // A verdict whose window had closed is counted and logged, not dropped silently.
    liveWindows
        .getSideOutput(LateLiveVerdicts.LATE)
        .process(new LateLiveVerdicts(config.liveWindow().toMillis()))
        .name("late live verdicts")
        .uid("late-live-verdicts");
    DataStream<KafkaMessage> liveMetrics =
        liveWindows
            .map(new LiveWindowFunctions.EncodeLiveMetric(config.categories()))
            .name("encode live metrics")
            .uid("encode-live-metrics");

    // All groups of one model's window meet again (each window result carries the window's last
    // timestamp, so it falls in the same window) for the tests of each detected group against the
    // others.
    DataStream<BiasAlert> alerts =
        liveWindows
            .keyBy(window -> window.model)
            .window(TumblingEventTimeWindows.of(config.liveWindow()))
            .process(
                new LiveWindowFunctions.DetectDisparity(
                    new LiveDisparity.Settings(
                        config.alertAlpha(),
                        config.alertCorrection(),
                        config.alertMinGroupSize(),
                        config.categories())))
            .name("live disparity tests")
            .uid("live-disparity-tests");
    if (alertSink instanceof JdbcAlertSink database) {
      // Stored once their checkpoint completes, kept in the checkpoints through a database outage.
      alerts
          .transform("live alerts sink", Types.VOID, database.writer(config.alertOutageLimit()))
          .uid("live-alerts-sink");
    } else {
      alerts.sinkTo(alertSink).name("live alerts sink").uid("live-alerts-sink");
    }
    DataStream<KafkaMessage> alertEvents =
        alerts
            .map(new LiveWindowFunctions.EncodeAlert())
            .name("encode bias alerts")
            .uid("encode-bias-alerts");

    campaignMetrics
        .union(liveMetrics, alertEvents, verdicts.getSideOutput(DecodeVerdicts.DEAD_LETTERS))
        .sinkTo(sink)
        .name("bias metrics and dead letters sink")
        .uid("bias-metrics-sink");
  }

  /** Checkpointing and restarts as production runs them. */
  public static void configure(StreamExecutionEnvironment env, BiasJobConfig config) {
    ExactlyOnceKafka.configure(env, config.parallelism(), config.checkpointInterval());
    env.getConfig().setAutoWatermarkInterval(200);
  }

  /**
   * Configures {@code env} and wires the job on Kafka and (if configured) the alert database, whose
   * {@code bias_audit} schema is created or upgraded first.
   */
  public static void wire(StreamExecutionEnvironment env, BiasJobConfig config) {
    if (config.alertJdbcUrl() != null) {
      BiasAuditDatabase.migrate(
          config.alertJdbcUrl(), config.alertJdbcUser(), config.alertJdbcPassword());
    }
    configure(env, config);
    buildPipeline(env, kafkaSource(config), kafkaSink(config), alertSink(config), config);
  }

  /** moderation.verdicts; a new group starts from the beginning, so earlier campaigns count. */
  public static KafkaSource<KafkaMessage> kafkaSource(BiasJobConfig config) {
    return ExactlyOnceKafka.source(
        config.bootstrapServers(),
        Topics.MODERATION_VERDICTS.name(),
        config.consumerGroup(),
        DecodeVerdicts.STAGE);
  }

  public static KafkaSink<KafkaMessage> kafkaSink(BiasJobConfig config) {
    return ExactlyOnceKafka.sink(
        config.bootstrapServers(), config.transactionalIdPrefix(), OUTPUT_TOPICS);
  }

  /** The alert table's sink, or a discarding one when no alert database is configured. */
  public static Sink<BiasAlert> alertSink(BiasJobConfig config) {
    if (config.alertJdbcUrl() == null) {
      return new DiscardingSink<>();
    }
    return new JdbcAlertSink(
        config.alertJdbcUrl(), config.alertJdbcUser(), config.alertJdbcPassword());
  }

  /** Runs the job on a Flink cluster, configured from GENGUARD_* environment variables. */
  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    KnownSettings.check(env).forEach(LOG::warn);
    BiasJobConfig config =
        BiasJobConfig.fromEnvironment(
            env,
            env.getOrDefault(BiasJobConfig.BOOTSTRAP_SERVERS, "localhost:9092"),
            env.get(BiasJobConfig.JDBC_URL),
            env.get(BiasJobConfig.JDBC_USER),
            env.get(BiasJobConfig.JDBC_PASSWORD));
    StreamExecutionEnvironment environment = StreamExecutionEnvironment.getExecutionEnvironment();
    wire(environment, config);
    environment.execute(JOB_NAME);
  }
}
