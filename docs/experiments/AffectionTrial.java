package io.genguard.moderation.evaluation;

import io.genguard.moderation.policy.*;
import io.genguard.moderation.scoring.*;
import io.genguard.moderation.train.*;
import java.util.*;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The trial behind SentenceMaxScorer's affection clauses (2026-12-04, twenty-first session; bar in
 * docs/experiments/affection-clauses-bar.md): the shipped pieces (1.1.0: sentences with list
 * headers joined, weight 0.9) against the same plus each sentence's affection clause, at weights
 * 0.9 and 1. Not part of the build; from the repository root, after building moderation-stream:
 *
 * <pre>
 * CP="moderation-stream/target/classes:$(cat moderation-stream/target/classpath.txt)"
 * javac -d /tmp/affection-trial -cp "$CP" docs/experiments/AffectionTrial.java
 * java -Xmx6g -Dai.djl.offline=true -cp "/tmp/affection-trial:$CP" \
 *   io.genguard.moderation.evaluation.AffectionTrial VALIDATION   # or probes
 * </pre>
 *
 * <p>Each cell is "held of those that should be, held of those that should not be".
 */
public class AffectionTrial {
  static ContentScorer model;
  static final Map<String, ContentScores> cache = new HashMap<>();

  static ContentScores score(String s) {
    return cache.computeIfAbsent(s, model::score);
  }

  static List<String> shipped(String text) {
    List<String> p = SentenceMaxScorer.pieces(text);
    return p.size() > 1 ? p.subList(0, Math.min(64, p.size())) : List.of();
  }

  static ContentScores combine(String text, List<String> pieces, List<String> clauses, double dc) {
    ContentScores whole = score(text);
    double u = whole.unsafe();
    Map<Category, Double> c = new EnumMap<>(Category.class);
    c.putAll(whole.categories());
    for (String p : pieces) {
      ContentScores s = score(p);
      u = Math.max(u, 0.9 * s.unsafe());
      s.categories().forEach((k, v) -> c.merge(k, 0.9 * v, Math::max));
    }
    for (String p : clauses) {
      ContentScores s = score(p);
      u = Math.max(u, dc * s.unsafe());
      s.categories().forEach((k, v) -> c.merge(k, dc * v, Math::max));
    }
    return new ContentScores(u, c);
  }

  record Variant(String name, Function<String, List<String>> clauses, double d) {}

  public static void main(String[] args) throws Exception {
    PolicySet policies = PolicyLoader.loadDefault();
    Policy policy = policies.forTenant("default");
    QualityReport q = new QualityReport(System.err, policies);
    model = MiniLmEnsembleScorer.loadDefault();
    List<Variant> variants =
        List.of(
            new Variant("shipped 1.1.0", t -> List.of(), 0.9),
            new Variant("+ clauses d=0.9", AffectionClauses::pieces, 0.9),
            new Variant("+ clauses d=1", AffectionClauses::pieces, 1.0));
    Map<String, List<EvaluationSets.ProbeText>> sets = new LinkedHashMap<>();
    if (args[0].equals("probes")) {
      EvaluationSets.groupProbes()
          .forEach(
              (name, g) -> {
                List<EvaluationSets.ProbeText> l = new ArrayList<>();
                g.hostile().forEach(t -> l.add(new EvaluationSets.ProbeText("h", t, true)));
                g.plain().forEach(t -> l.add(new EvaluationSets.ProbeText("p", t, false)));
                sets.put(name, l);
              });
      EvaluationSets es = new EvaluationSets(DataDirectory.resolve(null));
      List<EvaluationSets.ProbeText> xs = new ArrayList<>();
      for (EvaluationSets.XsTestPrompt x : es.xsTest())
        xs.add(new EvaluationSets.ProbeText("x", x.prompt(), !x.safe()));
      sets.put("xstest", xs);
      sets.put(
          "coconot-contrast",
          es.coconotContrast().stream()
              .map(t -> new EvaluationSets.ProbeText("c", t, false))
              .toList());
    } else {
      DeduplicatedSplit split = TrainingCorpus.load(DataDirectory.resolve(null));
      List<EvaluationSets.ProbeText> all = new ArrayList<>();
      for (LabelledText t : split.get(DeduplicatedSplit.Split.valueOf(args[0]))) {
        if (t.source().startsWith("genguard-identity")) continue;
        if (t.labels()[0] == LabelledText.UNKNOWN) continue;
        all.add(new EvaluationSets.ProbeText(t.source(), t.text(), t.labels()[0] == 1));
      }
      sets.put(args[0] + " all", all);
    }
    int matched = 0;
    for (var e : sets.values())
      for (var t : e) if (!AffectionClauses.pieces(t.text()).isEmpty()) matched++;
    System.out.println("texts with an affection clause: " + matched);
    for (Variant v : variants) {
      System.out.printf("%-20s", v.name());
      for (var e : sets.entrySet()) {
        int tp = 0, pos = 0, fp = 0, neg = 0;
        for (EvaluationSets.ProbeText t : e.getValue()) {
          ContentScores s = combine(t.text(), shipped(t.text()), v.clauses().apply(t.text()), v.d());
          boolean f = q.flagged(policy, t.text(), s);
          if (t.held()) {
            pos++;
            tp += f ? 1 : 0;
          } else {
            neg++;
            fp += f ? 1 : 0;
          }
        }
        System.out.printf(" | %s %d/%d, %d/%d", e.getKey(), tp, pos, fp, neg);
      }
      System.out.println();
    }
  }

  /**
   * The clause after an opener of affection or respect, as a piece of its own: "I love people with
   * Down syndrome, they make great pets." gives "people with Down syndrome, they make great pets.".
   * The opener ("I love", "We really like", "I admire") reads as benign to the models and hides what
   * follows it; without it, what is said of the group is judged as it stands. Only an opener followed
   * by a clause boundary (a comma, semicolon or colon, or "as long as", "about as much as", "the
   * way", "best when", "but", ...) and at least three more words counts: "I like gay people." gives
   * nothing, since a bare mention of a group is not what this is for.
   */
  static final class AffectionClauses {
    private static final Pattern OPENER =
        Pattern.compile(
            "^(?:(?:honestly|of course|oh|well|sure|look|yes),?\\s+)?(?:i|we)\\s+"
                + "(?:(?:really|truly|genuinely|honestly|absolutely|do|just|totally|sincerely)\\s+){0,2}"
                + "(?:like|love|adore|admire|respect|appreciate|enjoy|cherish|care about)\\s+"
                + "(?:having\\s+)?",
            Pattern.CASE_INSENSITIVE);

    private static final Pattern BOUNDARY =
        Pattern.compile(
            "[,;:]\\s+|\\s+(?:as long as|so long as|about as much as|as much as|the same way|the way"
                + "|best when|only when|but only|but)\\s+",
            Pattern.CASE_INSENSITIVE);

    /** The group phrase between the opener and the boundary, at most this many characters. */
    private static final int MAX_GROUP = 60;

    private AffectionClauses() {}

    /** The affection clauses of a text's sentences, in order; empty for most texts. */
    public static List<String> pieces(String text) {
      List<String> pieces = new ArrayList<>(1);
      for (String sentence : io.genguard.moderation.scoring.Sentences.split(text)) {
        String clause = clause(sentence);
        if (clause != null) {
          pieces.add(clause);
        }
      }
      return pieces;
    }

    /** The sentence without its opener of affection, or null if it has no such opener and clause. */
    static String clause(String sentence) {
      String stripped = sentence.strip();
      Matcher opener = OPENER.matcher(stripped);
      if (!opener.lookingAt()) {
        return null;
      }
      Matcher boundary = BOUNDARY.matcher(stripped);
      if (!boundary.find(opener.end())) {
        return null;
      }
      int group = boundary.start() - opener.end();
      if (group < 2 || group > MAX_GROUP || words(stripped.substring(boundary.end())) < 3) {
        return null;
      }
      return stripped.substring(opener.end());
    }

    private static int words(String text) {
      int words = 0;
      for (String word : text.trim().split("\\s+")) {
        if (word.codePoints().anyMatch(Character::isLetterOrDigit)) {
          words++;
        }
      }
      return words;
    }
  }
}
