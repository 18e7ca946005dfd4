package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.scoring.Category;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
  @Test
  void shouldLabelHateStatementsAsStereotypesAndBenignGroupMentionsAsNot() {
    LabelledText authoredHate =
        LabelledText.unsafe(
            AuthoredExamples.SOURCE, null, "Muslims are savages.", Set.of(Category.HATE), Set.of());
    LabelledText authoredThreat =
        LabelledText.unsafe(
            AuthoredExamples.SOURCE,
            null,
            "I will hurt your family, Muslims or not.",
            Set.of(Category.VIOLENCE),
            Set.of());
    assertThat(TrainCommand.stereotypeLabel(authoredHate)).isEqualTo(LabelledText.POSITIVE);
    assertThat(TrainCommand.stereotypeLabel(authoredThreat)).isEqualTo(LabelledText.UNKNOWN);
    assertThat(
            TrainCommand.stereotypeLabel(
                LabelledText.benign(AuthoredExamples.SOURCE, null, "Muslims are fasting today.")))
        .isEqualTo(LabelledText.NEGATIVE);
    assertThat(
            TrainCommand.stereotypeLabel(
                LabelledText.benign(AuthoredExamples.SOURCE, null, "Rats are clever animals.")))
        .isEqualTo(LabelledText.UNKNOWN);
    assertThat(
            TrainCommand.stereotypeLabel(
                LabelledText.unsafe("davidson", null, "Muslims are savages.", Set.of(), Set.of())))
        .isEqualTo(LabelledText.UNKNOWN);
  }

  @Test
  void shouldLeaveThePreviousModelWholeWhenWritingTheNewOneFails(@TempDir Path dir)
      throws Exception {
    // Before, the model was written in place: a failure part way left a cut model file, under
    // src/main/resources by default, which the next build packed.
    Path model = dir.resolve("ngram-logistic.bin.gz");
    Files.write(model, new byte[] {1, 2, 3});

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                TrainCommand.writeReplacing(
                    model,
                    out -> {
                      out.write(new byte[] {9, 9});
                      throw new IOException("No space left on device (simulated)");
                    }))
        .hasMessageContaining("No space left");

    assertThat(Files.readAllBytes(model)).containsExactly(1, 2, 3);
    try (var files = Files.list(dir)) {
      assertThat(files).as("no temporary file left").containsExactly(model);
    }
    TrainCommand.writeReplacing(model, out -> out.write(new byte[] {4, 5}));
    assertThat(Files.readAllBytes(model)).containsExactly(4, 5);
  }

  @Test
  void shouldRefuseAFlagWhereAValueBelongs() {
    java.util.Set<String> known = java.util.Set.of("out", "data-dir");
    // "--out --data-dir" wrote the models (or quality's report) to a file named --data-dir.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> TrainCommand.parseOptions(new String[] {"--out", "--data-dir"}, known))
        .hasMessage("option --out needs a value");
    assertThat(TrainCommand.parseOptions(new String[] {"--out=--data-dir"}, known))
        .as("a value that starts with -- can still be given with =")
        .containsEntry("out", "--data-dir");
  }

  @Test
  void shouldRefuseAnOptionItDoesNotKnowOrGivenTwiceBeforeLoadingAnything() {
    java.util.Set<String> known = java.util.Set.of("model", "epochs");
    // A typo must not train with the defaults and overwrite the shipped models.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> TrainCommand.parseOptions(new String[] {"--modle", "ngram"}, known))
        .hasMessage("unknown option --modle; the options are --epochs, --model");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                TrainCommand.parseOptions(new String[] {"--model", "ngram", "--model=all"}, known))
        .hasMessageContaining("--model is given twice");
    assertThat(TrainCommand.parseOptions(new String[] {"--model=ngram", "--epochs", "3"}, known))
        .containsEntry("model", "ngram")
        .containsEntry("epochs", "3");
    for (String epochs : new String[] {"0", "-3", "eight", "99999999999"}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  TrainCommand.intOption(java.util.Map.of("epochs", epochs), "epochs", 8, 1, 1_000))
          .as(epochs)
          .hasMessage("--epochs must be a whole number from 1 to 1000, was '" + epochs + "'");
    }
    assertThat(TrainCommand.intOption(java.util.Map.of(), "epochs", 8, 1, 1_000)).isEqualTo(8);
    assertThat(TrainCommand.run(new String[] {"--model", "ngram", "--output", "/tmp/m"}))
        .as("a usage error, before the corpus is read")
        .isEqualTo(2);
    assertThat(TrainCommand.run(new String[] {"--model", "bogus"})).isEqualTo(2);
  }

  @Test
  void shouldWriteUnorderedMapsSortedAndOrderedMapsAsTheyAre(@TempDir Path dir) throws Exception {
    Map<String, Object> heads = new LinkedHashMap<>();
    heads.put("unsafe", 1);
    heads.put("hate", 2);
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("model", "m");
    metrics.put(
        "features", Map.of("dimensions", 4, "wordNgrams", "1-2", "charNgrams", "2-5", "x", 0));
    metrics.put("heads", heads);
    metrics.put("folds", List.of(Map.of("b", 1, "a", 2, "c", 3)));
    Path file = dir.resolve("metrics.json");

    TrainCommand.writeJson(file, metrics);

    String json = Files.readString(file).replaceAll("\\s+", "");
    assertThat(json)
        .isEqualTo(
            "{\"model\":\"m\",\"features\":{\"charNgrams\":\"2-5\",\"dimensions\":4,"
                + "\"wordNgrams\":\"1-2\",\"x\":0},\"heads\":{\"unsafe\":1,\"hate\":2},"
                + "\"folds\":[{\"a\":2,\"b\":1,\"c\":3}]}");
  }
}
