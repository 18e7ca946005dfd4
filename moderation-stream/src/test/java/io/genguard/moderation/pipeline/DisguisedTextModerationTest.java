package io.genguard.moderation.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.policy.ReasonCodes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A threat or an urging to self-harm disguised with invisible characters inside its words or with
 * Cyrillic look-alike letters, through the shipped pipeline (MiniLM ensemble, default policy): the
 * rules read it as it displays, and screening sends it to a person. Before, each was RELEASED (0.38
 * and 0.02 unsafe for the threat) while the plain sentence was blocked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DisguisedTextModerationTest {
  private static final String THREAT = "I am going to kill you and your family tonight.";
  private static final String SELF_HARM = "Kill yourself, nobody would miss you.";

  /** Soft hyphen, zero-width space, zero-width joiner, combining grapheme joiner, tag space. */
  private static final Map<String, String> INVISIBLE =
      Map.of(
          "soft hyphen", "\u00AD",
          "zero-width space", "\u200B",
          "zero-width joiner", "\u200D",
          "combining grapheme joiner", "\u034F",
          "tag space", "\uDB40\uDC20");

  private BatchModerator moderator;

  @BeforeAll
  void startThePipeline(@TempDir Path keys) {
    moderator = ModerationPipelines.factory("default", null, keys.resolve("keys")).create();
  }

  @AfterAll
  void stop() {
    moderator.close();
  }

  @Test
  void shouldHoldAThreatWhateverHidesOrSwapsItsLetters() {
    Map<String, ModerationVerdict> verdicts = moderate(disguises(THREAT));
    verdicts.forEach(
        (name, verdict) -> {
          assertThat(verdict.getDecision()).as(name).isNotEqualTo(Decision.RELEASE);
          assertThat(codes(verdict))
              .as(name)
              .contains(ReasonCodes.THREAT_PATTERN, ReasonCodes.TEXT_OBFUSCATED);
        });
  }

  @Test
  void shouldHoldAnUrgingToSelfHarmWhateverHidesOrSwapsItsLetters() {
    Map<String, ModerationVerdict> verdicts = moderate(disguises(SELF_HARM));
    verdicts.forEach(
        (name, verdict) -> {
          assertThat(verdict.getDecision()).as(name).isNotEqualTo(Decision.RELEASE);
          assertThat(codes(verdict))
              .as(name)
              .contains(ReasonCodes.SELF_HARM_PATTERN, ReasonCodes.TEXT_OBFUSCATED);
        });
  }

  @Test
  void shouldNotCallEmojiSequencesOrRussianTextObfuscated() {
    Map<String, String> texts = new LinkedHashMap<>();
    texts.put(
        "emoji",
        "We spent the whole day at the beach as a family \uD83D\uDC68\u200D\uD83D\uDC69\u200D"
            + "\uD83D\uDC67 and loved it \u2764\uFE0F");
    texts.put("russian", "Сегодня хорошая погода, а вечером мы пойдём в кино с друзьями.");
    Map<String, ModerationVerdict> verdicts = moderate(texts);
    assertThat(verdicts.get("emoji").getDecision()).isEqualTo(Decision.RELEASE);
    verdicts.forEach(
        (name, verdict) ->
            assertThat(codes(verdict)).as(name).doesNotContain(ReasonCodes.TEXT_OBFUSCATED));
  }

  /** The text with each invisible character between the letters of every word, and in Cyrillic. */
  private static Map<String, String> disguises(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    INVISIBLE.forEach((name, invisible) -> out.put(name, between(text, invisible)));
    out.put(
        "cyrillic look-alikes",
        text.replace('a', '\u0430')
            .replace('e', '\u0435')
            .replace('o', '\u043E')
            .replace('i', '\u0456')
            .replace('y', '\u0443')
            .replace('c', '\u0441'));
    return out;
  }

  private static String between(String text, String invisible) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      out.append(text.charAt(i));
      if (i + 1 < text.length()
          && Character.isLetter(text.charAt(i))
          && Character.isLetter(text.charAt(i + 1))) {
        out.append(invisible);
      }
    }
    return out.toString();
  }

  private Map<String, ModerationVerdict> moderate(Map<String, String> texts) {
    List<GenerationOutput> outputs = new ArrayList<>();
    texts.forEach((name, text) -> outputs.add(Events.output("req-" + outputs.size(), text)));
    List<ModerationVerdict> verdicts = moderator.moderate(outputs);
    Map<String, ModerationVerdict> out = new LinkedHashMap<>();
    int i = 0;
    for (String name : texts.keySet()) {
      out.put(name, verdicts.get(i++));
    }
    return out;
  }

  private static List<String> codes(ModerationVerdict verdict) {
    return verdict.getReasons().stream().map(Reason::getCode).toList();
  }
}
