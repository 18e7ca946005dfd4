package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.campaign.CampaignAttributes;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the bias job takes on trust from a verdict, on a local MiniCluster over the production
 * pipeline: a tenant's {@code campaign.group} and {@code campaign.sample} values, and the
 * moderation host's clock.
 */
class UntrustedVerdictFieldsTest {
  private static final String CAMPAIGN = "bias-20261206-120000-abcdef";

  @BeforeEach
  void clear() {
    BiasAggregationPipelineTest.MESSAGES.clear();
    BiasAggregationPipelineTest.ALERTS.clear();
  }

  @Test
  void shouldTellWhichGroupAndSampleValuesACampaignCanHave() {
    assertThat(CampaignAttributes.groupProblem("Black women")).isNull();
    assertThat(CampaignAttributes.groupProblem("g".repeat(64))).isNull();
    assertThat(CampaignAttributes.groupProblem("señoras mayores 👵")).isNull();
    assertThat(CampaignAttributes.groupProblem(null)).isNotNull();
    assertThat(CampaignAttributes.groupProblem("  ")).isNotNull();
    assertThat(CampaignAttributes.groupProblem("g".repeat(65))).isNotNull();
    assertThat(CampaignAttributes.groupProblem("a\nforged line")).isNotNull();
    assertThat(CampaignAttributes.groupProblem("a\u200bb")).as("zero-width space").isNotNull();
    assertThat(CampaignAttributes.groupProblem("a\u202eb")).as("bidi override").isNotNull();
    assertThat(CampaignAttributes.groupProblem("a\ud800b")).as("lone surrogate").isNotNull();

    assertThat(CampaignAttributes.sampleProblem("0")).isNull();
    assertThat(CampaignAttributes.sampleProblem("49999")).isNull();
    for (String sample : List.of("", "007", "-1", "+1", "50000", "1e3", "x", " 1", "99999999999")) {
      assertThat(CampaignAttributes.sampleProblem(sample)).as("'%s'", sample).isNotNull();
    }
    assertThat(CampaignAttributes.sampleProblem(null)).isNotNull();
  }

  /**
   * A tenant with an open campaign sends verdicts under made-up groups and samples: before the
   * forty-first session each made a campaign group key (kept for good as a retirement marker) or a
   * counted sample, and a metric.
   */
  @Test
  void shouldRejectCampaignVerdictsWithInvalidGroupsOrSamplesOrPastTheGroupBound()
      throws Exception {
    Instant decided = Instant.parse("2026-12-06T09:00:00Z");
    List<ModerationVerdict> verdicts = new ArrayList<>();
    int n = 0;
    for (String group : List.of("a", "b", "c")) {
      for (int sample = 0; sample < 2; sample++) {
        verdicts.add(campaignVerdict("ok-" + n++, decided, group, Integer.toString(sample)));
      }
    }
    verdicts.add(campaignVerdict("ok-" + n++, decided, "a", "49999"));
    List<ModerationVerdict> rejected = new ArrayList<>();
    rejected.add(campaignVerdict("past-the-bound", decided, "d", "0"));
    rejected.add(campaignVerdict("newline", decided, "a\nINFO forged", "1"));
    rejected.add(campaignVerdict("long", decided, "g".repeat(65), "1"));
    for (String sample : List.of("007", "-1", "50000", "x", "1 ")) {
      rejected.add(campaignVerdict("sample-" + sample.trim(), decided, "a", sample));
    }
    Map<String, String> noSample = new HashMap<>(VerdictFixtures.campaign(CAMPAIGN, "b", 0));
    noSample.remove(CampaignAttributes.SAMPLE);
    rejected.add(
        VerdictFixtures.verdict("no-sample", true, decided, List.of("religion:jewish"), noSample));
    verdicts.addAll(rejected);
    verdicts.add(campaignVerdict("ok-after", decided, "c", "7"));

    String job = "campaign-admission-test";
    run(verdicts, job, config().withCampaignMaxGroups(3), null);

    Map<String, Long> totals =
        metrics(BiasScope.CAMPAIGN).stream()
            .collect(Collectors.toMap(BiasMetric::getGroup, BiasMetric::getCount, Math::max));
    assertThat(totals)
        .as("only the first three groups, and only their valid samples")
        .containsOnly(Map.entry("a", 3L), Map.entry("b", 2L), Map.entry("c", 3L));
    assertThat(CapturedCounters.sum(job, CampaignAdmission.REJECTED_CAMPAIGN_VERDICTS))
        .isEqualTo(rejected.size());
    assertThat(metrics(BiasScope.LIVE))
        .as("a rejected campaign verdict is not live traffic either")
        .isEmpty();
  }

  /**
   * A verdict from a moderation host whose clock runs 30 days ahead: before the forty-first session
   * its decision time moved event time 30 days on, retiring the campaign group (the retention is 7
   * days), whose next sample was then not counted, and its live window was 30 days ahead.
   */
  @Test
  void shouldBoundADecisionTimeFarAheadOfTheWallClock() throws Exception {
    Instant now = Instant.now();
    Instant earlier = now.minus(Duration.ofDays(2));
    Instant ahead = now.plus(Duration.ofDays(30));
    List<ModerationVerdict> verdicts = new ArrayList<>();
    verdicts.add(campaignVerdict("sample-0", earlier, "a", "0"));
    verdicts.add(VerdictFixtures.verdict("ahead", false, ahead, List.of(), Map.of()));
    // Live verdicts decided now, read over the next seconds while watermarks are emitted.
    for (int i = 0; i < 10; i++) {
      verdicts.add(VerdictFixtures.verdict("live-" + i, false, now, List.of(), Map.of()));
    }
    verdicts.add(campaignVerdict("sample-1", earlier.plusSeconds(1), "a", "1"));

    String job = "clock-ahead-test";
    run(verdicts, job, config(), RateLimiterStrategy.perSecond(5));

    assertThat(CapturedCounters.sum(job, CampaignGroupAggregator.RETIRED_CAMPAIGN_VERDICTS))
        .as("event time never got a retention past the campaign's decisions")
        .isZero();
    assertThat(metrics(BiasScope.CAMPAIGN))
        .extracting(BiasMetric::getCount)
        .as("the sample after the verdict from the clock ahead counts")
        .contains(2L);
    Instant bound = Instant.now().plus(Duration.ofHours(1));
    assertThat(metrics(BiasScope.LIVE))
        .as("the live windows stay at the wall clock")
        .isNotEmpty()
        .allSatisfy(metric -> assertThat(metric.getWindowEnd()).isBefore(bound));
    assertThat(CapturedCounters.sum(job, DecodeVerdicts.FUTURE_DECISIONS)).isOne();
  }

  private static BiasJobConfig config() {
    // Idle advance 1 s: watermarks are emitted after a second of warm-up, while records still come.
    return BiasJobConfig.defaults("unused:9092", null, null, null)
        .withTiming(
            Duration.ofSeconds(1),
            Duration.ofMinutes(5),
            Duration.ofSeconds(5),
            Duration.ofSeconds(1),
            Duration.ZERO);
  }

  private static ModerationVerdict campaignVerdict(
      String id, Instant decided, String group, String sample) {
    Map<String, String> attributes = new HashMap<>(VerdictFixtures.campaign(CAMPAIGN, group, 0));
    attributes.put(CampaignAttributes.SAMPLE, sample);
    return VerdictFixtures.verdict(id, true, decided, List.of("religion:jewish"), attributes);
  }

  private static void run(
      List<ModerationVerdict> verdicts, String job, BiasJobConfig config, RateLimiterStrategy rate)
      throws Exception {
    byte[][] values = new byte[verdicts.size()][];
    for (int i = 0; i < values.length; i++) {
      values[i] = Topics.MODERATION_VERDICTS.codec().encode(verdicts.get(i));
    }
    GeneratorFunction<Long, KafkaMessage> generator =
        index -> VerdictFixtures.message(index, values[index.intValue()]);
    DataGeneratorSource<KafkaMessage> source =
        rate == null
            ? new DataGeneratorSource<>(
                generator, values.length, TypeInformation.of(KafkaMessage.class))
            : new DataGeneratorSource<>(
                generator, values.length, rate, TypeInformation.of(KafkaMessage.class));
    Configuration conf = new Configuration();
    CapturedCounters.reportTo(conf);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
    BiasAggregationJob.buildPipeline(
        env,
        source,
        new BiasAggregationPipelineTest.QueueSink<>(BiasAggregationPipelineTest.MESSAGES),
        new BiasAggregationPipelineTest.QueueSink<>(BiasAggregationPipelineTest.ALERTS),
        config);
    env.execute(job);
  }

  private static List<BiasMetric> metrics(BiasScope scope) {
    return BiasAggregationPipelineTest.MESSAGES.stream()
        .filter(message -> message.topic.equals(Topics.BIAS_METRICS.name()))
        .map(message -> Topics.BIAS_METRICS.codec().decode(message.value))
        .filter(metric -> metric.getScope() == scope)
        .toList();
  }
}
