package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NgramLogisticModelTest {
  private static final int DIMENSIONS = 1 << 10;

  private static NgramLogisticModel model(KnownWords knownWords) {
    float[] weights = new float[DIMENSIONS];
    Arrays.fill(weights, 0.5f);
    Map<String, LinearHead> heads = new LinkedHashMap<>();
    for (String name : List.of("hate", "violence")) {
      heads.put(name, new LinearHead(name, weights, 0.0, PlattCalibration.IDENTITY));
    }
    return new NgramLogisticModel(
        "0.0.1", new HashedNgramFeatures(DIMENSIONS, 2, 2, 5, knownWords), heads);
  }

  @Test
  void shouldScoreWithTheDictionaryOnlyTheHeadsItAppliesTo() {
    NgramLogisticModel model = model(KnownWords.of(List.of("fitch"), List.of(), List.of("hate")));
    Map<String, Double> margins = model.margins("fitch");
    // same weights; the hate head sees only the word, the violence head its n-grams as well
    assertThat(margins.get("hate")).isNotEqualTo(margins.get("violence"));
    NgramLogisticModel withoutDictionary = model(KnownWords.NONE);
    assertThat(margins.get("violence"))
        .isEqualTo(withoutDictionary.margins("fitch").get("violence"));
    assertThat(model.probability("hate", "fitch"))
        .isEqualTo(PlattCalibration.IDENTITY.probability(margins.get("hate")));
  }

  @Test
  void shouldKeepTheDictionaryThroughWritingAndReading() throws Exception {
    NgramLogisticModel model =
        model(KnownWords.of(List.of("fitch", "pitch"), List.of("pitch"), List.of("hate")));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    model.write(bytes);
    NgramLogisticModel reread =
        NgramLogisticModel.read(new ByteArrayInputStream(bytes.toByteArray()));
    KnownWords known = reread.features().knownWords();
    assertThat(known.sortedWords()).containsExactly("fitch", "pitch");
    assertThat(known.sortedFrequentWords()).containsExactly("pitch");
    assertThat(known.sortedHeads()).containsExactly("hate");
    assertThat(reread.margins("a fitch and a pitch"))
        .isEqualTo(model.quantized().margins("a fitch and a pitch"));
  }

  /**
   * A file header as {@link NgramLogisticModel#write} starts it: 16 dimensions, n-grams 2 / 2-5.
   */
  private static java.io.DataOutputStream header(ByteArrayOutputStream bytes, int format)
      throws java.io.IOException {
    java.io.DataOutputStream data =
        new java.io.DataOutputStream(new java.util.zip.GZIPOutputStream(bytes));
    data.writeInt(0x47474e47);
    data.writeInt(format);
    data.writeUTF("0.9.0");
    data.writeInt(16);
    data.writeInt(2);
    data.writeInt(2);
    data.writeInt(5);
    return data;
  }

  @Test
  void shouldReadFormatOneModelsWithoutAVocabulary() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (java.io.DataOutputStream data = header(bytes, 1)) {
      data.writeInt(1);
      data.writeUTF("unsafe");
      data.writeDouble(0.5);
      data.writeDouble(1.0);
      data.writeDouble(0.0);
      data.writeFloat(0.01f);
      data.write(new byte[16]);
    }
    NgramLogisticModel model =
        NgramLogisticModel.read(new ByteArrayInputStream(bytes.toByteArray()));
    assertThat(model.features().knownWords()).isSameAs(KnownWords.NONE);
    assertThat(model.modelVersion()).isEqualTo("0.9.0");
    assertThat(model.margins("anything")).containsEntry("unsafe", 0.5);
  }

  @Test
  void shouldRejectAFileWithAnImpossibleNumberOfWords() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (java.io.DataOutputStream data = header(bytes, 2)) {
      data.writeInt(-3);
    }
    assertThatThrownBy(() -> NgramLogisticModel.read(new ByteArrayInputStream(bytes.toByteArray())))
        .hasMessageContaining("declares -3 known words");
  }
}
