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
  void shouldTeachOnlyTheOverallHeadAndGroupSentencesByDocument() {
    EuroparlCorpus corpus = EuroparlCorpus.load();
    List<LabelledText> training = EuroparlProse.training(corpus);
    assertThat(training).hasSizeGreaterThan(5_000);
    for (LabelledText text : training) {
      assertThat(text.source()).isEqualTo(EuroparlProse.SOURCE);
      assertThat(text.group()).startsWith(EuroparlProse.SOURCE + "-");
      assertThat(text.label(Heads.UNSAFE)).isEqualTo(LabelledText.NEGATIVE);
      for (int head = 1; head < Heads.COUNT; head++) {
        assertThat(text.label(head)).isEqualTo(LabelledText.UNKNOWN);
      }
    }
    Set<String> groups = new HashSet<>();
    training.forEach(text -> groups.add(text.group()));
    // One group per document; a few documents are only a heading or a one-word answer.
    int documents = corpus.trainingDocuments().size();
    assertThat(groups.size()).isBetween(documents * 9 / 10, documents);
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
