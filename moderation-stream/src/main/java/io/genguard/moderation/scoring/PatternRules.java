package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Named patterns matched sentence by sentence on normalized words ({@link RuleSentence}), each run
 * only on a sentence that holds its cue ({@link CueTrie}). A sentence counts once, with the first
 * rule it matches. {@link ThreatPatterns}, {@link MinorSexualization} and {@link SelfHarmPatterns}
 * are lists of these.
 */
final class PatternRules {
  /**
   * One rule.
   *
   * @param name recorded in every match
   * @param cue words the pattern cannot match without ({@link CueTrie})
   * @param pattern matched against a sentence's normalized words
   */
  record Rule(String name, String cue, Pattern pattern) {
    Rule(String name, String cue, String regex) {
      this(name, cue, Pattern.compile(regex));
    }
  }

  private final List<Rule> rules;
  private final CueTrie cues;

  PatternRules(Rule... rules) {
    this.rules = List.of(rules);
    this.cues = CueTrie.of(this.rules.stream().map(Rule::cue).toList());
  }

  /**
   * The sentences that match a rule, in order, each with the first rule it matches; at most {@code
   * max}. Without {@code useCue} every rule runs on every sentence (the tests check that both
   * agree).
   */
  List<RuleMatch> find(List<RuleSentence> sentences, boolean useCue, int max) {
    List<RuleMatch> matches = new ArrayList<>();
    boolean sentenceMatched = false;
    for (RuleSentence sentence : sentences) {
      if (!sentence.continued()) {
        sentenceMatched = false;
      } else if (sentenceMatched) {
        continue; // a later window of a long sentence that already counted
      }
      String words = sentence.words();
      if (words.isEmpty()) {
        continue;
      }
      int cued = useCue ? cues.rulesCued(words) : -1;
      for (int r = 0; r < rules.size(); r++) {
        if ((cued & (1 << r)) == 0) {
          continue;
        }
        Rule rule = rules.get(r);
        Matcher m = rule.pattern().matcher(words);
        if (m.find()) {
          matches.add(new RuleMatch(rule.name(), sentence.sentence(), m.group().strip()));
          sentenceMatched = true;
          if (matches.size() == max) {
            return List.copyOf(matches);
          }
          break;
        }
      }
    }
    return List.copyOf(matches);
  }
}
