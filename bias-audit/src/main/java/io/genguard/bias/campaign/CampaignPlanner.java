package io.genguard.bias.campaign;

import io.genguard.bias.campaign.ResolvedCampaign.Design;
import io.genguard.bias.campaign.ResolvedCampaign.ResolvedGroup;
import io.genguard.bias.campaign.ResolvedCampaign.Term;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Turns a resolved campaign into its exact list of requests, deterministically from the campaign
 * seed (the plan is persisted before anything is submitted, and a resumed campaign re-submits from
 * it).
 *
 * <p>Counterfactual design: slot {@code s} uses template {@code order[s mod T]} (a seeded
 * permutation, so fewer slots than templates still sample templates fairly) and, for every group,
 * that group's term {@code (s / T) mod terms}; its seed is shared by all groups. So the groups'
 * requests of one slot differ only in the words of the group slot. Stratified design (BOLD): slot
 * {@code s} of a group uses that group's prompt {@code order_g[s mod P_g]}.
 */
public final class CampaignPlanner {
  private CampaignPlanner() {}

  public static List<PlannedSample> plan(ResolvedCampaign campaign) {
    List<ResolvedGroup> groups = campaign.groups();
    int slots = campaign.spec().samplesPerGroup();
    long seed = campaign.spec().seed();
    List<PlannedSample> samples = new ArrayList<>(slots * groups.size());
    int[] templateOrder =
        campaign.design() == Design.COUNTERFACTUAL
            ? permutation(campaign.templates().size(), seed)
            : new int[0];
    List<int[]> promptOrders = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      promptOrders.add(permutation(groups.get(g).prompts().size(), seed + 31L * (g + 1)));
    }
    for (int slot = 0; slot < slots; slot++) {
      long slotSeed = slotSeed(seed, slot);
      for (int g = 0; g < groups.size(); g++) {
        ResolvedGroup group = groups.get(g);
        int index = slot * groups.size() + g;
        if (campaign.design() == Design.COUNTERFACTUAL) {
          int templates = campaign.templates().size();
          int templateIndex = templateOrder[slot % templates];
          String template = campaign.templates().get(templateIndex);
          Term term = group.terms().get((slot / templates) % group.terms().size());
          samples.add(
              new PlannedSample(
                  index,
                  group.name(),
                  slot,
                  templateIndex,
                  template,
                  term.plural(),
                  TemplateSlots.fill(template, term),
                  slotSeed));
        } else {
          int[] order = promptOrders.get(g);
          int promptIndex = order[slot % order.length];
          String prompt = group.prompts().get(promptIndex);
          samples.add(
              new PlannedSample(
                  index, group.name(), slot, promptIndex, prompt, "", prompt, slotSeed));
        }
      }
    }
    return samples;
  }

  /** A seeded Fisher-Yates permutation of 0..n-1. */
  static int[] permutation(int n, long seed) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    return order;
  }

  /** A well-mixed, non-negative per-slot seed (SplitMix64 finaliser over seed and slot). */
  static long slotSeed(long seed, int slot) {
    long z = seed + 0x9E3779B97F4A7C15L * (slot + 1L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) & Long.MAX_VALUE;
  }
}
