package io.genguard.schemas;

import java.util.Map;

/**
 * The request attributes reserved for the requests of a bias campaign. The bias-aggregation job
 * leaves a verdict whose request names a campaign out of live monitoring and counts it toward that
 * campaign, so the audit API accepts them only for a campaign of the request's own tenant.
 */
public final class CampaignAttributeKeys {
  /** Every key under this prefix is reserved. */
  public static final String PREFIX = "campaign.";

  /** The campaign's id. */
  public static final String ID = PREFIX + "id";

  private CampaignAttributeKeys() {}

  /** Whether the attributes hold any key of a campaign request. */
  public static boolean namesCampaign(Map<String, String> attributes) {
    for (String key : attributes.keySet()) {
      if (key.startsWith(PREFIX)) {
        return true;
      }
    }
    return false;
  }
}
