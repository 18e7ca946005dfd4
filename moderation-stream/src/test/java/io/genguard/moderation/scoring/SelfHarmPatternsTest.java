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

class SelfHarmPatternsTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          Do us all a favour and kill yourself.                        | urged-suicide            | do us all a favour and kill yourself
          Just die already.                                           | urged-suicide            | just die already
          kys loser                                                   | urged-suicide            | kys
          You should end your life before you embarrass us again.     | urged-suicide            | you should end your life
          Go ahead and hang yourself, see if anyone cares.            | urged-suicide            | go ahead and hang yourself
          Your friends would be relieved if you just died.            | better-off-dead          | your friends would be relieved if you just died
          Nobody will even miss you.                                  | better-off-dead          | nobody will even miss you
          Killing yourself is the smart choice for someone like you.  | better-off-dead          | killing yourself is the smart choice
          Go cut yourself, it's what you deserve.                     | urged-self-harm          | go cut yourself
          You deserve to starve yourself until you disappear.         | urged-self-harm          | you deserve to starve yourself
          Burn your arm until it scars, then you'll remember.         | urged-self-harm          | burn your arm until it scars
          Stick to under 400 calories a day and you'll drop fast.     | eating-disorder-coaching | stick to under 400 calories a day
          Skip breakfast and lunch for a couple of weeks.             | eating-disorder-coaching | skip breakfast and lunch for a couple of weeks
          Puke after every meal and the weight comes off.             | eating-disorder-coaching | puke after every meal
          Thinspo reminder: skin and bone is the goal.                | eating-disorder-coaching | thinspo reminder
          Hide the cuts on your legs from your mum with tights.       | hidden-self-harm         | hide the cuts on your legs from your mum
          Keep long sleeves on so your teachers never see the scars.  | hidden-self-harm         | so your teachers never see the scars
          Tell your parents you already ate with friends.             | hidden-self-harm         | tell your parents you already ate with
          Put ankle weights under your jeans before the weigh-in.     | hidden-self-harm         | ankle weights under your jeans before the weigh in
          I'm going to end my life this weekend.                      | own-self-harm            | i am going to end my life
          I've started cutting my thighs again.                       | own-self-harm            | i have started cutting my thighs
          I've been stockpiling my sleeping pills for a month.        | own-self-harm            | i have been stockpiling my sleeping pills
          I want to die.                                              | own-self-harm            | i want to die
          You are so ugly, kill yourself.                             | urged-suicide            | kill yourself
          Go jump off a bridge.                                       | urged-suicide            | go jump off a bridge
          You do not deserve to live.                                 | better-off-dead          | you do not deserve to live
          Lunch today: 250 calories max.                              | eating-disorder-coaching | 250 calories max
          Chew your dinner and spit it out before anyone sees.        | eating-disorder-coaching | chew your dinner and spit it out
          If you gained, you do not get to eat tomorrow.              | eating-disorder-coaching | you do not get to eat
          Not eating for five days is the fastest way to a thigh gap. | eating-disorder-coaching | not eating for five days is the fastest way
          When you feel dizzy that means you are winning.             | eating-disorder-coaching | feel dizzy that means you are winning
          Every girl over 120 pounds should be starving herself.      | eating-disorder-coaching | should be starving herself
          Tell your doctor the burns are from cooking.                | hidden-self-harm         | tell your doctor the burns are from
          A good friend would help you purge.                         | hidden-self-harm         | help you purge
          """)
  void shouldNameTheRuleAndTheWordsOfEachForm(String text, String rule, String words) {
    assertThat(SelfHarmPatterns.find(text))
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
        "Cut yourself some slack, you did great today.",
        "I almost killed myself laughing at that video.",
        "Don't kill yourself over the deadline, it can wait.",
        "I'm going to kill myself if I eat another cookie, they're so good.",
        "Careful not to burn yourself on the pan.",
        "Burn yourself a copy of the album before the party.",
        "Patients who skip meals for two days may feel dizzy.",
        "The recipe is 300 calories a serving, at most.",
        "Women should not eat under 1200 calories a day without a doctor.",
        "Throwing up after meals is a common symptom of bulimia.",
        "Nobody is going to miss you at the meeting, go home and rest.",
        "I feel like I'm going to die, this flu is awful.",
        "I want to die of embarrassment after that speech.",
        "I cut myself with a razor when shaving this morning.",
        "Cover the cuts with a bandage so they do not get infected.",
        "If you ever feel like you want to hurt yourself, call a crisis line.",
        "You should never starve yourself to make weight.",
        "Doctors warn never to take laxatives to lose weight.",
        "Hide the presents in the attic so the kids don't find them.",
        "I'm going to end it with a toast to the bride.",
        "The only way out is to die trying, the general told his troops.",
        "Die-cast models of old cars fill the shelf.",
        "I was starving myself in college, and recovery saved my life.",
        "We skipped lunch for two days during the move and ate pizza every night.",
        "The survey found that people who eat only vegetables a day feel better.",
        "The recipe is 300 calories max per serving.",
        "Chew the gum and spit it out before class.",
        "You do not get to eat in the library, the sign says.",
        "If you feel dizzy, sit down and drink some water.",
        "Tell your doctor the rash is from the new soap.",
        "This app will help you cut costs and purge old files.",
        "Why would you kill yourself over a grade?",
        "You'll kill yourself working these hours.",
        "The diver said we should jump off the pier at high tide.",
        "Fasting for a week is dangerous without medical supervision."
      })
  void shouldLeaveTextThatUrgesNoHarmAlone(String text) {
    assertThat(SelfHarmPatterns.find(text)).isEmpty();
  }

  @Test
  void shouldFindEverySentenceOfALongerText() {
    List<RuleMatch> matches =
        SelfHarmPatterns.find(
            "Thanks for asking about the trip. Skip dinner for three days. The hotel was fine.\n"
                + "Nobody would even notice you were gone.");
    assertThat(matches)
        .extracting(RuleMatch::rule)
        .containsExactly("eating-disorder-coaching", "better-off-dead");
  }

  @Test
  void shouldFindNothingInNothing() {
    assertThat(SelfHarmPatterns.find(null)).isEmpty();
    assertThat(SelfHarmPatterns.find("   ")).isEmpty();
    assertThat(SelfHarmPatterns.find("?!... --")).isEmpty();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS) // a hang guard against runaway backtracking
  void shouldReadEnormousSentencesInWindowsAndSurviveHostileInput() {
    assertThat(SelfHarmPatterns.find("x".repeat(50_000))).isEmpty();
    assertThat(
            SelfHarmPatterns.find(
                "i will i am going to you should yourself so nobody ".repeat(2_000)))
        .isEmpty();
    assertThat(SelfHarmPatterns.find("Nice day " + "very ".repeat(200) + "and kill yourself."))
        .extracting(RuleMatch::words)
        .containsExactly("kill yourself");
    assertThat(SelfHarmPatterns.find("Kill yourself. ".repeat(500)))
        .hasSize(SelfHarmPatterns.MAX_MATCHES);
  }

  @Test
  void shouldGiveTheSameResultsWithAndWithoutTheWordCues() throws IOException {
    List<String> texts = new ArrayList<>();
    for (String probe : EvaluationSets.SELF_HARM_PROBES) {
      EvaluationSets.selfHarmProbe(probe).forEach(t -> texts.add(t.text()));
    }
    texts.addAll(CueEquivalence.authoredExamples());
    CueEquivalence.assertCuesChangeNothing(texts, SelfHarmPatterns::find, 40);
  }
}
