package io.genguard.moderation.train;

import io.genguard.provenance.text.EuroparlCorpus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training corpus: every training source of the shared data, the project's authored examples
 * and identity sentences, and prose for the overall head ({@link EuroparlProse}), deduplicated and
 * split. The train command and the quality command both build it this way, so the test split the
 * quality report measures on is exactly the one training never saw.
 */
public final class TrainingCorpus {
  private TrainingCorpus() {}

  public static DeduplicatedSplit load(Path dataDir) {
    List<LabelledText> pool = new ArrayList<>(new SharedDataSets(dataDir).trainingPool());
    pool.addAll(AuthoredExamples.load());
    pool.addAll(IdentityAugmentation.generate(trainingPart(pool)));
    // After the identity sentences: their per-descriptor balance is against the labelled sources.
    pool.addAll(EuroparlProse.training(EuroparlCorpus.load()));
    return DeduplicatedSplit.of(pool);
  }

  /**
   * The texts of {@code pool} that its own split puts in training or validation: what the identity
   * augmentation may look at (the test split must not shape training data).
   */
  static List<LabelledText> trainingPart(List<LabelledText> pool) {
    DeduplicatedSplit split = DeduplicatedSplit.of(pool);
    List<LabelledText> part = new ArrayList<>(split.get(DeduplicatedSplit.Split.TRAIN));
    part.addAll(split.get(DeduplicatedSplit.Split.VALIDATION));
    return part;
  }
}
