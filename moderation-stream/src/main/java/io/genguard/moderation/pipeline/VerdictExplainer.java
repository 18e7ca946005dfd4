package io.genguard.moderation.pipeline;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.policy.ReasonEvidence;
import io.genguard.moderation.policy.VerdictReason;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.WordOcclusion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Explains a verdict already given: which words each of its category and implicit-stereotype
 * reasons rests on, by occlusion ({@link ReasonEvidence}), on the text screened as the moderation
 * job screens it. The words are those of this build's scorer, so they explain a recorded verdict
 * only when this build reproduces it (the same models and policy); {@code audit replay --explain}
 * checks that first.
 */
public final class VerdictExplainer implements AutoCloseable {
  private final ContentScorer scorer;
  private final boolean ownsScorer;
  private final WordOcclusion occlusion;
  private final BiasAnalyzer bias;
  private final TextScreening screening = TextScreening.defaults();

  /** Over a scorer the caller owns (and closes). */
  public VerdictExplainer(ContentScorer scorer, BiasAnalyzer bias) {
    this(scorer, bias, false);
  }

  private VerdictExplainer(ContentScorer scorer, BiasAnalyzer bias, boolean ownsScorer) {
    this.scorer = scorer;
    this.ownsScorer = ownsScorer;
    this.occlusion = new WordOcclusion(scorer);
    this.bias = bias;
  }

  /**
   * With the scorer of that name ({@link ScorerFactory#NAMES}), which it closes, and the built-in
   * bias analysis.
   */
  public static VerdictExplainer named(String scorerName) {
    return new VerdictExplainer(
        ScorerFactory.create(ScorerConfig.named(scorerName)), BiasAnalyzer.loadDefault(), true);
  }

  /** The words one reason rests on, strongest first (empty: no single word lowers it enough). */
  public record Explained(Reason reason, List<WordOcclusion.Evidence> words) {}

  /**
   * The evidence of each category and implicit-stereotype reason of the verdict, in the verdict's
   * order; empty for a RELEASE and for a text the screening did not let through to the scorers.
   *
   * @param text the output's text, as the verdict judged it
   */
  public List<Explained> explain(String text, ModerationVerdict verdict) {
    if (verdict.getDecision() == Decision.RELEASE) {
      return List.of();
    }
    TextScreening.Result screened = screening.screen(text);
    if (!screened.scorable()) {
      return List.of();
    }
    String scored = screened.textForScoring();
    List<VerdictReason> reasons =
        verdict.getReasons().stream().map(VerdictReason::fromAvro).toList();
    Map<String, List<WordOcclusion.Evidence>> evidence =
        ReasonEvidence.forReasons(occlusion, bias::apply, scored, scorer.score(scored), reasons);
    List<Explained> explained = new ArrayList<>();
    for (int i = 0; i < reasons.size(); i++) {
      List<WordOcclusion.Evidence> words = evidence.get(ReasonEvidence.key(reasons.get(i)));
      if (words != null) {
        explained.add(new Explained(verdict.getReasons().get(i), words));
      }
    }
    return explained;
  }

  /** Closes the scorer when {@link #named} made it. */
  @Override
  public void close() {
    if (ownsScorer) {
      scorer.close();
    }
  }
}
