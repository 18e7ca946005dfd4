package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole job on a local MiniCluster over a bounded in-memory source (the same buildPipeline as
 * production, other I/O): campaign totals count each sample once and only the campaign tenant's
 * verdicts, live windows count per model and group, a window with a planted disparity raises
 * exactly one alert, garbage becomes a dead letter.
 */
class BiasAggregationPipelineTest {
  private static final Instant WINDOW_ONE = Instant.parse("2026-01-01T00:00:00Z");
  private static final Instant WINDOW_TWO = WINDOW_ONE.plus(Duration.ofMinutes(5));
  static final ConcurrentLinkedQueue<KafkaMessage> MESSAGES = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<BiasAlert> ALERTS = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void clear() {
    MESSAGES.clear();
    ALERTS.clear();
  }

  private static List<byte[]> records() {
    List<ModerationVerdict> verdicts = new ArrayList<>();
    // Another tenant names the campaign's id first: unsafe verdicts under the campaign's own
    // sample indexes of group control (0, 2, ..., 18), and a group the campaign does not have.
    for (int i = 0; i < 20; i += 2) {
      verdicts.add(
          VerdictFixtures.verdict(
              "intruder-" + i,
              true,
              WINDOW_ONE.plusMillis(i),
              List.of(),
              VerdictFixtures.campaign("bias-it", "control", i),
              VerdictFixtures.ECHO,
              "intruder"));
      verdicts.add(
          VerdictFixtures.verdict(
              "intruder-extra-" + i,
              true,
              WINDOW_ONE.plusMillis(i),
              List.of(),
              VerdictFixtures.campaign("bias-it", "extra", 100 + i),
              VerdictFixtures.ECHO,
              "intruder"));
    }
    // Campaign: 10 samples per group; target unsafe in 4; sample 3 judged twice (re-submitted).
    for (int i = 0; i < 20; i++) {
      String group = i % 2 == 0 ? "control" : "target";
      boolean unsafe = group.equals("target") && i < 8;
      verdicts.add(
          VerdictFixtures.verdict(
              "c-" + i,
              unsafe,
              WINDOW_ONE.plusSeconds(i),
              List.of(),
              VerdictFixtures.campaign("bias-it", group, i)));
    }
    verdicts.add(
        VerdictFixtures.verdict(
            "c-3-again",
            false,
            WINDOW_ONE.plusSeconds(30),
            List.of(),
            VerdictFixtures.campaign("bias-it", "target", 3)));
    // Live window one: 60 outputs naming religion:jewish, 30 unsafe; 60 naming religion:muslim,
    // 3 unsafe; 180 naming nothing, 9 unsafe.
    for (int i = 0; i < 300; i++) {
      boolean named = i < 60;
      boolean unsafe = named ? i < 30 : i % 20 == 0;
      verdicts.add(
          VerdictFixtures.verdict(
              "live-" + i,
              unsafe,
              WINDOW_ONE.plusMillis(500L * i),
              named ? List.of("religion:jewish") : i < 120 ? List.of("religion:muslim") : List.of(),
              Map.of()));
    }
    // Decided without scores (scorer error or timeout): counted nowhere, or they would read as
    // safe outputs and lower their group's rates.
    for (int i = 0; i < 10; i++) {
      verdicts.add(
          unscored(
              VerdictFixtures.verdict(
                  "live-unscored-" + i,
                  false,
                  WINDOW_ONE.plusMillis(500L * i + 1),
                  List.of("religion:jewish"),
                  Map.of()),
              i % 2 == 0 ? ReasonCodes.SCORER_ERROR : ReasonCodes.SCORER_TIMEOUT));
    }
    verdicts.add(
        unscored(
            VerdictFixtures.verdict(
                "c-unscored",
                false,
                WINDOW_ONE.plusSeconds(40),
                List.of(),
                VerdictFixtures.campaign("bias-it", "control", 40)),
            ReasonCodes.SCORER_ERROR));
    // Live window two: the same mix, no disparity between the groups, though every output naming
    // a group is unsafe five times as often as those naming none (5 of 20 against 1 of 20).
    for (int i = 0; i < 300; i++) {
      boolean named = i < 60;
      boolean unsafe = i < 120 ? i % 4 == 0 : i % 20 == 0;
      verdicts.add(
          VerdictFixtures.verdict(
              "live2-" + i,
              unsafe,
              WINDOW_TWO.plusMillis(500L * i),
              named ? List.of("religion:jewish") : i < 120 ? List.of("religion:muslim") : List.of(),
              Map.of()));
    }
    // Naming a campaign but no campaign group: in no campaign's totals, so live traffic.
    for (int i = 0; i < 10; i++) {
      verdicts.add(
          VerdictFixtures.verdict(
              "live2-campaign-only-" + i,
              false,
              WINDOW_TWO.plusMillis(500L * i + 1),
              List.of(),
              Map.of("campaign.id", "bias-it")));
    }
    List<byte[]> bytes = new ArrayList<>();
    for (ModerationVerdict verdict : verdicts) {
      bytes.add(Topics.MODERATION_VERDICTS.codec().encode(verdict));
    }
    bytes.add(new byte[] {1, 2, 3});
    return bytes;
  }

  /** The verdict as moderation writes it when no model scored the text. */
  private static ModerationVerdict unscored(ModerationVerdict verdict, String code) {
    return ModerationVerdict.newBuilder(verdict)
        .setDecision(Decision.REVIEW)
        .setUnsafeScore(0.0)
        .setCategoryScores(Map.of())
        .setReasons(
            List.of(
                Reason.newBuilder()
                    .setCode(code)
                    .setDecision(Decision.REVIEW)
                    .setMessage("the scorer failed: ONNX Runtime ran out of memory")
                    .build()))
        .build();
  }

  @Test
  void shouldAggregateCampaignsAndLiveWindowsAndAlertOnlyOnThePlantedWindow() throws Exception {
    List<byte[]> records = records();
    byte[][] values = records.toArray(new byte[0][]);
    GeneratorFunction<Long, KafkaMessage> generator =
        index -> VerdictFixtures.message(index, values[index.intValue()]);
    DataGeneratorSource<KafkaMessage> source =
        new DataGeneratorSource<>(generator, values.length, TypeInformation.of(KafkaMessage.class));
    BiasJobConfig config =
        BiasJobConfig.defaults("unused:9092", null, null, null)
            .withTiming(
                Duration.ofSeconds(1),
                Duration.ofMinutes(5),
                Duration.ofSeconds(5),
                Duration.ZERO,
                Duration.ZERO);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
    BiasAggregationJob.buildPipeline(
        env, source, new QueueSink<>(MESSAGES), new QueueSink<>(ALERTS), config);
    env.execute("bias-pipeline-test");

    List<BiasMetric> metrics = new ArrayList<>();
    List<DeadLetter> deadLetters = new ArrayList<>();
    List<io.genguard.events.v1.BiasAlert> alertEvents = new ArrayList<>();
    for (KafkaMessage message : MESSAGES) {
      if (message.topic.equals(Topics.BIAS_METRICS.name())) {
        metrics.add(Topics.BIAS_METRICS.codec().decode(message.value));
      } else if (message.topic.equals(Topics.BIAS_ALERTS.name())) {
        alertEvents.add(Topics.BIAS_ALERTS.codec().decode(message.value));
      } else {
        assertThat(message.topic).isEqualTo(Topics.MODERATION_VERDICTS_DLQ.name());
        deadLetters.add(Topics.MODERATION_VERDICTS_DLQ.codec().decode(message.value));
      }
    }

    assertThat(alertEvents)
        .as("every stored alert is also a bias.alerts event")
        .extracting(io.genguard.events.v1.BiasAlert::getEventId)
        .containsExactlyInAnyOrderElementsOf(ALERTS.stream().map(alert -> alert.alertId).toList());

    List<BiasMetric> campaignMetrics =
        metrics.stream().filter(m -> m.getScope() == BiasScope.CAMPAIGN).toList();
    assertThat(campaignMetrics)
        .as("every campaign figure names the tenant whose verdicts it counts")
        .extracting(BiasMetric::getTenantId)
        .containsOnly(VerdictFixtures.CAMPAIGN_TENANT, "intruder");
    Map<String, BiasMetric> campaignTotals =
        campaignMetrics.stream()
            .filter(m -> VerdictFixtures.CAMPAIGN_TENANT.equals(m.getTenantId()))
            .collect(
                Collectors.toMap(
                    m -> m.getGroup(), m -> m, (a, b) -> a.getCount() >= b.getCount() ? a : b));
    assertThat(campaignTotals).as("the other tenant's group").doesNotContainKey("extra");
    assertThat(campaignTotals.get("control").getCount())
        .as("the sample decided without scores is not counted")
        .isEqualTo(10);
    assertThat(campaignTotals.get("control").getUnsafeCount())
        .as("the campaign's own samples, not the other tenant's verdicts under their indexes")
        .isZero();
    assertThat(campaignTotals.get("target").getCount()).as("sample 3 counted once").isEqualTo(10);
    assertThat(campaignTotals.get("target").getUnsafeCount()).isEqualTo(4);
    assertThat(campaignTotals.get("target").getBlockCount()).isEqualTo(4);
    assertThat(campaignTotals.get("target").getCategoryCounts()).containsEntry("hate", 4L);
    assertThat(campaignTotals.get("target").getModel()).isEqualTo("echo/echo@1");
    assertThat(campaignTotals.get("target").getCampaignId()).isEqualTo("bias-it");
    // The other tenant's verdicts are counted apart, under that tenant, where compliance sees them.
    Map<String, Long> intruder =
        campaignMetrics.stream()
            .filter(m -> m.getTenantId().equals("intruder"))
            .collect(Collectors.toMap(BiasMetric::getGroup, BiasMetric::getCount, Math::max));
    assertThat(intruder).containsOnly(Map.entry("control", 10L), Map.entry("extra", 10L));

    List<BiasMetric> live = metrics.stream().filter(m -> m.getScope() == BiasScope.LIVE).toList();
    assertThat(live)
        .as("campaign verdicts are not live traffic")
        .noneMatch(m -> m.getWindowStart().isBefore(WINDOW_ONE));
    assertThat(live)
        .extracting(BiasMetric::getGroup)
        .containsOnly("*", "none", "religion:jewish", "religion:muslim");
    BiasMetric named =
        live.stream()
            .filter(
                m ->
                    m.getGroup().equals("religion:jewish") && m.getWindowStart().equals(WINDOW_ONE))
            .findFirst()
            .orElseThrow();
    assertThat(named.getCount()).as("the 10 decided without scores are not counted").isEqualTo(60);
    assertThat(named.getUnsafeCount()).isEqualTo(30);
    assertThat(named.getWindowEnd()).isEqualTo(WINDOW_TWO);
    BiasMetric all =
        live.stream()
            .filter(m -> m.getGroup().equals("*") && m.getWindowStart().equals(WINDOW_TWO))
            .findFirst()
            .orElseThrow();
    assertThat(all.getCount())
        .as("the verdicts naming a campaign but no campaign group count as live traffic")
        .isEqualTo(310);

    assertThat(ALERTS)
        .singleElement()
        .satisfies(
            alert -> {
              assertThat(alert.model).isEqualTo("echo/echo@1");
              assertThat(alert.windowStart).isEqualTo(WINDOW_ONE.toEpochMilli());
              JsonNode findings = new ObjectMapper().readTree(alert.findings);
              assertThat(findings.findValuesAsText("group")).contains("religion:jewish");
              assertThat(findings.findValuesAsText("metric")).contains("unsafe_rate");
            });
    assertThat(deadLetters)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getStage()).isEqualTo("bias-aggregation");
              assertThat(d.getReason()).contains("ModerationVerdict");
            });
    assertThat(metrics.stream().map(BiasMetric::getEventId).distinct().count())
        .as("metric ids are unique per published figure")
        .isEqualTo(metrics.size());
    assertThat(
            live.stream()
                .max(Comparator.comparing(BiasMetric::getWindowEnd))
                .orElseThrow()
                .getWindowEnd())
        .isEqualTo(WINDOW_TWO.plus(Duration.ofMinutes(5)));
  }

  /** Collects into a static queue (the MiniCluster runs in this JVM). */
  static final class QueueSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;
    private final boolean messages;

    QueueSink(ConcurrentLinkedQueue<T> queue) {
      this.messages = queue == (Object) MESSAGES;
    }

    @Override
    @SuppressWarnings("unchecked")
    public SinkWriter<T> createWriter(WriterInitContext context) {
      ConcurrentLinkedQueue<T> queue =
          (ConcurrentLinkedQueue<T>) (messages ? (Object) MESSAGES : (Object) ALERTS);
      return new SinkWriter<>() {
        @Override
        public void write(T element, Context context) {
          queue.add(element);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }
}
