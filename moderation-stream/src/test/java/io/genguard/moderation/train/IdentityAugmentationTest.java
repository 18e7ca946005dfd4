package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityAugmentationTest {
  private static LabelledText unsafe(String text) {
    return LabelledText.unsafe("test", null, text, Set.of(), Set.of());
  }

  private static LabelledText benign(String text) {
    return LabelledText.benign("test", null, text);
  }

  private static long mentioning(List<LabelledText> sentences, String descriptor) {
    return sentences.stream()
        .filter(t -> IdentityAugmentation.uses(descriptor, List.of(t))[0] == 1)
        .count();
  }

  @Test
  void shouldCountWholeWordUsesCaseInsensitivelyWithPlurals() {
    List<LabelledText> reference =
        List.of(
            unsafe("Those QUEERS again"),
            unsafe("what a queer thing to say"),
            unsafe("queerly enough"), // another word
            benign("A queer poet's first book"),
            benign("whitewash the fence")); // not "white"
    assertThat(IdentityAugmentation.uses("queer", reference)).containsExactly(1, 2);
    assertThat(IdentityAugmentation.uses("white", reference)).containsExactly(0, 0);
    assertThat(IdentityAugmentation.uses("Native American", List.of(benign("native americans"))))
        .containsExactly(1, 0);
  }

  @Test
  void shouldGiveADescriptorUsedMostlyInUnsafeTextMoreBenignSentences() {
    List<LabelledText> none = IdentityAugmentation.generate(List.of());
    List<LabelledText> reference = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      reference.add(unsafe("you are so queer number " + i));
    }
    List<LabelledText> skewed = IdentityAugmentation.generate(reference);

    long before = mentioning(none, "queer");
    long after = mentioning(skewed, "queer");
    assertThat(before).isBetween(1L, (long) IdentityAugmentation.PER_DESCRIPTOR);
    // 4 x 30 draws, fewer after removing repeated draws, far more than the floor
    assertThat(after).isGreaterThan(3L * IdentityAugmentation.PER_DESCRIPTOR);
    assertThat(mentioning(skewed, "Sikh"))
        .isBetween(1L, (long) IdentityAugmentation.PER_DESCRIPTOR); // not in the reference
    assertThat(skewed).allMatch(t -> !t.isUnsafe());
    assertThat(skewed)
        .allMatch(t -> t.source().equals(IdentityAugmentation.SOURCE))
        .allMatch(t -> !t.text().toLowerCase(Locale.ROOT).contains("{"));
  }

  @Test
  void shouldCapTheSentencesOfOneDescriptor() {
    List<LabelledText> reference = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      reference.add(unsafe("gay " + i));
    }
    long count = mentioning(IdentityAugmentation.generate(reference), "gay");
    assertThat(count).isLessThanOrEqualTo(IdentityAugmentation.MAX_PER_DESCRIPTOR);
  }
}
