package io.genguard.moderation.bias;

import java.util.List;

/**
 * What the bias analysis found in one text.
 *
 * @param groups demographic groups the text mentions, as {@code axis:group}, sorted, distinct
 * @param targetedGroups the mentioned groups the text is aimed at (generalized about, addressed, or
 *     named by a slur); a subset of {@code groups}
 * @param stereotypeScore 0..1 signal that the text states an implicit stereotype about a mentioned
 *     group (ToxiGen-style implicit hate: no slur, still demeaning); 0 when no group is mentioned
 */
public record BiasFindings(
    List<String> groups, List<String> targetedGroups, double stereotypeScore) {
  public static final BiasFindings NONE = new BiasFindings(List.of(), List.of(), 0.0);

  public BiasFindings {
    groups = List.copyOf(groups);
    targetedGroups = List.copyOf(targetedGroups);
    if (!(stereotypeScore >= 0 && stereotypeScore <= 1)) {
      throw new IllegalArgumentException("stereotypeScore " + stereotypeScore + " is not in 0..1");
    }
  }
}
