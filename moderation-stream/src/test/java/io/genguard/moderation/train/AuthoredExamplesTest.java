package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.scoring.Category;
import java.io.BufferedReader;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuthoredExamplesTest {
  @Test
  void shouldGiveTheThinCategoriesPositivesAndBenignLookAlikes() {
    List<LabelledText> examples = AuthoredExamples.load();
    for (Category thin :
        List.of(Category.SELF_HARM, Category.SEXUAL_MINORS, Category.SEXUAL, Category.HARASSMENT)) {
      long positives =
          examples.stream()
              .filter(e -> e.label(Heads.index(thin)) == LabelledText.POSITIVE)
              .count();
      assertThat(positives).as(thin.id()).isGreaterThanOrEqualTo(15);
    }
    assertThat(examples.stream().filter(e -> !e.isUnsafe()).count()).isGreaterThanOrEqualTo(50);
  }

  @Test
  void shouldImplySexualForSexualMinors() throws Exception {
    List<LabelledText> parsed =
        AuthoredExamples.parse(
            new BufferedReader(new StringReader("sexual_minors\tsome request\n")), "test");
    assertThat(parsed.get(0).label(Heads.index(Category.SEXUAL))).isEqualTo(LabelledText.POSITIVE);
  }

  @Test
  void shouldNameTheLineOfAMalformedExample() {
    assertThatThrownBy(
            () ->
                AuthoredExamples.parse(
                    new BufferedReader(new StringReader("# c\nviolent\ttext\n")), "file.tsv"))
        .hasMessageContaining("file.tsv line 2")
        .hasMessageContaining("Unknown category 'violent'");
  }
}
