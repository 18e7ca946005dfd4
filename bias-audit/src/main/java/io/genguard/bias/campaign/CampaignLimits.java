package io.genguard.bias.campaign;

import java.util.Map;

/**
 * What a campaign may ask of the stack: at most {@code maxSamples} requests, against the backends
 * and models of {@code catalog}.
 *
 * @param maxSamples largest number of requests (groups x samples per group) one campaign may plan
 * @param catalog backends and models the stack serves
 */
public record CampaignLimits(int maxSamples, ModelCatalog catalog) {
  public static final String MAX_SAMPLES = "GENGUARD_BIAS_MAX_SAMPLES";
  public static final int DEFAULT_MAX_SAMPLES = 20_000;

  /**
   * The largest {@code maxSamples} allowed: a report keeps a row (ids, decision, scores) for every
   * judged sample, and the report of a campaign of this size must fit the audit service's report
   * store ({@code BiasReports.MAX_BODY_CHARS}, 64 MiB) to reach its API, UI and hash chain. One of
   * 50,000 samples with 36-character ids is about 24 MB of canonical JSON and 19 MB of HTML (output
   * texts are capped, see {@code ReportBuilder.TEXT_ROWS}), which leaves room for long group names
   * and terms.
   */
  public static final int CEILING = 50_000;

  public CampaignLimits {
    if (maxSamples < 1 || maxSamples > CEILING) {
      throw new IllegalArgumentException(
          MAX_SAMPLES
              + " (or --max-samples) must be 1-"
              + CEILING
              + ", was "
              + maxSamples
              + ": a larger campaign's report would not fit the audit service's report store;"
              + " split the groups over several campaigns");
    }
  }

  public static CampaignLimits defaults() {
    return new CampaignLimits(DEFAULT_MAX_SAMPLES, ModelCatalog.defaults());
  }

  public static CampaignLimits fromEnvironment(Map<String, String> env) {
    String max = env.get(MAX_SAMPLES);
    int value;
    try {
      value = max == null || max.isBlank() ? DEFAULT_MAX_SAMPLES : Integer.parseInt(max.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(MAX_SAMPLES + "='" + max + "' is not a whole number", e);
    }
    return new CampaignLimits(value, ModelCatalog.fromEnvironment(env));
  }

  public CampaignLimits withMaxSamples(int max) {
    return new CampaignLimits(max, catalog);
  }

  public CampaignLimits withCatalog(ModelCatalog newCatalog) {
    return new CampaignLimits(maxSamples, newCatalog);
  }
}
