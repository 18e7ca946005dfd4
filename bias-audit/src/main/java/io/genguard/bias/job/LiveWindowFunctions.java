package io.genguard.bias.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.bias.analysis.LiveDisparity;
import io.genguard.bias.analysis.LiveDisparity.WindowCounts;
import io.genguard.events.v1.BiasMetric;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** The operators of the live branch: fan-out per detected group, window counts, alerts. */
final class LiveWindowFunctions {
  private LiveWindowFunctions() {}

  /**
   * Emits one copy of a live verdict per detected group ("none" when it names no group) plus one
   * under "*" (the whole window, each verdict once). Campaign verdicts are left out: their
   * counterfactual prompts are not live traffic.
   */
  static final class FanOutByGroup implements FlatMapFunction<VerdictFacts, VerdictFacts> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(VerdictFacts verdict, Collector<VerdictFacts> out) {
      if (verdict.campaignId != null) {
        return;
      }
      out.collect(verdict.copyFor(LiveGroupWindow.ALL));
      if (verdict.detectedGroups == null || verdict.detectedGroups.length == 0) {
        out.collect(verdict.copyFor(LiveGroupWindow.NONE));
        return;
      }
      for (String group : new java.util.TreeSet<>(List.of(verdict.detectedGroups))) {
        out.collect(verdict.copyFor(group));
      }
    }
  }

  /** Key of the live windows: model and group. */
  static String modelAndGroup(VerdictFacts verdict) {
    return verdict.model + "\u0000" + verdict.liveGroup;
  }

  /**
   * Counts one group's verdicts in a window; an accumulator restored with another number of
   * categories is fitted to this build's list before it counts.
   */
  static final class CountGroup
      implements AggregateFunction<VerdictFacts, GroupCounts, GroupCounts> {
    private static final long serialVersionUID = 1L;
    private final RestoredCategories restored;
    private final int categories;

    CountGroup(List<String> categories) {
      this.restored = new RestoredCategories(categories, "live windows");
      this.categories = categories.size();
    }

    @Override
    public GroupCounts createAccumulator() {
      return GroupCounts.empty(categories);
    }

    @Override
    public GroupCounts add(VerdictFacts verdict, GroupCounts counts) {
      restored.fit(counts).add(verdict);
      return counts;
    }

    @Override
    public GroupCounts getResult(GroupCounts counts) {
      return restored.fit(counts);
    }

    @Override
    public GroupCounts merge(GroupCounts a, GroupCounts b) {
      return restored.fit(a).merge(restored.fit(b));
    }
  }

  /** Labels a window's counts with model, group and window bounds. */
  static final class LabelWindow
      extends ProcessWindowFunction<GroupCounts, LiveGroupWindow, String, TimeWindow> {
    private static final long serialVersionUID = 1L;

    @Override
    public void process(
        String key, Context context, Iterable<GroupCounts> counts, Collector<LiveGroupWindow> out) {
      int separator = key.indexOf('\u0000');
      for (GroupCounts c : counts) {
        LiveGroupWindow window = new LiveGroupWindow();
        window.model = key.substring(0, separator);
        window.group = key.substring(separator + 1);
        window.windowStart = context.window().getStart();
        window.windowEnd = context.window().getEnd();
        window.counts = c;
        out.collect(window);
      }
    }
  }

  /** A window's group counts as a LIVE bias.metrics event. */
  static final class EncodeLiveMetric extends RichMapFunction<LiveGroupWindow, KafkaMessage> {
    private static final long serialVersionUID = 1L;
    private final List<String> categories;
    private final RestoredCategories restored;
    private transient EventCodec<BiasMetric> codec;

    EncodeLiveMetric(List<String> categories) {
      this.categories = List.copyOf(categories);
      this.restored = new RestoredCategories(categories, "live windows");
    }

    @Override
    public void open(OpenContext openContext) {
      codec = Topics.BIAS_METRICS.codec();
    }

    @Override
    public KafkaMessage map(LiveGroupWindow window) {
      restored.fit(window.counts);
      return BiasMetrics.live(codec, window, categories, window.windowEnd);
    }
  }

  /**
   * An alert as a bias.alerts event (keyed by model), so that it is on Kafka and in the audit log.
   */
  static final class EncodeAlert extends RichMapFunction<BiasAlert, KafkaMessage> {
    private static final long serialVersionUID = 1L;
    private transient EventCodec<io.genguard.events.v1.BiasAlert> codec;

    @Override
    public void open(OpenContext openContext) {
      codec = Topics.BIAS_ALERTS.codec();
    }

    @Override
    public KafkaMessage map(BiasAlert alert) {
      io.genguard.events.v1.BiasAlert event =
          io.genguard.events.v1.BiasAlert.newBuilder()
              .setEventId(alert.alertId)
              .setModel(alert.model)
              .setWindowStart(Instant.ofEpochMilli(alert.windowStart))
              .setWindowEnd(Instant.ofEpochMilli(alert.windowEnd))
              .setGroupsCompared(alert.groupsCompared)
              .setTests(alert.tests)
              .setCorrection(alert.correction)
              .setAlpha(alert.alpha)
              .setFindingsJson(alert.findings)
              .setDetectedAt(Instant.ofEpochMilli(alert.detectedAt))
              .build();
      return KafkaMessage.outgoing(
          Topics.BIAS_ALERTS.name(),
          alert.model.getBytes(StandardCharsets.UTF_8),
          codec.encode(event));
    }
  }

  /**
   * Gathers every group of one model's window and runs {@link LiveDisparity}; emits an alert when
   * some comparison is significant after correction.
   */
  static final class DetectDisparity
      extends ProcessWindowFunction<LiveGroupWindow, BiasAlert, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final LiveDisparity.Settings settings;
    private final RestoredCategories restored;

    DetectDisparity(LiveDisparity.Settings settings) {
      this.settings = settings;
      this.restored = new RestoredCategories(settings.categories(), "live window results");
    }

    @Override
    public void process(
        String model, Context context, Iterable<LiveGroupWindow> windows, Collector<BiasAlert> out)
        throws Exception {
      WindowCounts all = null;
      List<WindowCounts> groups = new ArrayList<>();
      long start = context.window().getStart();
      long end = context.window().getEnd();
      for (LiveGroupWindow window : windows) {
        // Window results held in this window's state since before a restart may count another
        // list of categories.
        GroupCounts c = restored.fit(window.counts);
        WindowCounts counts =
            new WindowCounts(window.group, c.count, c.unsafeCount, c.blockCount, c.categoryCounts);
        if (LiveGroupWindow.ALL.equals(window.group)) {
          all = counts;
          start = window.windowStart;
          end = window.windowEnd;
        } else {
          groups.add(counts);
        }
      }
      if (all == null) {
        return;
      }
      LiveDisparity.Result result = LiveDisparity.evaluate(groups, all, settings);
      if (!result.alert()) {
        return;
      }
      BiasAlert alert = new BiasAlert();
      alert.alertId =
          EventIds.nameBased("bias-alert", model, Long.toString(start), Long.toString(end));
      alert.model = model;
      alert.windowStart = start;
      alert.windowEnd = end;
      alert.groupsCompared = result.groupsCompared();
      alert.tests = result.tests();
      alert.correction = settings.correction().name();
      alert.alpha = settings.alpha();
      alert.findings = JSON.writeValueAsString(result.significant());
      alert.detectedAt = end;
      out.collect(alert);
    }
  }
}
