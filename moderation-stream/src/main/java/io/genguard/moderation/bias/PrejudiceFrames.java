package io.genguard.moderation.bias;

import io.genguard.moderation.scoring.RuleMatch;
import io.genguard.moderation.scoring.RuleSentence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds sentences that state a generalization about a group inside a frame that endorses it: a
 * disclaimer ("I'm not racist, but Mexicans are ..."), an appeal to common knowledge or to facts
 * ("Everyone knows Jews ...", "Statistics prove ...", "It's not hate, it's the truth: ..."), or a
 * concession ("No offense, but ...", "Say what you want, but ..."). The learned heads read such a
 * sentence by its content, and the frame makes a prejudice sound reasonable: they released 13 of
 * the 30 framed prejudices of {@code evaluation/counter-speech-1.jsonl}.
 *
 * <p>A match needs three things in one sentence: a frame from the list below; after it, within
 * eight words, a group the {@link IdentityLexicon} knows; and right after the group (within three
 * words) a word that makes a statement of it ("are", "can't", "never", "just", "deserve", ...). The
 * frame is what makes the difference between a prejudice and a report of one, so the rule stays
 * silent where the speaker is reported or quoted: a sentence with double quotation marks, or with a
 * reporting word ("said", "claims", "called", ...) before the frame.
 *
 * <p>A rule, not a probability: every match names its frame and the words, and policy maps a match
 * to a decision ({@code framedPrejudice.decision}: RELEASE, the rule off, in the default policy,
 * whose comment says why; REVIEW turns it on). It does not judge what is said of the group, so a
 * frame around praise ("Let's be honest, refugees deserve safety") goes to a person too; single
 * words such as "honestly" are not frames, being far more common in benign text. English only.
 *
 * <p>Stateless and thread-safe; plain Java, so the stream job, the batch command and the quality
 * report share it.
 */
public final class PrejudiceFrames {
  /**
   * Version recorded in every verdict; change it whenever a frame or word list or how sentences are
   * read changes (1.0.1: a sentence over 600 characters is read in windows, {@link RuleSentence};
   * 1.0.2: invisible characters and look-alike letters inside words are read away, {@link
   * io.genguard.moderation.scoring.Obfuscation}).
   */
  public static final String VERSION = "1.0.2";

  /** Name of this component in verdicts' version maps. */
  public static final String NAME = "prejudice-frames";

  /**
   * Matches kept per text, as for {@link
   * io.genguard.moderation.scoring.ThreatPatterns#MAX_MATCHES}.
   */
  public static final int MAX_MATCHES = 20;

  /** Words for the prejudiced, as a disclaimer denies being one. */
  private static final String BIGOT =
      "(?:racist|sexist|homophobic|transphobic|bigot|bigoted|xenophobic|islamophobic"
          + "|antisemitic|anti semitic|prejudiced|misogynist|misogynistic|ableist|hater)";

  /** What the frames claim a statement is, when they call it a fact. */
  private static final String FACT =
      "(?:a fact|fact|facts|common sense|the truth|truth|science|biology|reality|obvious|statistics)";

  /** The frames, on normalized words (contractions expanded: "I'm" is "i am", "let's" "let"). */
  private static final List<Frame> FRAMES =
      List.of(
          new Frame(
              "disclaimer",
              "(?:\\bi am|\\bwe are|\\bi have never been|\\bi am a realist) (?:not|no)"
                  + " (?:a |an )?"
                  + BIGOT
                  + "(?: or anything)?(?: but)?"),
          new Frame("disclaimer", "\\bcall me (?:a |an )?(?:\\w+ )?\\w+ but"),
          new Frame(
              "disclaimer",
              "\\b(?:i have|i have got|i got) nothing against(?: them)?(?: but)?"
                  + "|\\bsome of my best friends are \\w+ but"
                  + "|\\bi am (?:tolerant|all for \\w+|open minded|not against \\w+) but"
                  + "|\\bi like \\w+ but"),
          new Frame(
              "concession",
              "\\b(?:no offense|no offence|with all due respect|with respect|do not get me wrong"
                  + "|say what you (?:want|will|like)|like it or not|i hate to say (?:it|this)"
                  + "|hate to say (?:it|this)|not all of them)(?: to anyone)?(?: but)?"),
          new Frame(
              "common-knowledge",
              "\\b(?:everyone|everybody|we all|the whole world) (?:knows|know|agrees|agree)"
                  + "(?: it| that)?"
                  + "|\\b(?:you|we|nobody|no one) can not deny(?: it| that)?"
                  + "|\\bi am (?:only |just )?saying what (?:everyone|everybody) (?:thinks|knows)"
                  + "|\\b(?:the )?truth (?:is|nobody will say|no one will say"
                  + "|nobody wants to hear|no one wants to hear)(?: that)?"
                  + "|\\bstereotypes? (?:exists?|are there) for a reason"
                  + "|\\b(?:they|people) (?:can )?call it a (?:myth|stereotype) but"
                  + "|\\bmy (?:grand)?(?:father|mother|dad|mom|parents) (?:was|were) right about"),
          new Frame(
              "appeal-to-fact",
              "\\b(?:it is|that is|this is) (?:just |simply |only |a )*"
                  + FACT
                  + "(?: that)?"
                  + "|\\bit is not (?:hate|racism|racist|sexist|bigotry|prejudice|a stereotype)"
                  + "(?: to say(?: that)?| if it is true| it is (?:the truth|a fact|facts))?"
                  + "|\\bfacts do not care about your feelings"
                  + "|\\b(?:studies|science|statistics|history|research|biology|the data|the numbers)"
                  + " (?:prove|proves|proved|show|shows|say|says|tell us|do not lie|does not lie)"
                  + "(?: that)?"
                  + "|\\bstatistically(?: speaking)?"),
          new Frame(
              "just-saying",
              "\\b(?:i am )?(?:just|only) (?:saying|asking questions|asking|being (?:honest|realistic"
                  + "|real))"
                  + "|\\b(?:let (?:us |me )?be|to be|if we are being|if i am being|i am being)"
                  + " (?:perfectly |brutally |completely |totally |really )?"
                  + "(?:honest|frank|blunt|real|realistic)"));

  /**
   * Words that make a statement of the group right after it: verbs of being, having and wanting,
   * modals, generalizing adverbs, and the verbs of the old accusations (control, steal, breed,
   * spread, ...).
   */
  private static final Set<String> PREDICATES =
      Set.of(
          "are",
          "is",
          "were",
          "was",
          "be",
          "can",
          "could",
          "will",
          "would",
          "should",
          "must",
          "do",
          "does",
          "did",
          "not",
          "never",
          "always",
          "all",
          "just",
          "really",
          "only",
          "simply",
          "naturally",
          "basically",
          "truly",
          "have",
          "has",
          "belong",
          "deserve",
          "want",
          "need",
          "control",
          "run",
          "own",
          "steal",
          "take",
          "breed",
          "spread",
          "ruin",
          "destroy",
          "hate",
          "lie",
          "cheat",
          "rape",
          "kill",
          "abuse",
          "prey",
          "eat",
          "smell",
          "bring",
          "look",
          "act");

  /** Words that report or reject what follows instead of saying it. */
  private static final Set<String> REPORTING =
      Set.of(
          "said",
          "says",
          "say",
          "claim",
          "claims",
          "claimed",
          "claiming",
          "wrote",
          "writes",
          "posted",
          "posts",
          "tweeted",
          "told",
          "tells",
          "called",
          "calls",
          "calling",
          "heard",
          "hear",
          "myth",
          "lie",
          "false",
          "untrue",
          "wrong",
          "stereotype",
          "excuse",
          "reported");

  /** Words between the frame and the group, and between the group and its predicate. */
  private static final int GROUP_WITHIN = 8;

  private static final int PREDICATE_WITHIN = 3;

  private static final IdentityLexicon LEXICON = IdentityLexicon.loadDefault();

  private PrejudiceFrames() {}

  /**
   * The sentences of {@code text} that state a generalization about a group inside a frame, in
   * order, each with the first frame that leads to one; at most {@link #MAX_MATCHES}.
   */
  public static List<RuleMatch> find(String text) {
    return findIn(RuleSentence.of(text));
  }

  /** {@link #find(String)} on sentences already split and normalized. */
  public static List<RuleMatch> findIn(List<RuleSentence> sentences) {
    return findIn(sentences, true);
  }

  /**
   * {@link #findIn(List)} with or without the lexicon's first-word filter ({@link
   * IdentityLexicon#startsNoEntry}) before the words are split and looked up: the tests check that
   * both agree.
   */
  static List<RuleMatch> findIn(List<RuleSentence> sentences, boolean useFilter) {
    List<RuleMatch> matches = new ArrayList<>();
    boolean sentenceMatched = false;
    for (RuleSentence sentence : sentences) {
      if (!sentence.continued()) {
        sentenceMatched = false;
      } else if (sentenceMatched) {
        continue; // a later window of a long sentence that already counted
      }
      String cut = sentence.sentence();
      if (quotes(cut)) {
        continue;
      }
      String words = sentence.words();
      if (words.isEmpty()
          || (useFilter && LEXICON.startsNoEntry(words))
          || LEXICON.mentions(Arrays.asList(words.split(" "))).isEmpty()) {
        // No group named, so no frame can lead to one: most sentences end here, after a lookup per
        // word instead of the frames' patterns (about 10 times as costly), and most of those at
        // the filter, which hashes the words in place instead of splitting and looking them up.
        continue;
      }
      RuleMatch match = firstFramed(cut, words);
      if (match != null) {
        matches.add(match);
        sentenceMatched = true;
        if (matches.size() == MAX_MATCHES) {
          break;
        }
      }
    }
    return List.copyOf(matches);
  }

  private static RuleMatch firstFramed(String sentence, String words) {
    for (Frame frame : FRAMES) {
      Matcher m = frame.pattern().matcher(words);
      while (m.find()) {
        if (reported(words.substring(0, m.start()))) {
          continue;
        }
        String statement = generalization(words.substring(m.end()).strip());
        if (statement != null) {
          return new RuleMatch(frame.name(), sentence, (m.group() + " " + statement).strip());
        }
      }
    }
    return null;
  }

  /**
   * The words from the first group named within {@link #GROUP_WITHIN} words to the predicate that
   * follows it, or null.
   */
  private static String generalization(String after) {
    if (after.isEmpty()) {
      return null;
    }
    List<String> words = Arrays.asList(after.split(" "));
    for (IdentityLexicon.Mention mention : LEXICON.mentions(words)) {
      if (mention.start() >= GROUP_WITHIN) {
        break;
      }
      int from = mention.end();
      if (from < words.size() && IdentityLexicon.PERSON_NOUNS.contains(words.get(from))) {
        from++; // "disabled people think ...": the lexicon names "disabled", the noun follows
      }
      int last = Math.min(words.size(), from + PREDICATE_WITHIN);
      for (int k = from; k < last; k++) {
        if (PREDICATES.contains(words.get(k))) {
          return String.join(" ", words.subList(mention.start(), k + 1));
        }
      }
    }
    return null;
  }

  private static boolean reported(String before) {
    for (String word : before.split(" ")) {
      if (REPORTING.contains(word)) {
        return true;
      }
    }
    return false;
  }

  private static boolean quotes(String sentence) {
    return sentence.indexOf('"') >= 0
        || sentence.indexOf('\u201C') >= 0
        || sentence.indexOf('\u201D') >= 0;
  }

  private record Frame(String name, Pattern pattern) {
    Frame(String name, String regex) {
      this(name, Pattern.compile("(?:" + regex + ")\\b"));
    }
  }
}
