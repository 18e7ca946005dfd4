package io.genguard.moderation.bias;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BiasAnalyzerTest {
  private static BiasAnalyzer analyzer;

  @BeforeAll
  static void load() {
    analyzer = BiasAnalyzer.loadDefault();
  }

  @Test
  void shouldFindGroupsOnEveryAxis() {
    assertThat(analyzer.groups("My neighbour is a Muslim woman who uses a wheelchair."))
        .containsExactly("disability:disabled", "gender:women", "religion:muslim");
    assertThat(analyzer.groups("Gay and bisexual teenagers from Mexican immigrant families"))
        .containsExactly(
            "age:young",
            "nationality:immigrant",
            "nationality:mexican",
            "sexual_orientation:bisexual",
            "sexual_orientation:gay");
    assertThat(analyzer.groups("She is a nonbinary Jewish author"))
        .contains("gender_identity:nonbinary", "religion:jewish");
    assertThat(analyzer.groups("Asian Americans and Latinos voted"))
        .containsExactly("race_ethnicity:asian", "race_ethnicity:latino");
  }

  @Test
  void shouldCountAmbiguousAdjectivesOnlyBeforeAPersonNoun() {
    assertThat(analyzer.groups("I drink black coffee in my old house")).isEmpty();
    assertThat(analyzer.groups("Black people and old men were at the meeting"))
        .containsExactly("age:old", "gender:men", "race_ethnicity:black");
    assertThat(analyzer.groups("black trans women lead the march"))
        .contains("race_ethnicity:black", "gender_identity:transgender");
  }

  @Test
  void shouldPreferTheLongestPhrase() {
    assertThat(analyzer.groups("Native Americans have lived here for millennia"))
        .containsExactly("race_ethnicity:native_american");
  }

  @Test
  void shouldMarkGroupsTheTextGeneralizesAboutAsTargeted() {
    BiasFindings findings =
        analyzer.analyze("Immigrants are all criminals and they should go back");
    assertThat(findings.targetedGroups()).containsExactly("nationality:immigrant");
    assertThat(analyzer.analyze("jews control the banks").targetedGroups())
        .containsExactly("religion:jewish");
    BiasFindings neutral = analyzer.analyze("The immigrant family opened a bakery on Main Street");
    assertThat(neutral.groups()).containsExactly("nationality:immigrant");
    assertThat(neutral.targetedGroups()).isEmpty();
  }

  @Test
  void shouldMarkAGroupNamedByASlurAsTargeted() {
    assertThat(analyzer.analyze("look at that faggot over there").targetedGroups())
        .containsExactly("sexual_orientation:gay");
  }

  @Test
  void shouldRaiseTheStereotypeSignalForImplicitlyDemeaningStatements() {
    String[][] demeaningAndNeutral = {
      {
        "immigrants only come here to live off welfare and take our jobs",
        "immigrants opened many of the small shops on our street"
      },
      {
        "disabled people are a burden on everyone around them",
        "disabled people competed in the paralympic games"
      },
      {
        "muslims are all terrorists who want to destroy our way of life",
        "I am a muslim and I love my neighbours"
      }
    };
    for (String[] pair : demeaningAndNeutral) {
      double demeaning = analyzer.analyze(pair[0]).stereotypeScore();
      double neutral = analyzer.analyze(pair[1]).stereotypeScore();
      // Each pair on the right side of the calibrated head's own boundary (0.5): the demeaning
      // statement more likely than not a stereotype, the neutral one about the same group not. Not
      // necessarily above the policy's REVIEW threshold (0.80): the welfare statement scored 0.79
      // once the head trained on counterfactual copies (groups swapped), 0.68 after the identity
      // pass of 2026-12-03 and 0.58 after that day's templates and threats (its neutral twin 0.19);
      // each retraining moves single statements, the held-out ToxiGen figures in QUALITY.md are the
      // measure. The policy still holds all three, on the hate score: the welfare and terrorist
      // statements are blocked by the rule on unsafe content aimed at a named group, the burden
      // statement goes to review.
      assertThat(demeaning).as(pair[0]).isGreaterThan(0.5);
      assertThat(neutral).as(pair[1]).isLessThan(0.5);
    }
    // Weaker, but still ordered: gender stereotypes are rarer in ToxiGen's training statements.
    assertThat(
            analyzer
                .analyze("women are too emotional to be trusted with important decisions at work")
                .stereotypeScore())
        .isGreaterThan(
            analyzer
                .analyze("women have been voting in national elections for about a century")
                .stereotypeScore());
  }

  @Test
  void shouldReportNothingForTextThatMentionsNoGroup() {
    assertThat(analyzer.analyze("The train to Boston leaves at noon."))
        .isEqualTo(BiasFindings.NONE);
  }

  @Test
  void shouldNameItsLexiconAndModelVersions() {
    assertThat(analyzer.versions()).containsOnlyKeys("identity-lexicon", "stereotype-ngram");
    assertThat(analyzer.versions().get("identity-lexicon")).contains("sha256:");
  }

  @Test
  void shouldRejectALexiconLineWithAnUnknownAxis() {
    assertThatThrownBy(
            () -> IdentityLexicon.parse("# x\nclass\trich\trich\t-\n", "lexicon.tsv", "t"))
        .hasMessageContaining("lexicon.tsv line 2")
        .hasMessageContaining("unknown axis 'class'");
  }
}
