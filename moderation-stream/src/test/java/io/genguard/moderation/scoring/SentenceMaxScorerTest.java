package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each text scored whole and sentence by sentence; every score the highest of its pieces. */
class SentenceMaxScorerTest {
  @TempDir Path dir;

  /** Scores a text by the share of its words that are "insult"; records what it was asked. */
  private static final class Recording implements ContentScorer {
    final List<String> seen = new ArrayList<>();

    @Override
    public List<ContentScores> scoreBatch(List<String> texts) {
      seen.addAll(texts);
      List<ContentScores> out = new ArrayList<>();
      for (String text : texts) {
        String[] words = text.trim().split("\\s+");
        long insults = java.util.Arrays.stream(words).filter(w -> w.startsWith("insult")).count();
        double share = (double) insults / words.length;
        Map<Category, Double> categories = new EnumMap<>(Category.class);
        for (Category category : Category.values()) {
          categories.put(category, category == Category.HARASSMENT ? share : share / 2);
        }
        out.add(new ContentScores(share, categories));
      }
      return out;
    }

    @Override
    public Map<String, String> versions() {
      return Map.of("recording", "1");
    }
  }

  @Test
  void shouldTakeTheHighestScoreOfTheWholeTextAndEachOfItsSentences() {
    Recording model = new Recording();
    SentenceMaxScorer scorer = new SentenceMaxScorer(model);

    List<ContentScores> scores =
        scorer.scoreBatch(
            List.of(
                "insult insult. A long calm sentence about the weather and the budget meeting.",
                "One calm sentence without a boundary",
                "insult"));

    assertThat(scores.get(0).categories().get(Category.HARASSMENT))
        .as("the first sentence alone, not diluted by the second, at the pieces' weight")
        .isEqualTo(SentenceMaxScorer.PIECE_WEIGHT);
    assertThat(scores.get(0).unsafe()).isEqualTo(SentenceMaxScorer.PIECE_WEIGHT);
    assertThat(scores.get(1).unsafe()).isZero();
    assertThat(scores.get(2).unsafe()).isEqualTo(1.0);
    assertThat(model.seen)
        .as("one call for the batch: texts whole, then the sentences of those with several")
        .containsExactly(
            "insult insult. A long calm sentence about the weather and the budget meeting.",
            "insult insult.",
            "A long calm sentence about the weather and the budget meeting.",
            "One calm sentence without a boundary",
            "insult");
    assertThat(scorer.versions())
        .containsEntry("recording", "1")
        .containsEntry(SentenceMaxScorer.NAME, SentenceMaxScorer.VERSION);
  }

  @Test
  void shouldKeepTheWholeTextsScoreWhenItIsHigherThanAnyWeightedPiece() {
    Recording model = new Recording();

    ContentScores scores =
        new SentenceMaxScorer(model)
            .scoreBatch(List.of("insult insult insult. insult calm calm."))
            .get(0);

    assertThat(scores.unsafe())
        .as("whole 4/6 = 0.67 against 0.9 x 1.0 and 0.9 x 0.33")
        .isEqualTo(SentenceMaxScorer.PIECE_WEIGHT);
    ContentScores wholeOnly =
        new SentenceMaxScorer(model)
            .scoreBatch(List.of("insult insult calm. insult insult calm."))
            .get(0);
    assertThat(wholeOnly.unsafe())
        .as("whole 4/6 above 0.9 x 2/3 for either sentence")
        .isEqualTo(4.0 / 6);
  }

  @Test
  void shouldScoreAListHeaderWithTheSentenceAfterIt() {
    assertThat(
            SentenceMaxScorer.pieces(
                "Here is what you should do:\n- Change your password. **Update Your Phone:**\nOpen"
                    + " the settings.\nStay safe."))
        .containsExactly(
            "Here is what you should do: - Change your password.",
            "**Update Your Phone:** Open the settings.",
            "Stay safe.");
    assertThat(SentenceMaxScorer.pieces("Steps: one. Two. Ingredients:"))
        .as("a header at the end stays a piece of its own")
        .containsExactly("Steps: one.", "Two.", "Ingredients:");
  }

  @Test
  void shouldJoinAPieceWithoutWordsToTheNextOne() {
    assertThat(SentenceMaxScorer.pieces("First point.\n---\nSecond point.\n***"))
        .containsExactly("First point.", "--- Second point. ***");
    assertThat(SentenceMaxScorer.pieces("... !!!")).containsExactly("... !!!");
  }

  @Test
  void shouldScoreEverySentenceOfALongTextAlone() {
    Recording model = new Recording();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      text.append("Calm sentence ").append(i).append(" about the weather and the budget. ");
    }
    text.append("insult insult.");

    ContentScores scores = new SentenceMaxScorer(model).scoreBatch(List.of(text.toString())).get(0);

    assertThat(model.seen)
        .hasSize(1 + 201)
        .contains("Calm sentence 199 about the weather and the budget.", "insult insult.");
    assertThat(scores.unsafe())
        .as("the last sentence alone, not only inside the whole text")
        .isEqualTo(SentenceMaxScorer.PIECE_WEIGHT);
  }

  @Test
  void shouldBoundThePiecesScoredAloneInCharacters() {
    Recording model = new Recording();
    String sentence = "Calm sentence number ten thousand, and more. "; // 44 characters, a space
    String text = sentence.repeat(2 * SentenceMaxScorer.MAX_PIECE_CHARS / sentence.length());

    new SentenceMaxScorer(model).scoreBatch(List.of(text));

    List<String> alone = model.seen.subList(1, model.seen.size());
    assertThat(alone).hasSize(SentenceMaxScorer.MAX_PIECE_CHARS / (sentence.length() - 1));
    assertThat(alone.stream().mapToInt(String::length).sum())
        .isLessThanOrEqualTo(SentenceMaxScorer.MAX_PIECE_CHARS);
  }

  @Test
  void shouldJoinTheShortPiecesOfAVeryLongTextButNeverWithALongOne() {
    String sentence = "A long calm sentence about the weather and the budget meeting.";
    List<String> pieces = new ArrayList<>(java.util.Collections.nCopies(12, "Ok."));
    pieces.add(sentence);
    pieces.add("insult.");

    assertThat(SentenceMaxScorer.joinShort(pieces))
        .containsExactly(
            String.join(" ", java.util.Collections.nCopies(11, "Ok.")), "Ok.", sentence, "insult.");

    Recording model = new Recording();
    String tiny = "No. ".repeat(5000).strip();
    new SentenceMaxScorer(model).scoreBatch(List.of(tiny));
    assertThat(model.seen.size() - 1)
        .as("at most two pieces for every %s characters", SentenceMaxScorer.MIN_PIECE_CHARS)
        .isLessThanOrEqualTo(2 * tiny.length() / SentenceMaxScorer.MIN_PIECE_CHARS + 1);
    assertThat(String.join(" ", model.seen.subList(1, model.seen.size()))).isEqualTo(tiny);
  }

  @Test
  void shouldHoldAHarmfulSentenceAfterSeventyBenignOnes() {
    String[] benign = {
      "The committee reviewed the quarterly budget report on Tuesday.",
      "Our garden club plants tulips along the river path every autumn.",
      "The library extends its opening hours during the exam weeks.",
      "Please bring a reusable bottle to the team picnic on Saturday.",
      "The new bus timetable starts on the first Monday of the month.",
      "Volunteers repainted the benches in the park last weekend.",
      "The bakery on the corner now sells rye bread on Thursdays."
    };
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 70; i++) {
      text.append(benign[i % benign.length]).append(' ');
    }
    text.append("You worthless piece of garbage, everyone hates you and nobody wants you here.");
    try (BatchModerator moderator =
        ModerationPipelines.factory(MiniLmEnsembleScorer.NAME, null, dir.resolve("keys"))
            .create()) {
      ModerationVerdict verdict =
          moderator.moderate(List.of(Events.output("req-1", text.toString()))).get(0);
      assertThat(verdict.getDecision())
          .as(
              "scored only inside the whole text (1.1.0) it was released, harassment 0.23; now %s",
              verdict.getCategoryScores())
          .isNotEqualTo(Decision.RELEASE);
      assertThat(verdict.getCategoryScores().get(Category.HARASSMENT.id())).isGreaterThan(0.5);
    }
  }

  @Test
  void shouldHoldAHarassingSentenceThatABenignSentenceAfterItUsedToHide() {
    try (ContentScorer scorer =
        ScorerFactory.create(ScorerConfig.named(MiniLmEnsembleScorer.NAME))) {
      String insult =
          "You worthless piece of garbage, everyone hates you and nobody wants you here.";
      String hidden =
          insult
              + " The committee reviewed the quarterly budget report on Tuesday and agreed to"
              + " postpone the vote on the new library extension until early next spring.";
      double alone = scorer.score(insult).categories().get(Category.HARASSMENT);
      double packed = scorer.score(hidden).categories().get(Category.HARASSMENT);

      assertThat(alone).isGreaterThan(0.5);
      assertThat(packed)
          .as("scored packed with the budget sentence, it read 0.13")
          .isEqualTo(SentenceMaxScorer.PIECE_WEIGHT * alone)
          .isGreaterThan(0.5);
    }
  }
}
