package io.genguard.moderation.train;

import io.genguard.moderation.scoring.Category;
import java.util.Arrays;
import java.util.Set;

/**
 * One training or evaluation text with a label per head ({@link Heads}): 1 unsafe in that respect,
 * 0 not, -1 unknown (the source does not say, so the head does not learn from it).
 *
 * @param source data set the text comes from, e.g. {@code toxigen}, {@code davidson}
 * @param group texts with the same non-null group always land in the same split (e.g. all attack
 *     prompts and responses for one JailbreakBench behaviour); a group named by the normalized text
 *     it is about ({@code TextNormalizer.splitKey} of a behaviour's goal) also takes in every copy
 *     of that text, from any source ({@link DeduplicatedSplit})
 * @param text the text
 * @param labels one of 1, 0, -1 per head
 */
public record LabelledText(String source, String group, String text, byte[] labels) {
  public static final byte POSITIVE = 1;
  public static final byte NEGATIVE = 0;
  public static final byte UNKNOWN = -1;

  public LabelledText {
    if (labels.length != Heads.COUNT) {
      throw new IllegalArgumentException("expected " + Heads.COUNT + " labels");
    }
  }

  /** Safe in every category. */
  public static LabelledText benign(String source, String group, String text) {
    byte[] labels = new byte[Heads.COUNT];
    return new LabelledText(source, group, text, labels);
  }

  /**
   * Benign for the overall head only, every category unknown: for text that is benign in every
   * respect but should teach only the overall head (see {@link EuroparlProse}).
   */
  public static LabelledText benignOverallOnly(String source, String group, String text) {
    byte[] labels = new byte[Heads.COUNT];
    Arrays.fill(labels, UNKNOWN);
    labels[Heads.UNSAFE] = NEGATIVE;
    return new LabelledText(source, group, text, labels);
  }

  /**
   * Unsafe, positive in {@code positives}, unknown in {@code unknown}, negative elsewhere. With no
   * positives and no unknowns every category is unknown (the source says only "unsafe").
   */
  public static LabelledText unsafe(
      String source, String group, String text, Set<Category> positives, Set<Category> unknown) {
    byte[] labels = new byte[Heads.COUNT];
    labels[Heads.UNSAFE] = POSITIVE;
    boolean categoriesKnown = !positives.isEmpty() || !unknown.isEmpty();
    for (Category category : Category.values()) {
      byte label;
      if (positives.contains(category)) {
        label = POSITIVE;
      } else if (!categoriesKnown || unknown.contains(category)) {
        label = UNKNOWN;
      } else {
        label = NEGATIVE;
      }
      labels[Heads.index(category)] = label;
    }
    return new LabelledText(source, group, text, labels);
  }

  public byte label(int head) {
    return labels[head];
  }

  public boolean isUnsafe() {
    return labels[Heads.UNSAFE] == POSITIVE;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LabelledText other
        && source.equals(other.source)
        && java.util.Objects.equals(group, other.group)
        && text.equals(other.text)
        && Arrays.equals(labels, other.labels);
  }

  @Override
  public int hashCode() {
    return 31 * text.hashCode() + Arrays.hashCode(labels);
  }

  @Override
  public String toString() {
    return "LabelledText[" + source + ", " + Arrays.toString(labels) + ", " + text + "]";
  }
}
