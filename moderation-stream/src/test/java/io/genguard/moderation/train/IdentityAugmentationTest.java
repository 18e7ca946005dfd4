package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.scoring.Category;
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
    assertThat(skewed)
        .allMatch(
            t ->
                t.source().equals(IdentityAugmentation.CONTRAST_SOURCE)
                    ? t.isUnsafe()
                    : !t.isUnsafe() && t.source().equals(IdentityAugmentation.SOURCE))
        .allMatch(t -> !t.text().toLowerCase(Locale.ROOT).contains("{"));
  }

  @Test
  void shouldGiveProtectedGroupsAFewHateLabelledContrastTwins() {
    List<LabelledText> twins =
        IdentityAugmentation.generate(List.of()).stream()
            .filter(t -> t.source().equals(IdentityAugmentation.CONTRAST_SOURCE))
            .toList();
    assertThat(twins)
        .isNotEmpty()
        .allMatch(LabelledText::isUnsafe)
        .allMatch(t -> t.label(Heads.index(Category.HATE)) == LabelledText.POSITIVE)
        .allMatch(t -> t.label(Heads.index(Category.HARASSMENT)) == LabelledText.UNKNOWN)
        .allMatch(t -> t.label(Heads.index(Category.SEXUAL)) == LabelledText.NEGATIVE);
    assertThat(IdentityAugmentation.namesProtectedGroup("Jewish")).isTrue();
    assertThat(IdentityAugmentation.namesProtectedGroup("gay")).isTrue();
    assertThat(IdentityAugmentation.namesProtectedGroup("tall")).isFalse();
    assertThat(IdentityAugmentation.namesProtectedGroup("redneck")).isFalse();
    assertThat(IdentityAugmentation.uses("Jewish", twins)[1])
        .isBetween(1, IdentityAugmentation.HOSTILE_PER_DESCRIPTOR);
    assertThat(IdentityAugmentation.uses("tall", twins)).containsExactly(0, 0);
    assertThat(IdentityAugmentation.uses("redneck", twins)).containsExactly(0, 0);
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

  @Test
  void shouldGiveANounUsedMostlyInUnsafeTextItsOwnSentences() {
    List<LabelledText> reference = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      reference.add(unsafe("shut up bro number " + i));
    }
    reference.add(unsafe("those bros again")); // plural
    long before = mentioning(IdentityAugmentation.generate(List.of()), "bro");
    List<LabelledText> skewed = IdentityAugmentation.generate(reference);
    long after = mentioning(skewed, "bro");
    // the descriptors' random draws alone, then about 4 x 41 more, under their own source
    assertThat(after - before).isGreaterThan(100L);
    assertThat(
            skewed.stream()
                .filter(t -> t.source().equals(IdentityAugmentation.NOUN_SOURCE))
                .filter(t -> IdentityAugmentation.uses("bro", List.of(t))[0] == 1)
                .count())
        .isEqualTo(after - before);
    assertThat(IdentityAugmentation.uses(List.of("bro", "bros"), reference)).containsExactly(0, 41);
  }

  @Test
  void shouldNeverPairLooksWithANounThatCanNameAChild() {
    List<LabelledText> reference = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      // skew the looks descriptors and the minor nouns, so that pairs would be drawn often
      reference.add(unsafe("a curvy hunky beautiful kid child girl boy " + i));
    }
    List<String> minors =
        List.of("kid", "kids", "child", "children", "girl", "girls", "boy", "boys", "teenager");
    List<String> looks = List.of("attractive", "handsome", "beautiful", "hunky", "curvy", "petite");
    List<LabelledText> sentences = IdentityAugmentation.generate(reference);
    // descriptor and noun stand side by side in every template ("a curvy woman")
    assertThat(sentences)
        .anyMatch(t -> pairs(t, looks, List.of("woman", "women", "person", "people")))
        .anyMatch(t -> pairs(t, List.of("gay", "deaf"), minors))
        .noneMatch(t -> pairs(t, looks, minors));
  }

  private static boolean pairs(LabelledText text, List<String> descriptors, List<String> nouns) {
    List<String> words = List.of(text.text().toLowerCase(Locale.ROOT).split("[^a-z-]+"));
    for (int i = 0; i + 1 < words.size(); i++) {
      if (descriptors.contains(words.get(i)) && nouns.contains(words.get(i + 1))) {
        return true;
      }
    }
    return false;
  }

  @Test
  void shouldRefuseAMalformedNounLine() {
    assertThat(IdentityAugmentation.noun("kid|kids|minor").minor()).isTrue();
    assertThat(IdentityAugmentation.noun("bro|bros").minor()).isFalse();
    assertThatThrownBy(() -> IdentityAugmentation.noun("kid"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("singular|plural");
    assertThatThrownBy(() -> IdentityAugmentation.noun("kid|kids|young"))
        .isInstanceOf(IllegalStateException.class);
  }
}
