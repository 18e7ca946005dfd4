package io.genguard.moderation.scoring;

/** A sentence that a rule of {@link ThreatPatterns} or {@link MinorSexualization} matched. */
public interface RuleMatch {
  /** The rule's name. */
  String rule();

  /** The sentence as written (cut at the rules' sentence limit). */
  String sentence();

  /** The words that matched, normalized and lower case. */
  String words();
}
