package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.moderation.bias.IdentityLexicon.Mention;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CounterfactualAugmentationTest {
  private final IdentityLexicon lexicon = IdentityLexicon.loadDefault();
  private final CounterfactualAugmentation augmentation = new CounterfactualAugmentation(lexicon);

  @Test
  void shouldSwapEveryNamedGroupForAnotherAndKeepTheRest() {
    for (int seed = 0; seed < 50; seed++) {
      String swapped =
          augmentation.swap("Women are too emotional to lead, unlike Muslims.", new Random(seed));
      assertThat(swapped).contains(" are too emotional to lead unlike ");
      List<String> groups = groups(swapped);
      assertThat(groups).hasSize(2);
      assertThat(groups.get(0)).isNotEqualTo("gender:women");
      assertThat(groups.get(1)).isNotEqualTo("religion:muslim");
    }
  }

  @Test
  void shouldKeepThePersonNounOfAQualifiedGroup() {
    String swapped = augmentation.swap("Black people are good at sports.", new Random(7));
    assertThat(swapped).endsWith("people are good at sports");
    assertThat(groups(swapped)).hasSize(1).doesNotContain("race_ethnicity:black");
  }

  @Test
  void shouldLeaveSlursAndTextsWithoutGroupsAlone() {
    assertThat(augmentation.swap("The budget was approved on Friday.", new Random(1))).isNull();
    String withSlur = augmentation.swap("Those bitches and those women.", new Random(3));
    assertThat(withSlur).contains("bitches").doesNotContain(" women");
  }

  @Test
  void shouldBeRepeatableForOneSeed() {
    String text = "Old people and immigrants ruin everything.";
    assertThat(augmentation.swap(text, new Random(42)))
        .isEqualTo(augmentation.swap(text, new Random(42)));
  }

  private List<String> groups(String text) {
    return lexicon.mentions(IdentityLexicon.words(text)).stream()
        .map(Mention::entry)
        .map(IdentityLexicon.Entry::groupId)
        .toList();
  }
}
