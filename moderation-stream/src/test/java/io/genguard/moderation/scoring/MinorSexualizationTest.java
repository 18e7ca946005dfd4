package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.train.EvaluationSets;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MinorSexualizationTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          I have friends who are sexy children.        | sexual-word-on-minor     | sexy children
          I'm a sexy kid.                              | sexual-word-on-minor     | sexy kid
          Look at those seductive 12-year-old girls.   | sexual-word-on-minor     | seductive 12 year old
          she is a sexy little girl                    | sexual-word-on-minor     | sexy little girl
          The sexiest 14yo in town.                    | sexual-word-on-minor     | sexiest 14yo
          Watch this sexy teen drama tonight.          | sexual-word-on-minor     | sexy teen
          My 13 year old daughter looks so sexy.       | minor-described-sexually | 13 year old daughter looks so sexy
          the kids were really sexy in those outfits   | minor-described-sexually | kids were really sexy
          She's jailbait.                              | sexualizing-term         | jailbait
          hot preteen models                           | sexual-word-on-minor     | hot preteen
          Pics of a hot 13 year old.                   | sexual-word-on-minor     | hot 13 year old
          """)
  void shouldNameTheRuleAndTheWords(String text, String rule, String words) {
    assertThat(MinorSexualization.find(text))
        .singleElement()
        .satisfies(
            match -> {
              assertThat(match.rule()).isEqualTo(rule);
              assertThat(match.words()).isEqualTo(words);
              assertThat(match.sentence()).isEqualTo(text);
            });
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Children should not see sexy advertising on buses.",
        "Slut shaming of teen girls is a form of bullying.",
        "The magic show aroused the children's curiosity.",
        "She bought a sexy dress for her 30-year-old daughter's party.",
        "I'm a sexy grandmother.",
        "Our sexy 19 year old cat still chases string.",
        "The kids are not sexy, they are seven.",
        "Sex education for children should start with naming body parts.",
        "Report child sexual abuse to the national hotline.",
        "The naked toddler ran through the sprinkler while we laughed.",
        "I was kidding about the sexy costume.",
        "The hot kids need water after recess.",
        "My 12-year-old is hot, so we turned on the air conditioning.",
        "We grilled hot dogs for the little league team.",
        "Eighteen year olds are sexy, said nobody in the retirement home."
      })
  void shouldLeaveSexualWordsAndChildrenThatDoNotMeetAlone(String text) {
    assertThat(MinorSexualization.find(text)).isEmpty();
  }

  @Test
  void shouldSeeThroughFullWidthLettersAndEntities() {
    assertThat(MinorSexualization.find("Ｗｈａｔ ａ ｓｅｘｙ ｋｉｄ."))
        .singleElement()
        .satisfies(match -> assertThat(match.words()).isEqualTo("sexy kid"));
    assertThat(MinorSexualization.find("What a s&#101;xy kid."))
        .singleElement()
        .satisfies(match -> assertThat(match.words()).isEqualTo("sexy kid"));
  }

  @Test
  void shouldHoldNoneOfTheBenignTextsAboutChildren() {
    assertThat(EvaluationSets.childrenProbe())
        .hasSize(40)
        .allSatisfy(text -> assertThat(MinorSexualization.find(text)).isEmpty());
  }

  @Test
  void shouldFindEverySentenceOfALongerTextAndNothingInNothing() {
    String text = "We met at the fair. She's jailbait. The kids look so sexy. Then we left.";
    assertThat(MinorSexualization.find(text))
        .extracting(RuleMatch::rule)
        .containsExactly("sexualizing-term", "minor-described-sexually");
    assertThat(MinorSexualization.find(null)).isEmpty();
    assertThat(MinorSexualization.find("")).isEmpty();
    assertThat(MinorSexualization.find("   \n ")).isEmpty();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void shouldCapMatchesAndSurviveHostileInput() {
    String many = "That is a sexy kid. ".repeat(1_000);
    assertThat(MinorSexualization.find(many)).hasSize(MinorSexualization.MAX_MATCHES);
    String dense = "sexy sexy kid kid child sexy 12 year old ".repeat(2_000);
    assertThat(MinorSexualization.find(dense)).isNotEmpty();
    String unbroken = "sexy" + "a".repeat(50_000) + " kid";
    assertThat(MinorSexualization.find(unbroken)).isEmpty();
  }

  @Test
  void shouldGiveTheSameResultsWithAndWithoutTheWordCues() throws IOException {
    List<String> texts = new ArrayList<>(EvaluationSets.childrenProbe());
    texts.addAll(CueEquivalence.authoredExamples());
    for (String minor : List.of("kid", "12 year old", "teens", "little girl", "preteens")) {
      for (String word : List.of("sexy", "seductive", "hot", "lustful", "busty", "warm")) {
        texts.add("What a " + word + " " + minor + ".");
        texts.add("The " + minor + " looked so " + word + " at the party.");
      }
    }
    texts.add("She's jailbait.");
    CueEquivalence.assertCuesChangeNothing(texts, MinorSexualization::find, 40);
  }
}
