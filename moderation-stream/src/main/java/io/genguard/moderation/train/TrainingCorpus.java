package io.genguard.moderation.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training corpus: every training source of the shared data plus the project's authored
 * examples, deduplicated and split. The train command and the quality command both build it this
 * way, so the test split the quality report measures on is exactly the one training never saw.
 */
public final class TrainingCorpus {
  private TrainingCorpus() {}

  public static DeduplicatedSplit load(Path dataDir) {
    List<LabelledText> pool = new ArrayList<>(new SharedDataSets(dataDir).trainingPool());
    pool.addAll(AuthoredExamples.load());
    pool.addAll(IdentityAugmentation.generate());
    return DeduplicatedSplit.of(pool);
  }
}
