package io.genguard.provenance.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EuroparlCorpusTest {
  @Test
  void shouldRecogniseEnglishByItsFunctionWords() {
    assertThat(EuroparlCorpus.isEnglish("The Commission has taken note of the vote in this House."))
        .isTrue();
    assertThat(
            EuroparlCorpus.isEnglish("La Commissione ha preso atto del voto di questa Assemblea."))
        .isFalse();
    assertThat(
            EuroparlCorpus.isEnglish(
                "Die Kommission hat das Votum dieses Hauses zur Kenntnis genommen."))
        .isFalse();
    assertThat(EuroparlCorpus.isEnglish("Kommissionen har noteret sig afstemningen i dette Hus."))
        .isFalse();
  }

  @Test
  void shouldSplitEnglishDocumentsIntoTrainingAndHeldOut() {
    EuroparlCorpus corpus = EuroparlCorpus.load();

    assertThat(corpus.trainingDocuments()).hasSizeBetween(1_000, 1_300);
    assertThat(corpus.heldOutDocuments()).hasSizeBetween(100, 150);
    assertThat(corpus.heldOutDocuments()).doesNotContainAnyElementsOf(corpus.trainingDocuments());
    assertThat(corpus.sha256()).hasSize(64).isEqualTo(EuroparlCorpus.resourceSha256());
  }
}
