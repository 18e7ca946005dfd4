package io.genguard.bias.persistence;

import java.time.Instant;
import java.util.List;

/**
 * A persisted campaign.
 *
 * @param spec the normalised campaign as JSON (what was planned, with the file's text)
 * @param dataSources JSON list of the shared data files read and their SHA-256
 */
public record CampaignRecord(
    String campaignId,
    String name,
    String design,
    String tenantId,
    String backend,
    String model,
    int samplesPerGroup,
    List<String> groups,
    int templateCount,
    int plannedSamples,
    String spec,
    String specSha256,
    String dataSources,
    Instant createdAt) {

  public CampaignRecord {
    groups = List.copyOf(groups);
  }
}
