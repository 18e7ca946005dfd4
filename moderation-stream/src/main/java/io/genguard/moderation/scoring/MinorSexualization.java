package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
  /** Version recorded in every verdict; change it whenever a pattern changes. */
  public static final String VERSION = "1.1.0";

  /** Name of this component in verdicts' version maps. */
  public static final String NAME = "minor-sexualization";

  /** Matches kept per text, as for {@link ThreatPatterns#MAX_MATCHES}. */
  public static final int MAX_MATCHES = 20;

  private static final String SEXUAL =
      "(?:sexy|sexier|sexiest|seductive|seductively|slutty|horny|erotic|sensual|lewd|lustful"
          + "|busty)";

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

  private static final List<Rule> RULES =
      List.of(
          // "a sexy kid", "seductive 12 year old girls", "sexy little girl", "hot preteens"
          new Rule(
              "sexual-word-on-minor",
              Pattern.compile(
                  "\\b"
                      + SEXUAL
                      + " (?:[a-z0-9]+ ){0,2}?"
                      + MINOR
                      + "\\b|\\bhot (?:[a-z0-9]+ )?"
                      + UNAMBIGUOUS_MINOR
                      + "\\b")),
          // "the kids look so sexy", "my 13 year old daughter is sexy"
          new Rule(
              "minor-described-sexually",
              Pattern.compile(
                  "\\b"
                      + MINOR
                      + " (?:[a-z]+ )?(?:is|are|was|were|be|being|look|looks|looked|looking|seem"
                      + "|seems|seemed|dressed|acting|act|acts) (?:(?:so|very|really|too|super|kinda"
                      + "|extremely|totally) )?"
                      + SEXUAL
                      + "\\b")),
          new Rule("sexualizing-term", Pattern.compile("\\b(?:jailbait|lolicon|shotacon)\\b")));

  /** Without one of these in the normalized text no rule can match: the common case is cheap. */
  private static final List<String> CUES =
      List.of(
          "sex",
          "seduc",
          "slut",
          "horny",
          "erotic",
          "sensual",
          "lewd",
          "lust",
          "busty",
          "hot",
          "jailbait",
          "lolicon",
          "shotacon");

  private MinorSexualization() {}

  /** The sentences of {@code text} that match a rule, in order; at most {@link #MAX_MATCHES}. */
  public static List<RuleMatch> find(String text) {
    if (text == null || text.isBlank() || !cued(text)) {
      return List.of();
    }
    List<RuleMatch> matches = new ArrayList<>();
    for (String sentence : Sentences.split(text)) {
      String cut = RuleSentence.cut(sentence);
      if (!cued(cut)) {
        continue;
      }
      String words = ThreatPatterns.normalize(cut);
      for (Rule rule : RULES) {
        Matcher m = rule.pattern().matcher(words);
        if (m.find()) {
          matches.add(new RuleMatch(rule.name(), cut, m.group()));
          if (matches.size() == MAX_MATCHES) {
            return List.copyOf(matches);
          }
          break;
        }
      }
    }
    return List.copyOf(matches);
  }

  /**
   * Whether {@code text} holds a cue once normalized as the rules see it. Plain ASCII without an
   * entity normalizes to its lower case (NFKC and entity decoding are what could make a cue, as in
   * "ｓｅｘｙ" or "s&#101;xy"), so only other text pays for the normalizer.
   */
  private static boolean cued(String text) {
    boolean plain = true;
    for (int i = 0; i < text.length() && plain; i++) {
      char c = text.charAt(i);
      plain = c < 0x80 && c != '&';
    }
    String lower = plain ? text.toLowerCase(Locale.ROOT) : TextNormalizer.normalize(text);
    for (String cue : CUES) {
      if (lower.contains(cue)) {
        return true;
      }
    }
    return false;
  }

  private record Rule(String name, Pattern pattern) {}
}
