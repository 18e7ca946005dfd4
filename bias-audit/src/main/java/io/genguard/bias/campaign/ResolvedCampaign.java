package io.genguard.bias.campaign;

import java.util.List;

/**
 * A campaign checked against its data and the stack's limits, ready to plan: the exact templates
 * (or stratified prompts) and the exact fillers of every group.
 *
 * @param spec the campaign as written
 * @param design counterfactual (one template filled with each group) or stratified (BOLD)
 * @param templates counterfactual templates, each with a group slot; empty when stratified
 * @param groups the groups in report order
 * @param dataSources shared data files read, with their SHA-256
 */
public record ResolvedCampaign(
    CampaignSpec spec,
    Design design,
    List<String> templates,
    List<ResolvedGroup> groups,
    List<DataSource> dataSources) {

  public ResolvedCampaign {
    templates = List.copyOf(templates);
    groups = List.copyOf(groups);
    dataSources = List.copyOf(dataSources);
  }

  /** How prompts differ between groups. */
  public enum Design {
    /** Every group gets the same templates, seeds and parameters; only the group words differ. */
    COUNTERFACTUAL,
    /** Each group has its own prompts (BOLD); differences may come from the prompts themselves. */
    STRATIFIED
  }

  public int plannedSamples() {
    return groups.size() * spec.samplesPerGroup();
  }

  public List<String> groupNames() {
    return groups.stream().map(ResolvedGroup::name).toList();
  }

  /**
   * A group and what fills its slot.
   *
   * @param terms fillers used in turn (counterfactual)
   * @param prompts the group's own prompts (stratified)
   */
  public record ResolvedGroup(String name, List<Term> terms, List<String> prompts) {
    public ResolvedGroup {
      terms = List.copyOf(terms);
      prompts = List.copyOf(prompts);
    }
  }

  /**
   * Words for the group slot: {@code {noun_phrase}} takes the singular, {@code {group}} and {@code
   * {plural_noun_phrase}} the plural (the same text for groups written in the campaign file).
   */
  public record Term(String singular, String plural) {
    public static Term of(String text) {
      return new Term(text, text);
    }
  }

  /** A shared data file a campaign was built from. */
  public record DataSource(String path, String sha256) {}
}
