package io.genguard.moderation.policy;

import io.genguard.moderation.bias.PrejudiceFrames;
import io.genguard.moderation.scoring.MinorSexualization;
import io.genguard.moderation.scoring.RuleMatch;
import io.genguard.moderation.scoring.RuleSentence;
import io.genguard.moderation.scoring.SelfHarmPatterns;
import io.genguard.moderation.scoring.ThreatPatterns;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the rules found in one text: sentences that match a rule, per rule, each list empty when
 * nothing matched or the text was not checked. The stream job, the batch command and the quality
 * report all get them from {@link #of}, so that a rule added here is run, recorded and versioned
 * everywhere at once.
 *
 * @param threats sentences that state a threat of violence ({@link ThreatPatterns})
 * @param sexualizedMinors sentences that describe a child in sexual terms ({@link
 *     MinorSexualization})
 * @param framedPrejudice sentences that state a generalization about a group inside an endorsing
 *     frame ({@link PrejudiceFrames})
 * @param selfHarm sentences that urge, coach, hide or announce self-harm, suicide or disordered
 *     eating ({@link SelfHarmPatterns})
 */
public record RuleFindings(
    List<RuleMatch> threats,
    List<RuleMatch> sexualizedMinors,
    List<RuleMatch> framedPrejudice,
    List<RuleMatch> selfHarm) {
  /** A text no rule matched, or that was not checked. */
  public static final RuleFindings NONE =
      new RuleFindings(List.of(), List.of(), List.of(), List.of());

  public RuleFindings {
    threats = List.copyOf(threats);
    sexualizedMinors = List.copyOf(sexualizedMinors);
    framedPrejudice = List.copyOf(framedPrejudice);
    selfHarm = List.copyOf(selfHarm);
  }

  /**
   * Every rule on {@code text} (the text as screened for scoring), its sentences split and
   * normalized once for all of them; {@link #NONE} for a null or blank text.
   */
  public static RuleFindings of(String text) {
    if (text == null || text.isBlank()) {
      return NONE;
    }
    List<RuleSentence> sentences = RuleSentence.of(text);
    return new RuleFindings(
        ThreatPatterns.findIn(sentences),
        MinorSexualization.findIn(sentences),
        PrejudiceFrames.findIn(sentences),
        SelfHarmPatterns.findIn(sentences));
  }

  /** Each rule's name and version, in the order of the record, for verdicts' version maps. */
  public static Map<String, String> versions() {
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put(ThreatPatterns.NAME, ThreatPatterns.VERSION);
    versions.put(MinorSexualization.NAME, MinorSexualization.VERSION);
    versions.put(PrejudiceFrames.NAME, PrejudiceFrames.VERSION);
    versions.put(SelfHarmPatterns.NAME, SelfHarmPatterns.VERSION);
    return versions;
  }

  /** These findings without the threat rule's: the quality report's models-alone comparison. */
  public RuleFindings withoutThreats() {
    return new RuleFindings(List.of(), sexualizedMinors, framedPrejudice, selfHarm);
  }

  /** These findings without the self-harm rule's, for the same comparison. */
  public RuleFindings withoutSelfHarm() {
    return new RuleFindings(threats, sexualizedMinors, framedPrejudice, List.of());
  }
}
