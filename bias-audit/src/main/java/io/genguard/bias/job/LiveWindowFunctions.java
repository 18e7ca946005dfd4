package io.genguard.bias.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.bias.analysis.LiveDisparity;
import io.genguard.bias.analysis.LiveDisparity.WindowCounts;
import io.genguard.events.v1.BiasMetric;
import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operators of the live branch: window counts per model and group, alerts. */
final class LiveWindowFunctions {
  private LiveWindowFunctions() {}

  /**
   * Whether a verdict is live traffic. Campaign verdicts are left out: their counterfactual prompts
   * are not live traffic. A verdict naming a campaign but no campaign group is in no campaign's
   * totals either (they count campaign verdicts with both), so it is live traffic: a submitter
   * cannot take its outputs out of live monitoring by naming a campaign alone.
   */
  static boolean isLive(VerdictFacts verdict) {
    return verdict.campaignId == null || verdict.campaignGroup == null;
  }

  /**
   * Key of the live windows: the model alone. Every group of a model's window is counted in one
   * aggregate ({@link CountGroups}), so the window subtask that holds the model decides once, on
   * its own watermark, whether a verdict is late: it counts the verdict under "*" and each of its
   * groups or drops it whole to {@link LateLiveVerdicts#LATE}. Until the forty-fourth session the
   * windows were keyed by model and group, each verdict copied per group to window subtasks whose
   * watermarks differ, and after an idle source partition resumed one copy could be counted while
   * another was dropped as late.
   */
  static String model(VerdictFacts verdict) {
    return verdict.model;
  }

  /**
   * The groups a live verdict is counted under: "*" (the whole window, each verdict once), and each
   * detected group that is one of {@code knownGroups}, or "none" when it names no group. A detected
   * group that is not known (an invented, overlong or control-character string, or "*" or "none"
   * themselves) counts under {@value LiveGroupWindow#UNKNOWN_GROUP}, once per verdict.
   */
  static SortedSet<String> liveGroups(VerdictFacts verdict, Set<String> knownGroups) {
    SortedSet<String> groups = new TreeSet<>();
    groups.add(LiveGroupWindow.ALL);
    if (verdict.detectedGroups == null || verdict.detectedGroups.length == 0) {
      groups.add(LiveGroupWindow.NONE);
    } else {
      for (String group : verdict.detectedGroups) {
        groups.add(knownGroups.contains(group) ? group : LiveGroupWindow.UNKNOWN_GROUP);
      }
    }
    return groups;
  }

  /**
   * The group ids moderation can detect: those of the identity lexicon in this build ({@code
   * axis:group}), the same lexicon the moderation job of the same build detects groups with.
   */
  static Set<String> lexiconGroups() {
    Set<String> groups = new TreeSet<>();
    for (IdentityLexicon.Entry entry : IdentityLexicon.loadDefault().entries()) {
      groups.add(entry.groupId());
    }
    return groups;
  }

  /** The accumulator of {@link CountGroups} as the window state holds it. */
  static TypeInformation<Map<String, GroupCounts>> groupCountsType() {
    return Types.MAP(Types.STRING, TypeInformation.of(GroupCounts.class));
  }

  /**
   * Counts one model's verdicts in a window under each of their groups ({@link #liveGroups}): one
   * entry per group the window has seen, at most the identity lexicon's groups plus "none", "*" and
   * {@value LiveGroupWindow#UNKNOWN_GROUP}, whatever groups a writer of moderation.verdicts puts in
   * its verdicts (until the forty-fifth session each string had its own entry, without a bound).
   * Counts restored with another number of categories are fitted to this build's list before they
   * count.
   */
  static final class CountGroups
      implements AggregateFunction<
          VerdictFacts, Map<String, GroupCounts>, Map<String, GroupCounts>> {
    private static final long serialVersionUID = 1L;
    private final RestoredCategories restored;
    private final int categories;
    private final TreeSet<String> knownGroups;

    /** Counting the identity lexicon's groups ({@link #lexiconGroups}), as the job does. */
    CountGroups(List<String> categories) {
      this(categories, lexiconGroups());
    }

    CountGroups(List<String> categories, Set<String> knownGroups) {
      this.restored = new RestoredCategories(categories, "live windows");
      this.categories = categories.size();
      this.knownGroups = new TreeSet<>(knownGroups);
    }

    @Override
    public Map<String, GroupCounts> createAccumulator() {
      return new HashMap<>();
    }

    @Override
    public Map<String, GroupCounts> add(VerdictFacts verdict, Map<String, GroupCounts> groups) {
      for (String group : liveGroups(verdict, knownGroups)) {
        restored
            .fit(groups.computeIfAbsent(group, g -> GroupCounts.empty(categories)))
            .add(verdict);
      }
      return groups;
    }

    @Override
    public Map<String, GroupCounts> getResult(Map<String, GroupCounts> groups) {
      groups.values().forEach(restored::fit);
      return groups;
    }

    @Override
    public Map<String, GroupCounts> merge(Map<String, GroupCounts> a, Map<String, GroupCounts> b) {
      Map<String, GroupCounts> merged = new HashMap<>();
      a.forEach((group, counts) -> merged.put(group, restored.fit(counts)));
      b.forEach(
          (group, counts) ->
              merged.merge(group, restored.fit(counts), (x, y) -> restored.fit(x).merge(y)));
      return merged;
    }
  }

  /**
   * Emits one model's window as one {@link LiveGroupWindow} per group, labelled with the model and
   * the window bounds.
   */
  static final class LabelGroups
      extends ProcessWindowFunction<Map<String, GroupCounts>, LiveGroupWindow, String, TimeWindow> {
    private static final long serialVersionUID = 1L;

    @Override
    public void process(
        String model,
        Context context,
        Iterable<Map<String, GroupCounts>> results,
        Collector<LiveGroupWindow> out) {
      for (Map<String, GroupCounts> groups : results) {
        for (Map.Entry<String, GroupCounts> group : new TreeMap<>(groups).entrySet()) {
          LiveGroupWindow window = new LiveGroupWindow();
          window.model = model;
          window.group = group.getKey();
          window.windowStart = context.window().getStart();
          window.windowEnd = context.window().getEnd();
          window.counts = group.getValue();
          out.collect(window);
        }
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
   * Gathers every group of one model's window and runs {@link LiveDisparity} (each detected group
   * against the other detected groups; {@value LiveGroupWindow#UNKNOWN_GROUP} is not tested, nor
   * the pooled {@value LiveGroupWindow#UNKNOWN_MODEL}); emits an alert when some comparison is
   * significant after correction and large enough. A window whose counts do not add up (two results
   * for the whole window, as after a change of the window length across a restore, or a group
   * counting more than the whole window) is not tested: counted in {@value
   * #INCONSISTENT_LIVE_WINDOWS} (group {@code genguard}) and logged, where throwing would fail the
   * job on every replay of the window. Since the forty-fourth session one aggregate counts every
   * group of a model's window ({@link CountGroups}), so its results always add up; a group counting
   * more than "*" is left only for results that meet here from different counts: after a restore
   * from a savepoint of the windows keyed by model and group (results of the old operator held in
   * this window's state) or after a change of the window length.
   */
  static final class DetectDisparity
      extends ProcessWindowFunction<LiveGroupWindow, BiasAlert, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(DetectDisparity.class);

    /** Live windows left untested because their counts did not add up. */
    static final String INCONSISTENT_LIVE_WINDOWS = "inconsistent_live_windows";

    private final LiveDisparity.Settings settings;
    private final RestoredCategories restored;
    transient Counter inconsistent; // package-private: read by tests

    DetectDisparity(LiveDisparity.Settings settings) {
      this.settings = settings;
      this.restored = new RestoredCategories(settings.categories(), "live window results");
    }

    @Override
    public void open(OpenContext openContext) {
      inconsistent =
          getRuntimeContext()
              .getMetricGroup()
              .addGroup("genguard")
              .counter(INCONSISTENT_LIVE_WINDOWS);
    }

    @Override
    public void process(
        String model, Context context, Iterable<LiveGroupWindow> windows, Collector<BiasAlert> out)
        throws Exception {
      WindowCounts all = null;
      WindowCounts none = null;
      int wholeWindowResults = 0;
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
          wholeWindowResults++;
          start = window.windowStart;
          end = window.windowEnd;
        } else if (LiveGroupWindow.NONE.equals(window.group)) {
          none = counts;
        } else if (LiveGroupWindow.UNKNOWN_GROUP.equals(window.group)) {
          // Not a demographic group: strings no lexicon knows, pooled. Not tested, its verdicts
          // stay in the whole window (and in the rest of each group they name with it).
          continue;
        } else {
          groups.add(counts);
        }
      }
      if (all == null || LiveGroupWindow.UNKNOWN_MODEL.equals(model)) {
        // Verdicts of models past the window's bound, pooled: a difference among them says
        // nothing about any one model.
        return;
      }
      LiveDisparity.Result result =
          wholeWindowResults > 1
              ? new LiveDisparity.Result(
                  0,
                  0,
                  List.of(),
                  wholeWindowResults + " results for the whole window (windows of other lengths)")
              : LiveDisparity.evaluate(groups, all, none, settings);
      if (result.inconsistency() != null) {
        inconsistent.inc();
        LOG.warn(
            "Live window of model {} from {} to {} not tested for disparities, its counts do not"
                + " add up ({} {} so far): {}",
            model,
            Instant.ofEpochMilli(start),
            Instant.ofEpochMilli(end),
            INCONSISTENT_LIVE_WINDOWS,
            inconsistent.getCount(),
            result.inconsistency());
        return;
      }
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
