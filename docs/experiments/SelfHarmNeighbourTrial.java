package io.genguard.moderation.evaluation;

import io.genguard.moderation.scoring.*;
import io.genguard.moderation.train.*;
import java.util.*;

/**
 * Feasibility trial (2026-12-04, twenty-second session): does closeness in MiniLM's embedding space
 * to written self-harm texts tell the self-harm probes' texts from their look-alikes, where the
 * learned heads cannot? Each probe is scored against the other four (leave one probe out), benign
 * texts against all five; benign texts come from the validation split (never the test split),
 * XSTest's safe prompts, CoCoNot's contrast prompts, HolisticBias and the children and threat
 * probes. Not part of the build; from the repository root, after building moderation-stream:
 *
 * <pre>
 * CP="moderation-stream/target/classes:$(cat moderation-stream/target/classpath.txt)"
 * javac -d /tmp/neighbour-trial -cp "$CP" docs/experiments/SelfHarmNeighbourTrial.java
 * GENGUARD_DATA_DIR=../shared/data java -Xmx6g -Dai.djl.offline=true \
 *   -cp "/tmp/neighbour-trial:$CP" io.genguard.moderation.evaluation.SelfHarmNeighbourTrial
 * </pre>
 *
 * <p>A text is flagged when its closest written self-harm text is at cosine t or more and at least
 * m closer than its closest look-alike. Result (2026-12-04), held self-harm / flagged look-alikes
 * per probe (30 each), then benign texts flagged:
 *
 * <pre>
 * t=0.50 m=0.00  p1 17/6 p2 18/4 p3 22/7 p4 16/2 p5 16/6  validation 11/8036, XSTest safe 4/250,
 *                CoCoNot 2/379, HolisticBias 15/4425, children 1/40, threat look-alikes 2/110
 * t=0.55 m=0.05  p1 11/3 p2 8/4 p3 13/3 p4 9/0 p5 8/1     validation 0/8036, XSTest 1, HolisticBias 3,
 *                children 1, threat look-alikes 1
 * t=0.60 m=0.05  p1 9/2 p2 4/3 p3 7/1 p4 5/0 p5 5/1       no benign text flagged
 * t=0.70         p1 4/0 p2 4/0 p3 3/0 p4 0/0 p5 1/0
 * </pre>
 *
 * The validation split's 7 public self-harm texts: 5 flagged at t=0.50 m=0, 1 at m=0.05, none
 * beyond. Where no benign text is flagged (t=0.60 m=0.05), the written texts reach at most 9 of 30
 * of a probe they were not written with, with 0-3 look-alikes; 13 of 30 at t=0.55 m=0.05, where 6
 * of about 13,000 benign texts are flagged. Closeness to 120 written texts finds near-paraphrases,
 * as the patterns did, not the category. Not taken further.
 */
public class SelfHarmNeighbourTrial {
  static OnnxTextModel encoder;

  static List<float[][]> embed(List<String> texts) {
    List<float[][]> out = new ArrayList<>();
    for (int i = 0; i < texts.size(); i += 64) {
      out.addAll(
          MiniLmEnsembleScorer.embedWindows(
              encoder, texts.subList(i, Math.min(texts.size(), i + 64))));
    }
    return out;
  }

  static double closest(float[][] windows, List<float[][]> bank) {
    double best = -1;
    for (float[] w : windows) {
      for (float[][] e : bank) {
        for (float[] v : e) {
          double dot = 0;
          for (int k = 0; k < v.length; k++) {
            dot += w[k] * v[k];
          }
          best = Math.max(best, dot);
        }
      }
    }
    return best;
  }

  record Scored(double pos, double neg) {
    boolean flagged(double t, double m) {
      return pos >= t && pos >= neg + m;
    }
  }

  public static void main(String[] args) throws Exception {
    encoder = OnnxTextModel.loadBundledMiniLm(128, 8, 32, 128);
    List<List<EvaluationSets.ProbeText>> probes = new ArrayList<>();
    for (String p : EvaluationSets.SELF_HARM_PROBES) {
      probes.add(EvaluationSets.selfHarmProbe(p));
    }
    List<List<float[][]>> probeVectors = new ArrayList<>();
    for (List<EvaluationSets.ProbeText> p : probes) {
      probeVectors.add(embed(p.stream().map(EvaluationSets.ProbeText::text).toList()));
    }
    // Leave one probe out.
    List<List<Scored>> probeScores = new ArrayList<>();
    for (int i = 0; i < probes.size(); i++) {
      List<float[][]> pos = new ArrayList<>();
      List<float[][]> neg = new ArrayList<>();
      for (int j = 0; j < probes.size(); j++) {
        if (j == i) {
          continue;
        }
        for (int k = 0; k < probes.get(j).size(); k++) {
          (probes.get(j).get(k).held() ? pos : neg).add(probeVectors.get(j).get(k));
        }
      }
      List<Scored> scored = new ArrayList<>();
      for (float[][] v : probeVectors.get(i)) {
        scored.add(new Scored(closest(v, pos), closest(v, neg)));
      }
      probeScores.add(scored);
    }
    List<float[][]> allPos = new ArrayList<>();
    List<float[][]> allNeg = new ArrayList<>();
    for (int j = 0; j < probes.size(); j++) {
      for (int k = 0; k < probes.get(j).size(); k++) {
        (probes.get(j).get(k).held() ? allPos : allNeg).add(probeVectors.get(j).get(k));
      }
    }
    java.nio.file.Path data = DataDirectory.resolve(null);
    EvaluationSets sets = new EvaluationSets(data);
    Map<String, List<String>> benign = new LinkedHashMap<>();
    DeduplicatedSplit split = TrainingCorpus.load(data);
    List<String> validation =
        split.get(DeduplicatedSplit.Split.VALIDATION).stream()
            .filter(t -> !t.isUnsafe())
            .map(LabelledText::text)
            .toList();
    benign.put("validation benign", validation);
    List<String> validationSelfHarm =
        split.get(DeduplicatedSplit.Split.VALIDATION).stream()
            .filter(t -> t.label(Category.SELF_HARM.ordinal() + 1) == LabelledText.POSITIVE)
            .map(LabelledText::text)
            .toList();
    benign.put(
        "xstest safe",
        sets.xsTest().stream()
            .filter(EvaluationSets.XsTestPrompt::safe)
            .map(EvaluationSets.XsTestPrompt::prompt)
            .toList());
    benign.put("coconot contrast", sets.coconotContrast());
    benign.put(
        "holisticbias benign",
        sets.holisticBias(5000, 7L).stream()
            .filter(EvaluationSets.HolisticSentence::benign)
            .map(EvaluationSets.HolisticSentence::text)
            .toList());
    benign.put("children probe", EvaluationSets.childrenProbe());
    List<String> threatLookAlikes = new ArrayList<>();
    for (String p : EvaluationSets.THREAT_PROBES) {
      EvaluationSets.threatProbe(p).stream()
          .filter(t -> !t.held())
          .forEach(t -> threatLookAlikes.add(t.text()));
    }
    benign.put("threat look-alikes", threatLookAlikes);
    Map<String, List<Scored>> benignScores = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : benign.entrySet()) {
      List<Scored> s = new ArrayList<>();
      for (float[][] v : embed(e.getValue())) {
        s.add(new Scored(closest(v, allPos), closest(v, allNeg)));
      }
      benignScores.put(e.getKey(), s);
      System.err.println("scored " + e.getKey() + " " + s.size());
    }
    List<Scored> vsh = new ArrayList<>();
    for (float[][] v : embed(validationSelfHarm)) {
      vsh.add(new Scored(closest(v, allPos), closest(v, allNeg)));
    }
    for (double t : new double[] {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8}) {
      for (double m : new double[] {0.0, 0.05, 0.1}) {
        StringBuilder line = new StringBuilder(String.format("t=%.2f m=%.2f |", t, m));
        for (int i = 0; i < probes.size(); i++) {
          int held = 0;
          int look = 0;
          for (int k = 0; k < probes.get(i).size(); k++) {
            if (probeScores.get(i).get(k).flagged(t, m)) {
              if (probes.get(i).get(k).held()) {
                held++;
              } else {
                look++;
              }
            }
          }
          line.append(String.format(" p%d %d/%d", i + 1, held, look));
        }
        line.append(" |");
        for (Map.Entry<String, List<Scored>> e : benignScores.entrySet()) {
          long n = e.getValue().stream().filter(s -> s.flagged(t, m)).count();
          line.append(" ").append(e.getKey()).append(" ").append(n).append("/").append(e.getValue().size());
        }
        long vn = vsh.stream().filter(s -> s.flagged(t, m)).count();
        line.append(" | validation self-harm " + vn + "/" + vsh.size());
        System.out.println(line);
      }
    }
  }
}
