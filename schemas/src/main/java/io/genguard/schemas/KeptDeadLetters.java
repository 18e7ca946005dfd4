package io.genguard.schemas;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The dead letters a recovery left where they are, counted by why, with the first few of each: what
 * {@code genguard dlq redrive} and {@code genguard audit recover-dead-letters} report.
 */
public final class KeptDeadLetters {
  /** Most examples of each reason kept. */
  public static final int EXAMPLES = 5;

  /**
   * Most distinct reasons listed; the rest are counted together (reasons may name stages and topics
   * the dead letters themselves carry).
   */
  public static final int MAX_REASONS = 50;

  private final Map<String, Long> counts = new LinkedHashMap<>();
  private final Map<String, List<String>> examples = new LinkedHashMap<>();

  /** One more dead letter stays, for {@code why}; {@code where} names it. */
  public void keep(String why, String where) {
    String reason =
        counts.containsKey(why) || counts.size() < MAX_REASONS
            ? why
            : "other reasons (over " + MAX_REASONS + ")";
    counts.merge(reason, 1L, Long::sum);
    List<String> some = examples.computeIfAbsent(reason, r -> new ArrayList<>());
    if (some.size() < EXAMPLES) {
      some.add(where);
    }
  }

  /** How many stay, by reason, sorted. */
  public Map<String, Long> counts() {
    return new TreeMap<>(counts);
  }

  /** The first dead letters of each reason, sorted by reason. */
  public Map<String, List<String>> examples() {
    Map<String, List<String>> sorted = new TreeMap<>();
    examples.forEach((reason, some) -> sorted.put(reason, List.copyOf(some)));
    return sorted;
  }
}
