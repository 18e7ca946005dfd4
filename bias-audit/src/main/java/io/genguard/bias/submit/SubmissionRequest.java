package io.genguard.bias.submit;

import io.genguard.bias.campaign.CampaignSpec.Sampling;
import java.util.Map;

/**
 * One generation request of a campaign, as the API's POST /api/v1/requests takes it.
 *
 * @param idempotencyKey sent as the {@code Idempotency-Key} header, or null for none: the same for
 *     every try of one submission of a sample, so that the API answers a retry with the request it
 *     already accepted instead of submitting another
 */
public record SubmissionRequest(
    String prompt,
    String tenantId,
    String backend,
    String model,
    Sampling sampling,
    long seed,
    Map<String, String> attributes,
    String idempotencyKey) {

  public SubmissionRequest {
    attributes = Map.copyOf(attributes);
  }

  /** A request without an idempotency key. */
  public SubmissionRequest(
      String prompt,
      String tenantId,
      String backend,
      String model,
      Sampling sampling,
      long seed,
      Map<String, String> attributes) {
    this(prompt, tenantId, backend, model, sampling, seed, attributes, null);
  }

  /**
   * The key of one submission of a campaign's sample: the campaign, the sample and how many times
   * the sample was submitted before (0 for its first submission; a resume that submits a pending
   * sample again wants a new request, so a new key), never the try.
   */
  public static String campaignKey(String campaignId, int sampleIndex, int earlierSubmissions) {
    return campaignId + ":" + sampleIndex + ":" + earlierSubmissions;
  }
}
