package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.provenance.text.EuroparlCorpus;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EuroparlProseTest {
  @Test
  void shouldSplitDocumentsIntoSentencesAndDropFragments() {
    assertThat(
            EuroparlProse.sentences(
                List.of(
                    "Thank you.   The Commission has taken note of the vote. – Is that clear?",
                    "Agreed.")))
        .containsExactly("The Commission has taken note of the vote.", "– Is that clear?");
  }

  @Test
  void shouldTakeOnlyTheDocumentsTheGeneratorHoldsOut() {
    EuroparlCorpus corpus = EuroparlCorpus.load();
    List<String> heldOut = EuroparlProse.heldOutSentences(corpus);
    assertThat(heldOut).hasSizeGreaterThan(500);
    Set<String> trained = new HashSet<>(EuroparlProse.sentences(corpus.trainingDocuments()));
    // Parliamentary formulas recur across documents; whole documents do not.
    assertThat(heldOut.stream().filter(trained::contains).count()).isLessThan(heldOut.size() / 20);
  }
}
