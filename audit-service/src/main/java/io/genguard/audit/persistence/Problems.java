package io.genguard.audit.persistence;

import java.util.ArrayList;
import java.util.List;

/**
 * What a check of anchor lines found, kept up to {@value #MAX} entries and counted beyond: a file
 * or topic damaged throughout (half a million lines a year) would otherwise give one entry a line,
 * in memory and in the answer.
 */
public final class Problems {
  public static final int MAX = 100;

  private final List<String> kept = new ArrayList<>();
  private long more;

  public void add(String problem) {
    if (kept.size() < MAX) {
      kept.add(problem);
    } else {
      more++;
    }
  }

  public boolean isEmpty() {
    return kept.isEmpty();
  }

  Problems copy() {
    Problems copy = new Problems();
    copy.kept.addAll(kept);
    copy.more = more;
    return copy;
  }

  /** The problems kept, then how many more there were, if any. */
  public List<String> list() {
    List<String> all = new ArrayList<>(kept);
    if (more > 0) {
      all.add("... and " + more + " more problem(s)");
    }
    return List.copyOf(all);
  }
}
