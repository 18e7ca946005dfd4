package io.genguard.bias.job;

import io.genguard.bias.campaign.CampaignAttributes;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.LogText;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes verdicts into {@link VerdictFacts}, applying the unsafe and category thresholds. A
 * verdict decided without scores (scorer error or timeout) counts in no figure (counter {@value
 * #UNSCORED_VERDICTS}): its zero scores would read as a safe output and lower its group's rates.
 * Bytes that are not a verdict, and verdicts with a field the job keys or copies longer than {@link
 * #MAX_FIELD_BYTES}, become dead letters for moderation.verdicts.dlq (stage "bias-aggregation",
 * counted as {@value #DEAD_LETTER_COUNT}); their id depends only on the source position, so if the
 * release gate dead-letters the same record the audit store keeps one.
 *
 * <p>A verdict whose record time (its event time, {@link DecisionTimeWatermarks}) is earlier than
 * its decision time was decided too far ahead of the job's wall clock: its decision time is taken
 * as the record time, so that campaign totals and their retirement agree with the windows, and it
 * is counted in {@value #FUTURE_DECISIONS} and logged at most once a minute per subtask.
 */
public final class DecodeVerdicts extends ProcessFunction<KafkaMessage, VerdictFacts> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DecodeVerdicts.class);

  /** The stage this job's dead letters name. */
  public static final String STAGE = "bias-aggregation";

  /**
   * Most UTF-8 bytes of each verdict field the job keys its figures by or copies into its metrics:
   * the request, verdict and tenant ids, the campaign id, group and sample attributes, the model's
   * name, version and backend, and each detected group. The moderation job and the release gate
   * take no longer ids or model fields; a campaign id the audit API registers has at most 128
   * characters. A longer one (only a producer other than GenGuard's own writes one) could make a
   * campaign's bias metric larger than Kafka accepts, failing the job on every restart, so such a
   * verdict is dead-lettered and counts in no figure.
   */
  public static final int MAX_FIELD_BYTES = DeadLetters.MAX_KEY_BYTES;

  /** Dead letters this job wrote: undecodable records and verdicts with an oversized field. */
  static final String DEAD_LETTER_COUNT = "dead_letters";

  static final OutputTag<KafkaMessage> DEAD_LETTERS =
      new OutputTag<>("bias-dead-letters", TypeInformation.of(KafkaMessage.class));

  private final double unsafeThreshold;
  private final double categoryThreshold;
  private final List<String> categories;
  private transient EventCodec<ModerationVerdict> verdicts;
  private transient EventCodec<DeadLetter> deadLetters;
  private transient Counter unscoredVerdicts;
  private transient Counter deadLetterCount;

  /** Verdicts decided further ahead of the job's wall clock than it allows, counted as bounded. */
  static final String FUTURE_DECISIONS = "future_decisions";

  private static final long LOG_INTERVAL_MS = 60_000;

  /**
   * The backend whose model version is what the server reports ({@code OpenAiCompatibleBackend}).
   */
  static final String SERVER_REPORTED_VERSION = "openai";

  private transient Counter futureDecisions;
  private transient long loggedAt;
  private transient long unlogged;

  /** Verdicts left out of every figure because no model scored their text. */
  static final String UNSCORED_VERDICTS = "unscored_verdicts";

  DecodeVerdicts(double unsafeThreshold, double categoryThreshold, List<String> categories) {
    this.unsafeThreshold = unsafeThreshold;
    this.categoryThreshold = categoryThreshold;
    this.categories = List.copyOf(categories);
  }

  @Override
  public void open(OpenContext openContext) {
    verdicts = Topics.MODERATION_VERDICTS.codec();
    deadLetters = Topics.MODERATION_VERDICTS_DLQ.codec();
    unscoredVerdicts =
        getRuntimeContext().getMetricGroup().addGroup("genguard").counter(UNSCORED_VERDICTS);
    deadLetterCount =
        getRuntimeContext().getMetricGroup().addGroup("genguard").counter(DEAD_LETTER_COUNT);
    futureDecisions =
        getRuntimeContext().getMetricGroup().addGroup("genguard").counter(FUTURE_DECISIONS);
    loggedAt = Long.MIN_VALUE;
  }

  @Override
  public void processElement(KafkaMessage message, Context context, Collector<VerdictFacts> out) {
    ModerationVerdict verdict;
    try {
      verdict = verdicts.decode(message.value);
    } catch (EventDecodingException e) {
      deadLetter(message, context, e);
      return;
    }
    String oversized = oversizedField(verdict);
    if (oversized != null) {
      deadLetter(
          message,
          context,
          new EventDecodingException(
              "The verdict's "
                  + oversized
                  + " has "
                  + utf8Bytes(fields(verdict).get(oversized))
                  + " bytes (UTF-8); the bias-aggregation job accepts at most "
                  + MAX_FIELD_BYTES
                  + ", since its figures are keyed by it or copy it: counted in no bias figure"));
      return;
    }
    if (unscored(verdict)) {
      // No model scored the text: its scores are not the text's, so counting it would lower its
      // group's rates. The policy held it; the reports list it apart.
      unscoredVerdicts.inc();
      return;
    }
    VerdictFacts facts = facts(verdict);
    Long eventTime = context.timestamp();
    if (eventTime != null && eventTime != Long.MIN_VALUE && facts.decidedAt > eventTime) {
      aheadOfTheClock(facts, eventTime, context.timerService().currentProcessingTime());
      facts.decidedAt = eventTime;
    }
    out.collect(facts);
  }

  private void aheadOfTheClock(VerdictFacts facts, long eventTime, long now) {
    futureDecisions.inc();
    unlogged++;
    if (loggedAt != Long.MIN_VALUE && now - loggedAt < LOG_INTERVAL_MS) {
      return;
    }
    LOG.warn(
        "{} verdict(s) decided further ahead of this job's clock than"
            + " GENGUARD_BIAS_MAX_CLOCK_AHEAD_MS allows, counted as decided at the bound ({} {} so"
            + " far); the latest: request {}, decided at {}, counted at {}. Check the moderation"
            + " hosts' clocks (NTP)",
        unlogged,
        FUTURE_DECISIONS,
        futureDecisions.getCount(),
        LogText.quoted(facts.requestId),
        Instant.ofEpochMilli(facts.decidedAt),
        Instant.ofEpochMilli(eventTime));
    loggedAt = now;
    unlogged = 0;
  }

  private void deadLetter(KafkaMessage message, Context context, EventDecodingException e) {
    deadLetterCount.inc();
    context.output(
        DEAD_LETTERS,
        KafkaMessage.deadLetter(
            message, STAGE, e, Topics.MODERATION_VERDICTS_DLQ.name(), deadLetters));
  }

  /**
   * The first field of the verdict this job keys or copies with more than {@link #MAX_FIELD_BYTES}
   * UTF-8 bytes, by name ({@code campaign.id}, {@code model.name}, {@code groups[2]}, ...), or null
   * when none is: what this job dead-letters a verdict for. {@code dlq redrive} applies the same
   * check to this stage's dead letters, so that it does not send back a verdict refused again.
   */
  public static String oversizedField(ModerationVerdict verdict) {
    for (Map.Entry<String, String> field : fields(verdict).entrySet()) {
      if (utf8Bytes(field.getValue()) > MAX_FIELD_BYTES) {
        return field.getKey();
      }
    }
    return null;
  }

  /** The fields {@link #facts} takes, by name, in the order they are checked. */
  private static Map<String, String> fields(ModerationVerdict verdict) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("requestId", verdict.getRequestId());
    fields.put("verdictId", verdict.getVerdictId());
    fields.put("tenantId", verdict.getTenantId());
    Map<String, String> attributes = verdict.getAttributes();
    if (attributes != null) {
      for (String key :
          List.of(CampaignAttributes.ID, CampaignAttributes.GROUP, CampaignAttributes.SAMPLE)) {
        fields.put(key, attributes.get(key));
      }
    }
    ModelRef model = verdict.getModel();
    if (model != null) {
      fields.put("model.name", model.getName());
      fields.put("model.version", model.getVersion());
      fields.put("model.backend", model.getBackend());
    }
    List<String> groups = verdict.getGroups();
    for (int i = 0; groups != null && i < groups.size(); i++) {
      fields.put("groups[" + i + "]", groups.get(i));
    }
    return fields;
  }

  private static int utf8Bytes(String value) {
    return value == null ? 0 : value.getBytes(StandardCharsets.UTF_8).length;
  }

  /**
   * The decision time of the verdict in {@code value} (epoch milliseconds, the live windows' event
   * time), or {@link Long#MIN_VALUE} when the bytes are not a verdict.
   */
  static long decisionTime(byte[] value) {
    try {
      return Topics.MODERATION_VERDICTS.codec().decode(value).getDecidedAt().toEpochMilli();
    } catch (EventDecodingException e) {
      return Long.MIN_VALUE;
    }
  }

  /** Whether the verdict was decided without scores (a scorer error or timeout). */
  static boolean unscored(ModerationVerdict verdict) {
    for (Reason reason : verdict.getReasons()) {
      if (ReasonCodes.SCORER_FAILURES.contains(reason.getCode())) {
        return true;
      }
    }
    return false;
  }

  VerdictFacts facts(ModerationVerdict verdict) {
    VerdictFacts facts = new VerdictFacts();
    facts.requestId = verdict.getRequestId();
    facts.verdictId = verdict.getVerdictId();
    facts.tenantId = verdict.getTenantId();
    Map<String, String> attributes = verdict.getAttributes();
    facts.campaignId = attributes.get(CampaignAttributes.ID);
    facts.campaignGroup = attributes.get(CampaignAttributes.GROUP);
    facts.campaignSample = attributes.get(CampaignAttributes.SAMPLE);
    facts.model = modelKey(verdict.getModel());
    facts.detectedGroups = verdict.getGroups().toArray(new String[0]);
    facts.decidedAt = verdict.getDecidedAt().toEpochMilli();
    facts.unsafeScore = verdict.getUnsafeScore();
    facts.unsafe = verdict.getUnsafeScore() >= unsafeThreshold;
    facts.decision = verdict.getDecision().name();
    int flags = 0;
    for (int c = 0; c < categories.size(); c++) {
      Double score = verdict.getCategoryScores().get(categories.get(c));
      if (score != null && score >= categoryThreshold) {
        flags |= 1 << c;
      }
    }
    facts.categoryFlags = flags;
    return facts;
  }

  /**
   * The model a verdict is counted under: backend/name@version, or backend/name for the {@value
   * #SERVER_REPORTED_VERSION} backend; "unknown" without a model.
   *
   * <p>The {@value #SERVER_REPORTED_VERSION} backend's version is the {@code system_fingerprint}
   * the server reports with each answer, which changes with the server's deployment and, on some
   * servers, from one answer to the next. As part of the key it split one model's live windows into
   * windows per fingerprint, each below {@code GENGUARD_BIAS_ALERT_MIN_GROUP}, so none was tested
   * (until the forty-second session). The fingerprint stays on each output and verdict (their
   * {@code model.version}, in the audit store and the campaign report's samples). The other
   * backends' versions are their deployment's own (builtin {@code v1-...}, DJL {@code sha256:...}
   * or the configured one, echo {@code 1}): another version is another model, counted apart.
   */
  static String modelKey(ModelRef model) {
    if (model == null) {
      return "unknown";
    }
    String backendAndName = model.getBackend() + "/" + model.getName();
    return SERVER_REPORTED_VERSION.equals(model.getBackend())
        ? backendAndName
        : backendAndName + "@" + model.getVersion();
  }
}
