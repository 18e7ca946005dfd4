package io.genguard.generator.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KneserNeyModelTest {
  private static final List<String> TINY_CORPUS =
      List.of(
          "the commission agrees . the commission proposes a directive .",
          "the council agrees . the parliament votes on the directive .",
          "the parliament agrees with the council .");

  @Test
  void shouldGiveAProperDistributionForEveryContext() {
    KneserNeyModel model = KneserNeyModel.train(TINY_CORPUS, 3, 1);
    double[] probabilities = new double[model.vocabularySize()];
    SplittableRandom random = new SplittableRandom(1);
    for (int trial = 0; trial < 200; trial++) {
      int[] history = {
        KneserNeyModel.START,
        KneserNeyModel.START,
        random.nextInt(model.vocabularySize()),
        random.nextInt(model.vocabularySize())
      };
      model.distribution(history, 2 + random.nextInt(3), probabilities);
      double total = 0;
      for (double p : probabilities) {
        assertThat(p).isPositive();
        total += p;
      }
      assertThat(total).isCloseTo(1.0, within(1e-9));
    }
  }

  @Test
  void shouldPreferContinuationsSeenAfterTheContext() {
    KneserNeyModel model = KneserNeyModel.train(TINY_CORPUS, 3, 1);
    double[] probabilities = new double[model.vocabularySize()];
    int[] history = {KneserNeyModel.START, model.id("the"), model.id("commission")};

    model.distribution(history, 3, probabilities);

    // "the commission" was followed by "agrees" and "proposes" only.
    int best = argmax(probabilities);
    assertThat(model.word(best)).isIn("agrees", "proposes");
    assertThat(probabilities[model.id("agrees")])
        .isGreaterThan(probabilities[model.id("votes")] * 5);
  }

  @Test
  void shouldUseContinuationCountsForLowerOrders() {
    // "francisco" is frequent but only ever after "san": Kneser-Ney gives it a small unigram share.
    List<String> corpus =
        List.of("san francisco san francisco san francisco san francisco a b c d e f g h");
    KneserNeyModel model = KneserNeyModel.train(corpus, 2, 1);
    double[] probabilities = new double[model.vocabularySize()];

    model.distribution(new int[] {model.id("h")}, 1, probabilities);

    assertThat(probabilities[model.id("francisco")]).isLessThan(probabilities[model.id("c")] * 1.5);
  }

  @Test
  void shouldMapRareWordsToTheUnknownWord() {
    KneserNeyModel model = KneserNeyModel.train(TINY_CORPUS, 3, 2);

    assertThat(model.id("proposes")).isEqualTo(KneserNeyModel.UNKNOWN);
    assertThat(model.id("commission")).isNotEqualTo(KneserNeyModel.UNKNOWN);
  }

  @Test
  void shouldReadBackExactlyWhatItWrote() throws Exception {
    KneserNeyModel model = KneserNeyModel.train(TINY_CORPUS, 3, 1);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    model.write(bytes);

    KneserNeyModel copy = KneserNeyModel.read(new ByteArrayInputStream(bytes.toByteArray()));

    double[] expected = new double[model.vocabularySize()];
    double[] actual = new double[copy.vocabularySize()];
    int[] history = {KneserNeyModel.START, model.id("the"), model.id("council")};
    model.distribution(history, 3, expected);
    copy.distribution(history, 3, actual);
    assertThat(actual).containsExactly(expected);
  }

  @Test
  void shouldRefuseAHugeVocabularyLengthWithoutAllocatingIt() throws Exception {
    byte[] file = written(KneserNeyModel.train(TINY_CORPUS, 3, 1));
    ByteBuffer.wrap(file).putInt(VOCABULARY_LENGTH_AT, Integer.MAX_VALUE);

    assertThatThrownBy(() -> KneserNeyModel.read(new ByteArrayInputStream(file)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("declares 2147483647 words");
  }

  @Test
  void shouldRefuseANegativeVocabularyLength() throws Exception {
    byte[] file = written(KneserNeyModel.train(TINY_CORPUS, 3, 1));
    ByteBuffer.wrap(file).putInt(VOCABULARY_LENGTH_AT, -7);

    assertThatThrownBy(() -> KneserNeyModel.read(new ByteArrayInputStream(file)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("declares -7 words");
  }

  @Test
  void shouldReadAHugeArrayLengthOnlyAsFarAsTheFileGoes() throws Exception {
    KneserNeyModel model = KneserNeyModel.train(TINY_CORPUS, 3, 1);
    byte[] file = written(model);
    // The bigram level's context count: 16 GiB of longs, were it believed.
    ByteBuffer.wrap(file).putInt(firstLevelLengthAt(model), 0x7FFF_FFF0);

    assertThatThrownBy(() -> KneserNeyModel.read(new ByteArrayInputStream(file)))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void shouldRefuseAFileWithAFlippedBitInAProbability() throws Exception {
    KneserNeyModel model = KneserNeyModel.train(TINY_CORPUS, 3, 1);
    byte[] file = written(model);
    // The last unigram probability's lowest byte, just before the bigram level's discount.
    file[firstLevelLengthAt(model) - 9] ^= 0x01;

    assertThatThrownBy(() -> KneserNeyModel.read(new ByteArrayInputStream(file)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("checksum mismatch");
  }

  @Test
  void shouldRefuseATruncatedFile() throws Exception {
    byte[] file = written(KneserNeyModel.train(TINY_CORPUS, 3, 1));

    assertThatThrownBy(
            () ->
                KneserNeyModel.read(new ByteArrayInputStream(Arrays.copyOf(file, file.length - 3))))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void shouldTrainOnTheEnglishEuroparlDocuments() {
    KneserNeyModel model = EuroparlModelFixture.trigram().model();

    assertThat(model.vocabularySize()).isBetween(5_000, 40_000);
    double[] probabilities = new double[model.vocabularySize()];
    model.distribution(
        new int[] {KneserNeyModel.START, model.id("the"), model.id("european")}, 3, probabilities);
    assertThat(model.word(argmax(probabilities))).isIn("union", "parliament", "commission");
  }

  /** Magic, format and order come first. */
  private static final int VOCABULARY_LENGTH_AT = 12;

  private static byte[] written(KneserNeyModel model) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    model.write(bytes);
    return bytes.toByteArray();
  }

  /** Where the bigram level's first array length is: after the words, unigrams and discount. */
  private static int firstLevelLengthAt(KneserNeyModel model) {
    int at = VOCABULARY_LENGTH_AT + 4;
    for (int id = 0; id < model.vocabularySize(); id++) {
      at += 2 + model.word(id).getBytes(StandardCharsets.UTF_8).length;
    }
    return at + 8 * model.vocabularySize() + 8;
  }

  private static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
