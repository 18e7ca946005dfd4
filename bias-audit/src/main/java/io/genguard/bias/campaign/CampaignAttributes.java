package io.genguard.bias.campaign;

import io.genguard.schemas.CampaignAttributeKeys;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The request attributes that tag a campaign's requests. The generator copies a request's
 * attributes onto its output and moderation onto its verdict, so every event of a campaign request
 * carries them; the bias-aggregation job and the reports key on them. The audit API accepts them
 * only in requests of the campaign's tenant, for a campaign it lists ({@link
 * CampaignAttributeKeys}).
 */
public final class CampaignAttributes {
  public static final String ID = CampaignAttributeKeys.ID;
  public static final String GROUP = "campaign.group";
  public static final String SAMPLE = "campaign.sample";
  public static final String SLOT = "campaign.slot";
  public static final String TEMPLATE = "campaign.template";

  private CampaignAttributes() {}

  /** The attributes of one planned sample's request. */
  public static Map<String, String> of(String campaignId, PlannedSample sample) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put(ID, campaignId);
    attributes.put(GROUP, sample.group());
    attributes.put(SAMPLE, Integer.toString(sample.sampleIndex()));
    attributes.put(SLOT, Integer.toString(sample.slot()));
    attributes.put(TEMPLATE, Integer.toString(sample.templateIndex()));
    return attributes;
  }
}
