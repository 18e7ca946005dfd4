package io.genguard.bias.submit;

import io.genguard.bias.campaign.CampaignSpec.Sampling;
import java.util.Map;

/** One generation request of a campaign, as the API's POST /api/v1/requests takes it. */
public record SubmissionRequest(
    String prompt,
    String tenantId,
    String backend,
    String model,
    Sampling sampling,
    long seed,
    Map<String, String> attributes) {

  public SubmissionRequest {
    attributes = Map.copyOf(attributes);
  }
}
