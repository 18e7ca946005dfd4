package io.genguard.moderation.scoring;

/**
 * A sentence that one of the rules matched ({@link ThreatPatterns}, {@link MinorSexualization},
 * {@code PrejudiceFrames}, {@link SelfHarmPatterns}).
 *
 * @param rule the rule's name
 * @param sentence the sentence as written (of a long sentence, the window the match is in: {@link
 *     RuleSentence})
 * @param words the words that matched, normalized and lower case
 */
public record RuleMatch(String rule, String sentence, String words) {}
