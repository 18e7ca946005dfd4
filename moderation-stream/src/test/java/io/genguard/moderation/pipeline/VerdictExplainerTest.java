package io.genguard.moderation.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.WordOcclusion;
import io.genguard.provenance.ProvenanceKeys;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Explanations of verdicts the real moderator gave, with the real n-gram scorer. */
class VerdictExplainerTest {
  private static ContentScorer scorer;
  private static ContentModerator moderator;
  private static VerdictExplainer explainer;

  @BeforeAll
  static void load() {
    scorer = ScorerFactory.create(ScorerConfig.named("ngram-logistic"));
    moderator =
        new ContentModerator(
            () -> scorer,
            PolicyEngine.of(PolicyLoader.loadDefault()),
            TextScreening.defaults(),
            BiasAnalyzer.loadDefault(),
            new ProvenanceChecker(ProvenanceKeys.ephemeral()),
            Map.of(),
            Duration.ofSeconds(30),
            Clock.fixed(Events.NOW, ZoneOffset.UTC));
    explainer = new VerdictExplainer(scorer, BiasAnalyzer.loadDefault());
  }

  @AfterAll
  static void close() {
    scorer.close();
  }

  private static ModerationVerdict judged(GenerationOutput output) {
    return moderator.moderate(List.of(output)).get(0);
  }

  @Test
  void shouldNameTheWordsEachCategoryReasonOfAHeldVerdictRestsOn() {
    String text = "shut up you worthless stupid bitch, nobody wants you here";
    ModerationVerdict verdict = judged(Events.output("x1", text));
    assertThat(verdict.getDecision()).isEqualTo(Decision.BLOCK);

    List<VerdictExplainer.Explained> explained = explainer.explain(text, verdict);

    assertThat(explained).isNotEmpty();
    for (VerdictExplainer.Explained e : explained) {
      assertThat(verdict.getReasons()).contains(e.reason());
      assertThat(e.reason().getCategory()).isNotNull();
      assertThat(e.words()).hasSizeLessThanOrEqualTo(WordOcclusion.TOP);
      for (WordOcclusion.Evidence word : e.words()) {
        assertThat(text).contains(word.word());
        assertThat(word.scoreWithout()).isLessThan(e.reason().getScore());
      }
    }
    assertThat(explained)
        .anySatisfy(
            e -> assertThat(e.words()).extracting(WordOcclusion.Evidence::word).contains("bitch"));
  }

  @Test
  void shouldExplainNothingForAReleaseOrATextTheScorersNeverSaw() {
    String clean = "The committee met on Tuesday to discuss the budget.";
    ModerationVerdict released = judged(Events.output("x2", clean));
    assertThat(released.getDecision()).isEqualTo(Decision.RELEASE);
    assertThat(explainer.explain(clean, released)).isEmpty();

    // Held by screening (no text to score): there is no score for a word to lower.
    ModerationVerdict empty = judged(Events.output("x3", "   "));
    assertThat(empty.getDecision()).isNotEqualTo(Decision.RELEASE);
    assertThat(explainer.explain("   ", empty)).isEmpty();
  }
}
