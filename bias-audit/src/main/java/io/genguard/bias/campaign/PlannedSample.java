package io.genguard.bias.campaign;

/**
 * One request a campaign will submit. Sample indexes interleave the groups (slot 0 of every group,
 * then slot 1, ...), so anything that changes during a campaign (load, a model reload) hits every
 * group alike.
 *
 * @param sampleIndex position in the campaign, 0-based; {@code slot * groups + group position}
 * @param group the group this sample speaks about
 * @param slot the counterfactual slot: samples of one slot share template and seed across groups
 * @param templateIndex which template (counterfactual) or which of the group's prompts (BOLD)
 * @param template the template (or BOLD prompt) before filling
 * @param term the words that filled the group slot (empty for BOLD)
 * @param prompt what is sent
 * @param seed sampling seed, the same for every group of a slot
 */
public record PlannedSample(
    int sampleIndex,
    String group,
    int slot,
    int templateIndex,
    String template,
    String term,
    String prompt,
    long seed) {}
