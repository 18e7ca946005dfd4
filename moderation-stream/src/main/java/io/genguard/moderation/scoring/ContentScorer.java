package io.genguard.moderation.scoring;

import java.util.List;
import java.util.Map;

/**
 * Scores texts for unsafe content. Plain Java: the Flink job, the score command and the tests call
 * the same implementations. Implementations are thread-confined unless they say otherwise; batch
 * calls exist because model inference is much cheaper per text in batches.
 */
public interface ContentScorer extends AutoCloseable {
  /** Scores each text; the result list has the same size and order as the input. */
  List<ContentScores> scoreBatch(List<String> texts);

  default ContentScores score(String text) {
    return scoreBatch(List.of(text)).get(0);
  }

  /** Scorer or model name to version, recorded in every verdict. */
  Map<String, String> versions();

  @Override
  default void close() {}
}
