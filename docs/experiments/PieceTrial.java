package io.genguard.moderation.evaluation;

import io.genguard.moderation.policy.*;
import io.genguard.moderation.scoring.*;
import io.genguard.moderation.train.*;
import io.genguard.provenance.text.EuroparlCorpus;
import java.nio.file.Path;
import java.util.*;
import java.util.function.Function;

/**
 * The trial behind SentenceMaxScorer 1.1.0 (2026-12-04; moderation-stream/QUALITY.md, "How to
 * read"): the whole-text scores against sentence pieces (bare sentences, list headers joined to the
 * next sentence, and also fragments under 3 words joined), each at weights 1, 0.9, 0.85 and 0.8,
 * counted as the default policy decides. Not part of the build; from the repository root:
 *
 * <pre>
 * mvn -B -q -pl moderation-stream -am install -DskipTests
 * mvn -B -q -pl moderation-stream dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 * CP="moderation-stream/target/classes:$(cat moderation-stream/target/classpath.txt)"
 * javac -d /tmp/piece-trial -cp "$CP" docs/experiments/PieceTrial.java
 * java -Xmx6g -Dai.djl.offline=true -cp "/tmp/piece-trial:$CP" \
 *   io.genguard.moderation.evaluation.PieceTrial VALIDATION   # or TEST, or probes
 * </pre>
 *
 * <p>Each cell is "held of those that should be, held of those that should not be".
 */
public class PieceTrial {
  static final Set<String> RESPONSES = Set.of("coconot-response", "jailbreakbench-response");
  static ContentScorer model;
  static final Map<String, ContentScores> cache = new HashMap<>();

  static ContentScores score(String s) {
    return cache.computeIfAbsent(s, model::score);
  }

  static int words(String s) {
    int n = 0;
    for (String w : s.trim().split("\\s+")) {
      if (w.codePoints().anyMatch(Character::isLetterOrDigit)) n++;
    }
    return n;
  }

  static boolean header(String s) {
    String t = s.strip();
    int end = t.length();
    while (end > 0 && "*_#`".indexOf(t.charAt(end - 1)) >= 0) end--;
    return end > 0 && t.charAt(end - 1) == ':';
  }

  static List<String> sentences(String text) {
    List<String> s = Sentences.split(text);
    return s.size() > 1 ? s.subList(0, Math.min(64, s.size())) : List.of();
  }

  static List<String> pieces(String text, int minWords) {
    List<String> s = Sentences.split(text);
    if (s.size() < 2) return List.of();
    List<String> out = new ArrayList<>();
    String pending = null;
    for (String sentence : s) {
      String cur = pending == null ? sentence : pending + " " + sentence;
      if (header(sentence) || words(cur) < minWords) {
        pending = cur;
        continue;
      }
      out.add(cur);
      pending = null;
    }
    if (pending != null) {
      if (!out.isEmpty() && words(pending) < minWords) {
        out.set(out.size() - 1, out.get(out.size() - 1) + " " + pending);
      } else {
        out.add(pending);
      }
    }
    if (out.size() < 2) return List.of();
    return out.subList(0, Math.min(64, out.size()));
  }

  static ContentScores combine(ContentScores whole, List<String> pieces, double d) {
    double u = whole.unsafe();
    Map<Category, Double> c = new EnumMap<>(Category.class);
    c.putAll(whole.categories());
    for (String p : pieces) {
      ContentScores s = score(p);
      u = Math.max(u, d * s.unsafe());
      s.categories().forEach((k, v) -> c.merge(k, d * v, Math::max));
    }
    return new ContentScores(u, c);
  }

  record Variant(String name, Function<String, List<String>> pieces, double d) {}

  public static void main(String[] args) throws Exception {
    PolicySet policies = PolicyLoader.loadDefault();
    Policy policy = policies.forTenant("default");
    QualityReport q = new QualityReport(System.err, policies);
    model = MiniLmEnsembleScorer.loadDefault();
    List<Variant> variants = new ArrayList<>();
    variants.add(new Variant("whole", t -> List.of(), 1));
    for (double d : new double[] {1, 0.9, 0.85, 0.8}) {
      variants.add(new Variant("sentences d=" + d, PieceTrial::sentences, d));
      variants.add(new Variant("headers d=" + d, t -> pieces(t, 1), d));
      variants.add(new Variant("headers+min3 d=" + d, t -> pieces(t, 3), d));
    }
    Map<String, List<ProbeSet>> sets = new LinkedHashMap<>();
    if (args[0].equals("probes")) {
      for (String p : EvaluationSets.THREAT_PROBES) add(sets, p, EvaluationSets.threatProbe(p));
      for (String p : EvaluationSets.SELF_HARM_PROBES) add(sets, p, EvaluationSets.selfHarmProbe(p));
      EvaluationSets.groupProbes().forEach((name, g) -> {
        List<EvaluationSets.ProbeText> l = new ArrayList<>();
        g.hostile().forEach(t -> l.add(new EvaluationSets.ProbeText("h", t, true)));
        g.plain().forEach(t -> l.add(new EvaluationSets.ProbeText("p", t, false)));
        add(sets, name, l);
      });
      EvaluationSets es = new EvaluationSets(DataDirectory.resolve(null));
      List<EvaluationSets.ProbeText> xs = new ArrayList<>();
      for (EvaluationSets.XsTestPrompt x : es.xsTest()) xs.add(new EvaluationSets.ProbeText("x", x.prompt(), !x.safe()));
      add(sets, "xstest", xs);
      add(sets, "coconot-contrast", es.coconotContrast().stream().map(t -> new EvaluationSets.ProbeText("c", t, false)).toList());
      add(sets, "prose", EuroparlProse.heldOutSentences(EuroparlCorpus.load()).stream().map(t -> new EvaluationSets.ProbeText("e", t, false)).toList());
    } else {
      DeduplicatedSplit split = TrainingCorpus.load(DataDirectory.resolve(null));
      List<LabelledText> texts = split.get(DeduplicatedSplit.Split.valueOf(args[0]));
      List<EvaluationSets.ProbeText> all = new ArrayList<>();
      List<EvaluationSets.ProbeText> resp = new ArrayList<>();
      for (LabelledText t : texts) {
        if (t.source().startsWith("genguard-identity")) continue;
        if (t.labels()[0] == LabelledText.UNKNOWN) continue;
        EvaluationSets.ProbeText p = new EvaluationSets.ProbeText(t.source(), t.text(), t.labels()[0] == 1);
        all.add(p);
        if (RESPONSES.contains(t.source())) resp.add(p);
      }
      add(sets, args[0] + " all", all);
      add(sets, args[0] + " responses", resp);
    }
    System.out.printf("%-28s", "variant");
    for (String s : sets.keySet()) System.out.printf(" | %s held/should, held/shouldn't", s);
    System.out.println();
    for (Variant v : variants) {
      System.out.printf("%-28s", v.name());
      for (var e : sets.entrySet()) {
        int tp = 0, pos = 0, fp = 0, neg = 0;
        for (ProbeSet ps : e.getValue()) {
          ContentScores s = combine(score(ps.t.text()), v.pieces().apply(ps.t.text()), v.d());
          boolean f = q.flagged(policy, ps.t.text(), s);
          if (ps.t.held()) { pos++; tp += f ? 1 : 0; } else { neg++; fp += f ? 1 : 0; }
        }
        System.out.printf(" | %d/%d, %d/%d", tp, pos, fp, neg);
      }
      System.out.println();
    }
  }

  record ProbeSet(EvaluationSets.ProbeText t) {}

  static void add(Map<String, List<ProbeSet>> sets, String name, List<EvaluationSets.ProbeText> l) {
    sets.put(name, l.stream().map(ProbeSet::new).toList());
  }
}
