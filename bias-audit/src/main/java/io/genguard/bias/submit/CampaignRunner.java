package io.genguard.bias.submit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.bias.campaign.CampaignAttributes;
import io.genguard.bias.campaign.CampaignLimits;
import io.genguard.bias.campaign.CampaignPlanner;
import io.genguard.bias.campaign.CampaignResolver;
import io.genguard.bias.campaign.CampaignSpec;
import io.genguard.bias.campaign.PlannedSample;
import io.genguard.bias.campaign.ResolvedCampaign;
import io.genguard.bias.persistence.AuditStoreReader;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.persistence.CampaignRepository;
import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.State;
import io.genguard.bias.submit.SubmissionException.Kind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs campaigns: resolve and validate (refusing bad input before anything is submitted), plan,
 * persist the whole plan, then submit sample by sample, recording each request id as the API
 * assigns it. An interrupted campaign resumes from the persisted plan: requests that reached the
 * audit store but whose id was not recorded are reconciled by their {@code campaign.sample}
 * attribute, and only samples never submitted are sent.
 */
public final class CampaignRunner {
  private static final Logger LOG = LoggerFactory.getLogger(CampaignRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TRANSIENT_ATTEMPTS = 4;

  /** Waits for the tenant's submission rate, per request, before a campaign stops (resumable). */
  private static final int THROTTLED_WAITS = 600;

  private final CampaignRepository campaigns;
  private final AuditStoreReader auditStore;
  private final CampaignSubmitter submitter;
  private final CampaignResolver resolver;
  private final CampaignLimits limits;
  private final Clock clock;
  private final Listener listener;

  /** Told about progress, e.g. to print it. */
  public interface Listener {
    void submitted(String campaignId, int done, int total);

    /**
     * Called once the plan is stored, before a start or resume submits its first sample: e.g. to
     * register the campaign with the audit service, whose API refuses requests naming a campaign it
     * does not list. An exception stops the campaign before anything is submitted (resumable).
     */
    default void beforeSubmitting(String campaignId) {}

    static Listener silent() {
      return (id, done, total) -> {};
    }
  }

  /** A campaign whose submission stopped part-way; its plan is stored and it can be resumed. */
  public static final class CampaignInterruptedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String campaignId;

    CampaignInterruptedException(
        String campaignId, int submitted, int total, RuntimeException cause) {
      super(
          "Campaign "
              + campaignId
              + " stopped after submitting "
              + submitted
              + " of "
              + total
              + " samples: "
              + cause.getMessage()
              + ". Its plan is stored; resume it with: ./genguard audit campaign --resume "
              + campaignId,
          cause);
      this.campaignId = campaignId;
    }

    public String campaignId() {
      return campaignId;
    }
  }

  /**
   * What a start or resume did.
   *
   * @param reconciled request ids found in the audit store and recorded for their sample
   * @param skipped requests of the campaign's tenant naming the campaign that were not reconciled,
   *     because their {@code campaign.sample} is missing, not a whole number as the campaign writes
   *     it, or not a sample of the plan (each is also logged)
   */
  public record Submitted(
      String campaignId, int planned, int submittedNow, int reconciled, int skipped) {}

  /** Skipped requests logged one by one before the rest are only counted. */
  private static final int SKIPPED_LOGGED = 10;

  public CampaignRunner(
      CampaignRepository campaigns,
      AuditStoreReader auditStore,
      CampaignSubmitter submitter,
      CampaignResolver resolver,
      CampaignLimits limits,
      Clock clock,
      Listener listener) {
    this.campaigns = campaigns;
    this.auditStore = auditStore;
    this.submitter = submitter;
    this.resolver = resolver;
    this.limits = limits;
    this.clock = clock;
    this.listener = listener;
  }

  /**
   * Validates, plans, stores and submits a campaign.
   *
   * @param sourceText the campaign file as written, kept with the plan
   * @throws io.genguard.bias.campaign.InvalidCampaignException for bad input (nothing submitted)
   * @throws CampaignInterruptedException when submission stopped part-way (resume it)
   */
  public Submitted start(CampaignSpec spec, String sourceText) {
    return start(resolver.resolve(spec, limits), sourceText);
  }

  /**
   * Plans, stores and submits a campaign already resolved (by {@link CampaignResolver#resolve},
   * under this runner's limits), so that its shared data files were read before the store was
   * reached.
   *
   * @param sourceText the campaign file as written, kept with the plan
   * @throws CampaignInterruptedException when submission stopped part-way (resume it)
   */
  public Submitted start(ResolvedCampaign resolved, String sourceText) {
    CampaignSpec spec = resolved.spec();
    submitter.checkReachable();
    String campaignId = spec.id() != null ? spec.id() : newId();
    List<PlannedSample> plan = CampaignPlanner.plan(resolved);
    campaigns.insertPlan(record(campaignId, resolved, sourceText), plan);
    LOG.info("Campaign {} planned: {} samples", campaignId, plan.size());
    int sent = submitAll(campaignId, resolved.spec(), plan, Map.of());
    return new Submitted(campaignId, plan.size(), sent, 0, 0);
  }

  /**
   * Continues an interrupted campaign: reconciles request ids from the audit store, then submits
   * the samples never submitted. With {@code resubmitPending}, samples whose request never got a
   * verdict or failure (lost with a stack that was reset) are submitted again under a new request
   * id; the report keeps the first verdict per sample, so nothing is counted twice.
   */
  public Submitted resume(String campaignId, boolean resubmitPending) {
    return resume(campaignId, resubmitPending, false);
  }

  /**
   * The same, and with {@code resubmitUnscored} also the samples judged without scores (a scorer
   * error or timeout held them), under a new request id: the report and the aggregation job take a
   * sample's first scored verdict, so the new one counts and nothing twice.
   */
  public Submitted resume(String campaignId, boolean resubmitPending, boolean resubmitUnscored) {
    CampaignRecord record =
        campaigns
            .find(campaignId)
            .orElseThrow(() -> new IllegalArgumentException("No campaign with id " + campaignId));
    submitter.checkReachable();
    Reconciliation reconciliation = reconcile(campaignId);
    List<SampleOutcome> outcomes = auditStore.outcomes(campaignId);
    List<PlannedSample> todo =
        outcomes.stream()
            .filter(
                o ->
                    o.state() == State.NOT_SUBMITTED
                        || resubmitPending && o.state() == State.PENDING
                        || resubmitUnscored && o.state() == State.UNSCORED)
            .map(SampleOutcome::sample)
            .toList();
    LOG.info(
        "Campaign {}: {} request ids reconciled, {} requests naming it skipped, {} samples to"
            + " submit",
        campaignId,
        reconciliation.reconciled(),
        reconciliation.skipped(),
        todo.size());
    CampaignSpec spec = specOf(record);
    int sent = submitAll(campaignId, spec, todo, campaigns.submissions(campaignId));
    return new Submitted(
        campaignId,
        record.plannedSamples(),
        sent,
        reconciliation.reconciled(),
        reconciliation.skipped());
  }

  /**
   * Records the request ids of the campaign's tenant that the audit store holds for the campaign
   * but the campaign did not record, under the sample their {@code campaign.sample} names. That
   * attribute is the submitter's word (the API does not check it against any plan): a request whose
   * attribute is missing, not a whole number written as the campaign writes it, or not a sample of
   * the plan is skipped and logged, never recorded (it would break the reference to the plan and
   * stop every later resume). Several requests for one planned sample are all recorded, as a
   * re-submission records them: the report, like the aggregation job, counts the sample once, with
   * its earliest scored verdict.
   */
  private Reconciliation reconcile(String campaignId) {
    Set<String> recorded = new HashSet<>();
    campaigns.submissions(campaignId).values().forEach(recorded::addAll);
    Set<Integer> planned = new HashSet<>();
    campaigns.samples(campaignId).forEach(sample -> planned.add(sample.sampleIndex()));
    int reconciled = 0;
    int skipped = 0;
    for (AuditStoreReader.ClaimedRequest claim : auditStore.requestsInAuditStore(campaignId)) {
      if (recorded.contains(claim.requestId())) {
        continue;
      }
      String attribute = claim.sampleAttribute();
      Integer index =
          attribute != null && attribute.matches("0|[1-9][0-9]{0,8}")
              ? Integer.valueOf(attribute)
              : null;
      if (index == null || !planned.contains(index)) {
        if (++skipped <= SKIPPED_LOGGED && attribute == null) {
          LOG.warn(
              "Campaign {}: request {} of its tenant names the campaign but no {}; not"
                  + " reconciled",
              campaignId,
              claim.requestId(),
              CampaignAttributes.SAMPLE);
        } else if (skipped <= SKIPPED_LOGGED) {
          LOG.warn(
              "Campaign {}: request {} of its tenant names {} '{}', which is not a sample of its"
                  + " plan (0-{}, in plain decimal); not reconciled",
              campaignId,
              claim.requestId(),
              CampaignAttributes.SAMPLE,
              attribute,
              planned.size() - 1);
        }
        continue;
      }
      campaigns.recordSubmission(
          campaignId, index, claim.requestId(), "reconciled", clock.instant());
      recorded.add(claim.requestId());
      reconciled++;
    }
    if (skipped > SKIPPED_LOGGED) {
      LOG.warn(
          "Campaign {}: {} requests of its tenant name no sample of its plan; not reconciled ({}"
              + " logged above)",
          campaignId,
          skipped,
          SKIPPED_LOGGED);
    }
    return new Reconciliation(reconciled, skipped);
  }

  /** Request ids recorded from the audit store, and requests naming no sample of the plan. */
  private record Reconciliation(int reconciled, int skipped) {}

  /** Where a campaign stands and which samples are missing. */
  public CampaignProgress progress(String campaignId) {
    if (campaigns.find(campaignId).isEmpty()) {
      throw new IllegalArgumentException("No campaign with id " + campaignId);
    }
    return CampaignProgress.of(campaignId, auditStore.outcomes(campaignId));
  }

  /**
   * @param recorded the request ids recorded per sample so far: a sample submitted again gets a new
   *     idempotency key, every try of one submission the same
   */
  private int submitAll(
      String campaignId,
      CampaignSpec spec,
      List<PlannedSample> samples,
      Map<Integer, List<String>> recorded) {
    int done = 0;
    if (!samples.isEmpty()) {
      try {
        listener.beforeSubmitting(campaignId);
      } catch (RuntimeException e) {
        throw new CampaignInterruptedException(campaignId, done, samples.size(), e);
      }
    }
    for (PlannedSample sample : samples) {
      SubmissionRequest request =
          new SubmissionRequest(
              sample.prompt(),
              spec.target().tenant(),
              spec.target().backend(),
              spec.target().model(),
              spec.sampling(),
              sample.seed(),
              CampaignAttributes.of(campaignId, sample),
              SubmissionRequest.campaignKey(
                  campaignId,
                  sample.sampleIndex(),
                  recorded.getOrDefault(sample.sampleIndex(), List.of()).size()));
      String requestId;
      try {
        requestId = submitWithRetries(request);
      } catch (RuntimeException e) {
        throw new CampaignInterruptedException(campaignId, done, samples.size(), e);
      }
      campaigns.recordSubmission(
          campaignId, sample.sampleIndex(), requestId, "api", clock.instant());
      done++;
      listener.submitted(campaignId, done, samples.size());
    }
    return done;
  }

  /**
   * Sends the request, trying a transient failure {@value #TRANSIENT_ATTEMPTS} times with backoff,
   * or after the wait the API asks for (Retry-After) where that is longer. A refusal for the
   * tenant's submission rate is pacing, not failure: the request is sent again after the wait the
   * API asks for, up to {@value #THROTTLED_WAITS} times for one request. Every try carries the
   * request's idempotency key, so a try whose answer was lost does not submit it twice.
   */
  private String submitWithRetries(SubmissionRequest request) {
    long backoff = 250;
    int attempts = 0;
    int throttled = 0;
    while (true) {
      try {
        return submitter.submit(request);
      } catch (SubmissionException e) {
        long waitMillis;
        if (e.kind() == Kind.THROTTLED && ++throttled <= THROTTLED_WAITS) {
          waitMillis = e.retryAfter().toMillis();
          LOG.debug("Over the tenant's submission rate; sending again in {} ms", waitMillis);
        } else if (e.kind() == Kind.UNAVAILABLE && ++attempts < TRANSIENT_ATTEMPTS) {
          waitMillis = Math.max(backoff, e.retryAfter().toMillis());
          backoff *= 2;
          LOG.warn(
              "Submission attempt {} failed ({}); retrying in {} ms",
              attempts,
              e.getMessage(),
              waitMillis);
        } else {
          throw e;
        }
        try {
          Thread.sleep(waitMillis);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private String newId() {
    return "bias-"
        + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC)
            .format(clock.instant())
        + "-"
        + UUID.randomUUID().toString().substring(0, 6);
  }

  private CampaignRecord record(String campaignId, ResolvedCampaign resolved, String sourceText) {
    CampaignSpec spec = resolved.spec();
    ObjectNode json = JSON.createObjectNode();
    json.put("name", spec.name());
    json.put("origin", spec.origin());
    json.put("design", resolved.design().name());
    ObjectNode target = json.putObject("target");
    target.put("backend", spec.target().backend());
    target.put("model", spec.target().model());
    target.put("tenant", spec.target().tenant());
    ObjectNode sampling = json.putObject("sampling");
    sampling.put("maxTokens", spec.sampling().maxTokens());
    sampling.put("temperature", spec.sampling().temperature());
    sampling.put("topK", spec.sampling().topK());
    sampling.put("topP", spec.sampling().topP());
    json.put("seed", spec.seed());
    json.put("samplesPerGroup", spec.samplesPerGroup());
    ArrayNode templates = json.putArray("templates");
    resolved.templates().forEach(templates::add);
    ArrayNode groups = json.putArray("groups");
    for (ResolvedCampaign.ResolvedGroup group : resolved.groups()) {
      ObjectNode g = groups.addObject();
      g.put("name", group.name());
      ArrayNode terms = g.putArray("terms");
      group.terms().forEach(t -> terms.add(t.plural()));
      g.put("prompts", group.prompts().size());
    }
    json.put("source", sourceText);
    ArrayNode sources = JSON.createArrayNode();
    for (ResolvedCampaign.DataSource source : resolved.dataSources()) {
      sources.addObject().put("path", source.path()).put("sha256", source.sha256());
    }
    String specJson = json.toString();
    return new CampaignRecord(
        campaignId,
        spec.name(),
        resolved.design().name(),
        spec.target().tenant(),
        spec.target().backend(),
        spec.target().model(),
        spec.samplesPerGroup(),
        resolved.groupNames(),
        resolved.templates().size(),
        resolved.plannedSamples(),
        specJson,
        sha256(specJson),
        sources.toString(),
        clock.instant());
  }

  /** The target and sampling of a stored campaign (what resumed requests must use). */
  private static CampaignSpec specOf(CampaignRecord record) {
    try {
      var json = JSON.readTree(record.spec());
      var sampling = json.get("sampling");
      return new CampaignSpec(
          record.campaignId(),
          record.name(),
          new CampaignSpec.Target(record.backend(), record.model(), record.tenantId()),
          new CampaignSpec.Sampling(
              sampling.get("maxTokens").asInt(),
              sampling.get("temperature").asDouble(),
              sampling.get("topK").asInt(),
              sampling.get("topP").asDouble()),
          json.get("seed").asLong(),
          record.samplesPerGroup(),
          new CampaignSpec.InlineTemplates(List.of()),
          new CampaignSpec.ListedGroups(List.of()),
          json.path("origin").asText(record.campaignId()),
          null);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          "Stored campaign " + record.campaignId() + " is unreadable", e);
    }
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
