package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.evaluation.QualityReport.HolisticResult;
import io.genguard.moderation.evaluation.QualityReport.Rate;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.train.EvaluationSets;
import io.genguard.moderation.train.EvaluationSets.HolisticSentence;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class HolisticTallyTest {
  private static final String BENIGN = "I'm {noun_phrase}.";
  private static final String DISLIKE = EvaluationSets.NEGATIVE_TEMPLATES.get(0);

  @Test
  void shouldCountDislikeTemplatesPerAxisApartFromTheBenignOnes() {
    // The keyword baseline flags exactly the sentences with a listed word ("retarded").
    List<HolisticSentence> sentences =
        List.of(
            sentence("I'm a retarded man.", "ability", "retarded", BENIGN),
            sentence("I'm a Deaf man.", "ability", "Deaf", BENIGN),
            sentence("I hate retarded men.", "ability", "retarded", DISLIKE),
            sentence("I hate Deaf men.", "ability", "Deaf", DISLIKE),
            sentence("I hate Sikh men.", "religion", "Sikh", DISLIKE));

    HolisticResult result = tally(sentences);

    assertThat(result.benign()).isEqualTo(new Rate(1, 2));
    assertThat(result.byAxis()).containsOnlyKeys("ability");
    assertThat(result.negativeTemplates()).isEqualTo(new Rate(1, 3));
    assertThat(result.negativeByAxis())
        .containsEntry("ability", new Rate(1, 2))
        .containsEntry("religion", new Rate(0, 1))
        .hasSize(2);
  }

  @Test
  void shouldCountADescriptorListedUnderTwoAxesOnceAndNameBothAxes() {
    List<HolisticSentence> sentences =
        List.of(
            sentence("I'm a queer man.", "gender_and_sex", "queer", BENIGN),
            sentence("I'm a queer woman.", "sexual_orientation", "queer", BENIGN),
            sentence("I'm a queer person.", "gender_and_sex", "queer", BENIGN));

    HolisticResult result = tally(sentences);

    assertThat(result.byDescriptor()).containsOnlyKeys("queer");
    assertThat(result.byDescriptor().get("queer").n()).isEqualTo(3);
    assertThat(result.descriptorAxis())
        .containsEntry("queer", "gender_and_sex, sexual_orientation");
  }

  @Test
  void shouldCountASexualDescriptorOnAChildNounApartAndNotAsBenign() {
    List<HolisticSentence> sentences =
        List.of(
            sentence("I'm a sexy man.", "body_type", "sexy", "man", BENIGN),
            sentence("I'm a sexy kid.", "body_type", "sexy", "kid", BENIGN),
            sentence("I have friends who are sexy children.", "body_type", "sexy", "child", BENIGN),
            sentence("I'm a cute kid.", "body_type", "cute", "kid", BENIGN),
            sentence("I hate sexy kids.", "body_type", "sexy", "kid", DISLIKE));

    HolisticResult result = tally(sentences);

    assertThat(result.sexualizedChildren().n()).isEqualTo(2);
    assertThat(result.benign().n()).isEqualTo(2);
    assertThat(result.byDescriptor().get("sexy").n()).isEqualTo(1);
    assertThat(result.byDescriptor().get("cute").n()).isEqualTo(1);
    assertThat(result.negativeTemplates().n()).isEqualTo(1);
    assertThat(sentences.get(0).benign()).isTrue();
    assertThat(sentences.get(1).benign()).isFalse();
    assertThat(sentences.get(4).benign()).isFalse();
  }

  @Test
  void shouldGiveTheBucketRatioOverPreferredDescriptorsToo() {
    List<HolisticSentence> sentences = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      sentences.add(
          new HolisticSentence(
              "I'm a Deaf man " + i + ".", "ability", "hearing", "Deaf", false, "man", BENIGN));
      sentences.add(
          new HolisticSentence(
              "I'm a retarded man " + i + ".",
              "ability",
              "hearing",
              "retarded",
              true,
              "man",
              BENIGN));
      sentences.add(
          new HolisticSentence(
              "I'm a Sikh man " + i + ".", "religion", "sikh", "Sikh", false, "man", BENIGN));
    }

    HolisticResult result = tally(sentences);

    assertThat(result.minMaxPassRatioBuckets()).isEqualTo(0.5);
    assertThat(result.minMaxPassRatioPreferredBuckets()).isEqualTo(1.0);
  }

  /** The quality report's HolisticBias tally of {@code sentences}, by the keyword baseline. */
  private static HolisticResult tally(List<HolisticSentence> sentences) {
    PolicySet policies = PolicyLoader.loadDefault();
    QualityReport report =
        new QualityReport(new PrintStream(new ByteArrayOutputStream()), policies);
    return report.holistic(
        KeywordBaselineScorer.loadDefault(),
        "keyword-baseline",
        policies.defaultPolicy(),
        sentences);
  }

  private static HolisticSentence sentence(
      String text, String axis, String descriptor, String template) {
    return sentence(text, axis, descriptor, "man", template);
  }

  private static HolisticSentence sentence(
      String text, String axis, String descriptor, String noun, String template) {
    return new HolisticSentence(text, axis, "bucket", descriptor, false, noun, template);
  }
}
