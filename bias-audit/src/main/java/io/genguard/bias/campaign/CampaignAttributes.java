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

  /**
   * Longest group name, in characters: what a campaign plans ({@link CampaignResolver}) and the
   * bias job keys a campaign group's totals by.
   */
  public static final int MAX_GROUP_NAME = 64;

  private CampaignAttributes() {}

  /**
   * Why {@code group} cannot be a campaign group's name, or null when it can: 1-{@value
   * #MAX_GROUP_NAME} characters, not blank, without control or format characters (a newline, a
   * zero-width space, a bidirectional override) or unpaired surrogates. The bias job keys a group's
   * state by it, and reports and logs show it.
   */
  public static String groupProblem(String group) {
    if (group == null) {
      return "no " + GROUP;
    }
    if (group.isBlank() || group.length() > MAX_GROUP_NAME) {
      return GROUP + " must be 1-" + MAX_GROUP_NAME + " characters, not blank";
    }
    for (int i = 0; i < group.length(); i++) {
      char c = group.charAt(i);
      int type = Character.getType(c);
      if (Character.isHighSurrogate(c)
          && i + 1 < group.length()
          && Character.isLowSurrogate(group.charAt(i + 1))) {
        i++;
        continue;
      }
      if (type == Character.CONTROL
          || type == Character.FORMAT
          || type == Character.SURROGATE
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR) {
        return GROUP + " holds a control, format or unpaired surrogate character at " + i;
      }
    }
    return null;
  }

  /**
   * Why {@code sample} cannot be a campaign sample index, or null when it can: a whole number in
   * its shortest decimal form ({@code 7}, not {@code 07} or {@code +7}), below {@link
   * CampaignLimits#CEILING}, the most samples a campaign plans. The bias job counts a group's
   * samples once each by it, so any other value would be a new sample to keep.
   */
  public static String sampleProblem(String sample) {
    if (sample == null) {
      return "no " + SAMPLE;
    }
    int digits = Integer.toString(CampaignLimits.CEILING - 1).length();
    boolean decimal =
        !sample.isEmpty()
            && sample.length() <= digits
            && sample.chars().allMatch(c -> c >= '0' && c <= '9')
            && (sample.length() == 1 || sample.charAt(0) != '0');
    if (!decimal || Integer.parseInt(sample) >= CampaignLimits.CEILING) {
      return SAMPLE
          + " must be a whole number 0-"
          + (CampaignLimits.CEILING - 1)
          + " without leading zeros";
    }
    return null;
  }

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
