package io.genguard.moderation.scoring;

import io.genguard.moderation.scoring.PatternRules.Rule;
import java.util.List;

/**
 * Finds sentences that describe a child in sexual terms: a sexual word on a word that names a minor
 * ("a sexy kid", "seductive 12-year-old girls"; "hot" only on a minor it cannot mean warmth for:
 * "hot preteens", not "the hot kids need water"), a minor described with one ("the kids look so
 * sexy"), and words that exist to sexualize minors ("jailbait"). The sexual-minors head learned
 * from a few dozen examples, nearly all of them explicit requests; it holds those (19 of
 * SimpleSafetyTests' 20 child-safety prompts) but released most of HolisticBias's "sexy child" and
 * "sexy kid" sentences, and the sexual head scores "sexy" alone at a few per cent.
 *
 * <p>A rule, not a probability: every match names its rule and the words, and policy maps a match
 * to a decision ({@code sexualizedMinors.decision}, REVIEW by default). It looks for a sexual word
 * and a minor in one short phrase, so sexual words and children in the same sentence for other
 * reasons ("Children should not see sexy advertising.") do not match, nor do naked babies at bath
 * time, sex education or reports of abuse; "teen" matches, so "sexy teen drama" goes to a person.
 * Explicit acts are left to the learned head. English only.
 *
 * <p>Stateless and thread-safe; plain Java, so the stream job, the batch command and the quality
 * report share it.
 */
public final class MinorSexualization {
  /**
   * Version recorded in every verdict; change it whenever a pattern or how sentences are read
   * changes (1.1.1: a sentence over 600 characters is read in windows, {@link RuleSentence}; 1.1.2:
   * invisible characters and look-alike letters inside words are read away, {@link Obfuscation}).
   */
  public static final String VERSION = "1.1.2";

  /** Name of this component in verdicts' version maps. */
  public static final String NAME = "minor-sexualization";

  /** Matches kept per text, as for {@link ThreatPatterns#MAX_MATCHES}. */
  public static final int MAX_MATCHES = 20;

  private static final String SEXUAL =
      "(?:sexy|sexier|sexiest|seductive|seductively|slutty|horny|erotic|sensual|lewd|lustful"
          + "|busty)";
  // The words SEXUAL cannot match without (the rules' cue, see CueTrie).
  private static final String SEXUAL_CUE =
      "sex* seduc* slut* horny erotic sensual lewd lust* busty";

  private static final String AGE_WORD =
      "(?:[1-9]|1[0-7]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
          + "|fourteen|fifteen|sixteen|seventeen)";

  /**
   * The minors that "hot" cannot mean warmth for: an age under 18 ("12 year old", "12yo"),
   * preteens, tweens, the underage, schoolgirls and schoolboys, little girls and boys ("the hot
   * kids need water" is weather).
   */
  private static final String UNAMBIGUOUS_MINOR =
      "(?:preteen|preteens|pre teen|pre teens|tween|tweens|underage|schoolgirl|schoolgirls"
          + "|schoolboy|schoolboys|little girls?|little boys?|"
          + AGE_WORD
          + " (?:year|yr)s? olds?|"
          + AGE_WORD
          + " ?yo|"
          + AGE_WORD
          + " y o)";

  /** A word or phrase that names a minor: a child word, a teen, or an unambiguous minor. */
  private static final String MINOR =
      "(?:child|children|kid|kids|kiddo|kiddos|toddler|toddlers|infant|infants|minor|minors|teen"
          + "|teens|teenage|teenager|teenagers|"
          + UNAMBIGUOUS_MINOR
          + ")";

  private static final PatternRules RULES =
      new PatternRules(
          // "a sexy kid", "seductive 12 year old girls", "sexy little girl", "hot preteens"
          new Rule(
              "sexual-word-on-minor",
              SEXUAL_CUE + " hot",
              "\\b"
                  + SEXUAL
                  + " (?:[a-z0-9]+ ){0,2}?"
                  + MINOR
                  + "\\b|\\bhot (?:[a-z0-9]+ )?"
                  + UNAMBIGUOUS_MINOR
                  + "\\b"),
          // "the kids look so sexy", "my 13 year old daughter is sexy"
          new Rule(
              "minor-described-sexually",
              SEXUAL_CUE,
              "\\b"
                  + MINOR
                  + " (?:[a-z]+ )?(?:is|are|was|were|be|being|look|looks|looked|looking|seem"
                  + "|seems|seemed|dressed|acting|act|acts) (?:(?:so|very|really|too|super|kinda"
                  + "|extremely|totally) )?"
                  + SEXUAL
                  + "\\b"),
          new Rule(
              "sexualizing-term",
              "jailbait lolicon shotacon",
              "\\b(?:jailbait|lolicon|shotacon)\\b"));

  private MinorSexualization() {}

  /** The sentences of {@code text} that match a rule, in order; at most {@link #MAX_MATCHES}. */
  public static List<RuleMatch> find(String text) {
    return findIn(RuleSentence.of(text));
  }

  /**
   * {@link #find(String)} on sentences already split and normalized (NFKC and entities too, so
   * "ｓｅｘｙ" and "s&#101;xy" are "sexy" here). A sentence without a sexual word or a sexualizing term
   * costs one walk over its letters ({@link CueTrie}).
   */
  public static List<RuleMatch> findIn(List<RuleSentence> sentences) {
    return RULES.find(sentences, true, MAX_MATCHES);
  }

  /** {@link #find(String)} with or without the cue: the tests check that both agree. */
  static List<RuleMatch> find(String text, boolean useCue) {
    return RULES.find(RuleSentence.of(text), useCue, MAX_MATCHES);
  }
}
