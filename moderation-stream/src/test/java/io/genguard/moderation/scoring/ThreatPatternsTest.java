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

class ThreatPatternsTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          I'm coming to the warehouse to shoot the manager.           | announced-violence           | i am coming to the warehouse to shoot the manager
          we'll break both your hands so you never play again         | announced-violence           | we will break both your hands
          imma kill u                                                  | announced-violence           | i am going to kill you
          Go make her bleed, her address is in the chat.              | incitement                   | go make her bleed
          ur gonna get stabbed next time u walk past my block          | violence-announced-to-target | your going to get stabbed
          Drop the complaint or your wife gets hurt.                   | conditional-harm             | or your wife gets hurt
          You won't make it to the parking lot alive.                  | survival-denied              | you will not make it to the parking lot alive
          You're a dead man.                                           | death-announced              | you are a dead man
          you're going to die tonight                                  | death-announced              | you are going to die
          I'll blow your head off.                                     | announced-violence           | i will blow your head off
          He's going to end up in the river.                           | threat-idiom                 | he is going to end up in the river
          They'll need dental records to identify you.                 | threat-idiom                 | need dental records
          I'll be waiting at your car with a bat.                      | armed-approach               | be waiting at your car with a bat
          Tomorrow I'm bringing my dad's pistol to school.             | armed-intent                 | i am bringing my dad pistol to school
          I'm driving my truck straight into the crowd.               | vehicle-attack               | driving my truck straight into the crowd
          It would be a shame if something happened to your kids.      | veiled-threat                | it would be a shame if something happened to
          Be a shame if your car stopped working on the highway.       | veiled-threat                | be a shame if your car stopped working
          We know where he sleeps.                                     | veiled-threat                | we know where he sleeps
          You'd better sleep with one eye open.                        | threat-idiom                 | you would better sleep with one eye open
          I know where your wife works.                                | veiled-threat                | i know where your wife works
          Somebody should teach that judge a lesson with a tire iron.  | veiled-threat                | teach that judge a lesson with a tire iron
          """)
  void shouldNameTheRuleAndTheWordsOfEachKindOfThreat(String text, String rule, String words) {
    assertThat(ThreatPatterns.find(text))
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
        "How can I kill a Python process?",
        "It would be a shame if the rain ruined the party.",
        "It would be a shame if the kitchen caught fire, so keep an extinguisher by the stove.",
        "I know where you got that jacket, it's the shop on Main Street.",
        "I know where your keys are, they're on the hook.",
        "I know where you live, so I'll drop the spare keys off tonight.",
        "Someone should teach him a lesson in manners.",
        "New parents learn to sleep with one eye open for the first few months.",
        "That would be a pity if it rained on the parade.",
        "My mom is going to kill me when she sees the scratch on her car.",
        "i'm gonna beat you at mario kart after class",
        "I will never let anyone hurt you.",
        "I'll cut you a deal on the second sofa.",
        "We will kill this proposal in committee.",
        "The detective shot the smuggler on the pier.",
        "Let's shoot the trailer at the old mill on Sunday.",
        "This spicy sauce is going to kill you, it's that good.",
        "I'm going to set the table while you're sleeping upstairs.",
        "You're dead right about the budget.",
        "At the clinic on Friday, everyone gets their flu shot for free.",
        "I'll stab the next potato with a fork to see if it's cooked.",
        "We are going to make sure nobody hurts you again.",
        "You're going to die laughing at this movie.",
        "I'll pull my hair out if this build fails again.",
        "I'll kick your butt at chess tonight.",
        "i swear to god ill run you over to the airport if you need a ride",
        "I'll break your headphones if you leave them on the stairs again.",
        "We will kill youth unemployment within five years.",
        "The old bridge will end up in the river if nobody repairs it."
      })
  void shouldLeaveViolentWordsThatThreatenNobodyAlone(String text) {
    assertThat(ThreatPatterns.find(text)).isEmpty();
  }

  @Test
  void shouldReadChatSpellingsAndContractionsAsWords() {
    assertThat(ThreatPatterns.normalize("Ur gonna regret it, I'm sure; they'll SEE, won't they?"))
        .isEqualTo("your going to regret it i am sure they will see will not they");
    assertThat(ThreatPatterns.normalize("My dad\u2019s car isn't 'here'"))
        .isEqualTo("my dad car is not here");
  }

  @Test
  void shouldFindEveryThreateningSentenceOfALongerText() {
    List<RuleMatch> matches =
        ThreatPatterns.find(
            "Thanks for the update on the project.\nI will hurt you. The meeting is at ten."
                + " You won't leave that office alive.");
    assertThat(matches)
        .extracting(RuleMatch::rule)
        .containsExactly("announced-violence", "survival-denied");
  }

  @Test
  void shouldFindNothingInNothing() {
    assertThat(ThreatPatterns.find(null)).isEmpty();
    assertThat(ThreatPatterns.find("   ")).isEmpty();
    assertThat(ThreatPatterns.find("?!... --")).isEmpty();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS) // a hang guard against runaway backtracking
  void shouldReadEnormousSentencesInWindowsAndSurviveHostileInput() {
    String noSpaces = "x".repeat(50_000);
    String repeated = "i will i am going to the you your ".repeat(2_000);
    assertThat(ThreatPatterns.find(noSpaces)).isEmpty();
    assertThat(ThreatPatterns.find(repeated)).isEmpty();
    // A long sentence counts once, with the window its first match is in.
    assertThat(ThreatPatterns.find("I will shoot you " + "very ".repeat(200)))
        .singleElement()
        .satisfies(
            early ->
                assertThat(early.sentence())
                    .startsWith("I will shoot you very")
                    .hasSizeBetween(
                        RuleSentence.WINDOW_CHARS,
                        RuleSentence.WINDOW_CHARS + RuleSentence.WORD_SLACK));
    assertThat(ThreatPatterns.find("Nice day " + "very ".repeat(200) + "and I will shoot you."))
        .singleElement()
        .satisfies(
            late -> {
              assertThat(late.words()).isEqualTo("i will shoot you");
              assertThat(late.sentence()).endsWith("and I will shoot you.");
            });
    assertThat(ThreatPatterns.find("very ".repeat(70) + "I will shoot you " + "very ".repeat(100)))
        .as("seen by two overlapping windows, counted once")
        .hasSize(1);
    assertThat(ThreatPatterns.find("I will hurt you. ".repeat(500)))
        .hasSize(ThreatPatterns.MAX_MATCHES);
  }

  @Test
  void shouldFindAThreatAtTheEndOfALongRunOnSentence() {
    String runOn =
        "so we spent the whole afternoon walking along the river and talking about the garden"
            + " and the new shed and the neighbours and the price of tomatoes at the market";
    StringBuilder benign = new StringBuilder();
    while (benign.length() < 720) {
      benign.append(runOn).append(' ');
    }
    String threat = "and I am coming to the warehouse tomorrow to shoot the manager.";

    assertThat(ThreatPatterns.find(benign.substring(0, 720) + " " + threat))
        .singleElement()
        .satisfies(
            match -> {
              assertThat(match.rule()).isEqualTo("announced-violence");
              assertThat(match.words()).endsWith("to shoot the manager");
            });
    assertThat(ThreatPatterns.find(benign.substring(0, 720))).isEmpty();
  }

  @Test
  void shouldGiveTheSameResultsWithAndWithoutTheWordCues() throws IOException {
    List<String> texts = new ArrayList<>();
    for (String probe : EvaluationSets.THREAT_PROBES) {
      EvaluationSets.threatProbe(probe).forEach(t -> texts.add(t.text()));
    }
    texts.addAll(CueEquivalence.authoredExamples());
    CueEquivalence.assertCuesChangeNothing(texts, ThreatPatterns::find, 100);
  }

  @Test
  void shouldExpandEveryChatSpellingAndLeaveEveryOtherWordAsItLookedItUp() {
    // The words the rules read: every spelling, every word of up to three letters, and random
    // longer ones (digits too); each as the lookup of every word up to the longest spelling gave.
    List<String> words = new ArrayList<>(ThreatPatterns.spellings());
    String letters = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (char a : letters.toCharArray()) {
      words.add("" + a);
      for (char b : letters.toCharArray()) {
        words.add("" + a + b);
        for (char c : letters.toCharArray()) {
          words.add("" + a + b + c);
        }
      }
    }
    java.util.SplittableRandom random = new java.util.SplittableRandom(48);
    for (int i = 0; i < 200_000; i++) {
      StringBuilder word = new StringBuilder();
      int length = random.nextInt(4, 9);
      for (int k = 0; k < length; k++) {
        word.append(letters.charAt(random.nextInt(random.nextBoolean() ? 26 : letters.length())));
      }
      words.add(word.toString());
    }
    for (String spelling : ThreatPatterns.spellings()) {
      assertThat(ThreatPatterns.normalize(spelling)).isNotEqualTo(spelling);
    }
    int longest = ThreatPatterns.spellings().stream().mapToInt(String::length).max().orElse(0);
    for (String word : words) {
      if (!TextNormalizer.normalize("x " + word + " x").equals("x " + word + " x")) {
        continue; // a run of four letters, or the retweet marker "rt": the normalizer's, first
      }
      String expected = word.length() <= longest ? ThreatPatterns.expand(word) : word;
      assertThat(ThreatPatterns.normalize(word)).as(word).isEqualTo(expected);
      assertThat(ThreatPatterns.normalize("x " + word + " x")).isEqualTo("x " + expected + " x");
    }
  }
}
