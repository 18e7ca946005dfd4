package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.HashedNgramFeatures.SparseVector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SparseLogisticTrainerTest {
  private static final HashedNgramFeatures FEATURES = new HashedNgramFeatures(1 << 12, 2, 2, 4);
  private static final SparseLogisticTrainer TRAINER =
      new SparseLogisticTrainer(SparseLogisticTrainer.Options.defaults());

  private static final List<String> TEXTS =
      List.of(
          "you are a worthless idiot",
          "thank you for the lovely dinner",
          "I will hurt you tonight",
          "the committee approved the budget",
          "shut up you stupid moron",
          "we planted tomatoes in the garden");
  private static final byte[][] LABELS = {{1, 1}, {0, 0}, {1, 0}, {0, 0}, {1, 1}, {0, 0}};

  @Test
  void shouldLeaveAHeadExactlyAsItWasWhenAddedTextsAreUnknownForIt() {
    List<SparseVector> xs = new ArrayList<>();
    TEXTS.forEach(t -> xs.add(FEATURES.extract(t)));
    SparseLogisticTrainer.Trained[] before = TRAINER.train(xs, LABELS, FEATURES.dimensions());

    // Prose that teaches head 0 only, in the middle and at the end (EuroparlProse's labels).
    List<SparseVector> moreXs = new ArrayList<>(xs);
    List<byte[]> moreLabels = new ArrayList<>(List.of(LABELS));
    moreXs.add(3, FEATURES.extract("the report on agriculture and fisheries"));
    moreLabels.add(3, new byte[] {0, -1});
    moreXs.add(FEATURES.extract("Mr President, I would like to thank the rapporteur"));
    moreLabels.add(new byte[] {0, -1});
    SparseLogisticTrainer.Trained[] after =
        TRAINER.train(moreXs, moreLabels.toArray(new byte[0][]), FEATURES.dimensions());

    assertThat(after[1].weights()).isEqualTo(before[1].weights());
    assertThat(after[1].bias()).isEqualTo(before[1].bias());
    assertThat(after[0].weights()).isNotEqualTo(before[0].weights());
  }
}
