package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * BENCHMARK ONLY, NOT A MODERATOR. Scores every text 0 in constant time, so that the plumbing
 * benchmark (issue 2) measures Kafka, Flink, the gate and PostgreSQL rather than a model. The
 * factory hands it out only when asked for by its exact name, {@value #NAME}; its version string
 * says what it is, so any verdict it produced is recognizable in the audit log.
 */
public final class TrivialBenchmarkScorer implements ContentScorer {
  /** The only name under which {@link ScorerFactory} creates this scorer. */
  public static final String NAME = "trivial-benchmark";

  private static final ContentScores ZERO = zero();

  @Override
  public List<ContentScores> scoreBatch(List<String> texts) {
    List<ContentScores> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      out.add(ZERO);
    }
    return out;
  }

  @Override
  public Map<String, String> versions() {
    return Map.of(NAME, "1.0.0-benchmark-only-not-a-moderator");
  }

  private static ContentScores zero() {
    Map<Category, Double> categories = new EnumMap<>(Category.class);
    for (Category category : Category.values()) {
      categories.put(category, 0.0);
    }
    return new ContentScores(0.0, categories);
  }
}
