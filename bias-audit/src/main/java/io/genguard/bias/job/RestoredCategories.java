package io.genguard.bias.job;

import java.io.Serializable;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fits category counts read from state (campaign totals, live window accumulators and results) to
 * this build's category list, so that state restored from a build that counted another list is read
 * instead of failing every restart.
 *
 * <p>Counts are kept by position in the list, so a release may only add categories at the end of
 * it, or drop its last ones (RestoredCategoryCountsTest pins the order). A restored count under a
 * category the older build did not count starts at 0: it holds the verdicts read since the upgrade
 * only, not every verdict since the totals or the window began (those were never checked against
 * that category). Counts of categories this build no longer counts are dropped. Logged once per
 * operator and subtask.
 */
final class RestoredCategories implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(RestoredCategories.class);

  private final List<String> categories;
  private final String state;
  private transient boolean logged;

  /**
   * @param categories this build's categories, in order
   * @param state what the counts are, for the log line ("campaign totals", "live windows")
   */
  RestoredCategories(List<String> categories, String state) {
    this.categories = List.copyOf(categories);
    this.state = state;
  }

  /** {@code counts}, padded with zeros or trimmed to this build's categories. */
  GroupCounts fit(GroupCounts counts) {
    int had = counts.fitTo(categories.size());
    if (had != categories.size() && !logged) {
      logged = true;
      if (had < categories.size()) {
        LOG.warn(
            "Restored {} counted {} categories; this build counts {}: {} start at 0 in the"
                + " totals and windows restored here and count only the verdicts read from this"
                + " restart on (the older build never checked a verdict against them), so those"
                + " figures undercount them. Logged once per operator and subtask",
            state,
            had,
            categories.size(),
            categories.subList(had, categories.size()));
      } else {
        LOG.warn(
            "Restored {} counted {} categories; this build counts the first {} ({}): the counts"
                + " of the other {} are dropped. Logged once per operator and subtask",
            state,
            had,
            categories.size(),
            categories,
            had - categories.size());
      }
    }
    return counts;
  }
}
