package io.genguard.moderation.bias;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.scoring.RuleMatch;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PrejudiceFramesTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          I'm not racist, but Nigerians are all liars.             | disclaimer       | i am not racist but nigerians are
          Call me a bigot, but Catholics are hypocrites.           | disclaimer       | call me a bigot but catholics are
          I have nothing against Jews, I just don't trust them.    | disclaimer       | i have nothing against jews i just
          With all due respect, blind people can't raise children. | concession       | with all due respect blind people can
          Everybody knows Gypsies steal.                           | common-knowledge | everybody knows gypsies steal
          It's a fact that Muslims hate freedom.                   | appeal-to-fact   | it is a fact that muslims hate
          Statistics show that immigrants are criminals.           | appeal-to-fact   | statistics show that immigrants are
          I'm just saying, old people should not vote.             | just-saying      | i am just saying old people should
          Let's be honest, lesbians are confused.                  | just-saying      | let be honest lesbians are
          """)
  void shouldNameTheFrameAndTheWords(String text, String frame, String words) {
    assertThat(PrejudiceFrames.find(text))
        .singleElement()
        .satisfies(
            match -> {
              assertThat(match.rule()).isEqualTo(frame);
              assertThat(match.words()).isEqualTo(words);
              assertThat(match.sentence()).isEqualTo(text);
            });
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // Frames about no group.
        "I'm not racist, but this playlist is terrible.",
        "No offense, but your essay needs another draft.",
        "Everyone knows the bus is late on Mondays.",
        // A group, but no frame.
        "Nigerians are famous for their music.",
        // A frame and a group, but no statement of the group right after it.
        "No offense, but the Nigerians next door play their music too loud at night.",
        // Reported, quoted or rejected prejudice.
        "He said: I'm not racist, but Nigerians are lazy. He was fired.",
        "The post read \"I'm not racist, but Nigerians are lazy\" and was removed.",
        "My neighbor claims everyone knows immigrants are criminals.",
        "It's a myth that everyone knows Jews are rich.",
        "It is not true that atheists are immoral.",
        // A single adverb is not a frame.
        "Honestly, Catholics are the kindest neighbors we have.",
        ""
      })
  void shouldNotMatch(String text) {
    assertThat(PrejudiceFrames.find(text)).isEmpty();
  }

  @Test
  void shouldFindEachFramedSentenceOfALongerText() {
    List<RuleMatch> matches =
        PrejudiceFrames.find(
            "We talked about the trip. No offense, but Italians are drunks. And everyone knows"
                + " Gypsies steal.\nAnyway, see you Friday.");
    assertThat(matches)
        .extracting(RuleMatch::sentence)
        .containsExactly(
            "No offense, but Italians are drunks.", "And everyone knows Gypsies steal.");
  }

  @Test
  void shouldKeepAtMostTheCapOfMatches() {
    String text = "No offense, but Nigerians are liars. ".repeat(PrejudiceFrames.MAX_MATCHES + 5);
    assertThat(PrejudiceFrames.find(text)).hasSize(PrejudiceFrames.MAX_MATCHES);
  }

  @Test
  void shouldFindAFrameLateInALongSentenceAndCountTheSentenceOnce() {
    String preamble = "we walked by the river and talked about the garden and the weather ";
    String late = preamble.repeat(11) + "and no offense, but Italians are drunks";
    String inTheOverlap =
        preamble.repeat(5) + "and no offense, but Italians are drunks " + preamble;

    assertThat(PrejudiceFrames.find(late))
        .extracting(RuleMatch::words)
        .containsExactly("no offense but italians are");
    assertThat(PrejudiceFrames.find(inTheOverlap))
        .extracting(RuleMatch::words)
        .containsExactly("no offense but italians are");
  }
}
