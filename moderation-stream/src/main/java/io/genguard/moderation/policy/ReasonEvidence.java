package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.WordOcclusion;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The evidence words of each reason a held text got: for a category reason, by occlusion through
 * the content scorer; for the implicit-stereotype reason, through the bias analysis. Shared by the
 * batch command and the quality report.
 */
public final class ReasonEvidence {
  private ReasonEvidence() {}

  /**
   * Evidence per reason, keyed by {@link #key}; empty for a released text.
   *
   * @param scores the text's content scores (null when the scorer failed: no category evidence)
   */
  public static Map<String, List<WordOcclusion.Evidence>> of(
      WordOcclusion occlusion,
      Function<String, BiasFindings> bias,
      String text,
      ContentScores scores,
      PolicyVerdict verdict) {
    if (verdict.decision() == Decision.RELEASE) {
      return new HashMap<>();
    }
    return forReasons(occlusion, bias, text, scores, verdict.reasons());
  }

  /**
   * Evidence for each category reason and the implicit-stereotype reason among {@code reasons}
   * (other reasons get none), keyed by {@link #key}: also for reasons read back from a recorded
   * verdict ({@link VerdictReason#fromAvro}).
   *
   * @param text the text as it was scored (after screening)
   * @param scores its content scores (null when the scorer failed: no category evidence)
   */
  public static Map<String, List<WordOcclusion.Evidence>> forReasons(
      WordOcclusion occlusion,
      Function<String, BiasFindings> bias,
      String text,
      ContentScores scores,
      List<VerdictReason> reasons) {
    Map<String, List<WordOcclusion.Evidence>> evidence = new HashMap<>();
    Set<Category> categories = EnumSet.noneOf(Category.class);
    for (VerdictReason reason : reasons) {
      if (reason.category() != null && scores != null) {
        categories.add(Category.fromId(reason.category()));
      }
    }
    Map<Category, List<WordOcclusion.Evidence>> byCategory =
        occlusion.explain(text, scores, categories);
    for (VerdictReason reason : reasons) {
      if (reason.category() != null && scores != null) {
        evidence.put(key(reason), byCategory.get(Category.fromId(reason.category())));
      } else if (reason.code().equals(ReasonCodes.BIAS_STEREOTYPE) && reason.score() != null) {
        evidence.put(
            key(reason),
            WordOcclusion.explain(
                text, reason.score(), variant -> bias.apply(variant).stereotypeScore()));
      }
    }
    return evidence;
  }

  /** A reason's key: its code and category ("category.review/hate", "bias.stereotype/"). */
  public static String key(VerdictReason reason) {
    return reason.code() + "/" + (reason.category() == null ? "" : reason.category());
  }
}
