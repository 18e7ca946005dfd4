package io.genguard.moderation.evaluation;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.OnnxTextModel;
import io.genguard.moderation.train.LabelledText;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The bare scorer's throughput on texts of about 100 tokens, scored in batches. */
public final class ThroughputBenchmark {
  static final int BATCH_SIZE = 32;
  static final int WORDS_PER_TEXT = 75; // about 100 WordPiece tokens of English

  private ThroughputBenchmark() {}

  /** {@code count} texts of about 100 tokens, made by joining consecutive held-out texts. */
  public static List<String> hundredTokenTexts(List<LabelledText> source, int count) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int words = 0;
    for (int i = 0; out.size() < count; i = (i + 1) % source.size()) {
      for (String word : source.get(i).text().split("\\s+")) {
        if (word.isEmpty()) {
          continue;
        }
        current.append(word).append(' ');
        if (++words == WORDS_PER_TEXT) {
          out.add(current.toString().strip());
          current.setLength(0);
          words = 0;
          if (out.size() == count) {
            break;
          }
        }
      }
    }
    return out;
  }

  /** Warms up, then scores every text in batches of {@value #BATCH_SIZE}; texts per second. */
  public static QualityReport.Throughput measure(
      ContentScorer scorer, List<String> texts, PrintStream log) {
    for (int i = 0; i < 3; i++) {
      scorer.scoreBatch(texts.subList(0, Math.min(texts.size(), BATCH_SIZE)));
    }
    long start = System.nanoTime();
    for (int from = 0; from < texts.size(); from += BATCH_SIZE) {
      scorer.scoreBatch(texts.subList(from, Math.min(texts.size(), from + BATCH_SIZE)));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double perSecond = texts.size() / seconds;
    double tokens = averageTokens(texts);
    double load =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    log.printf(
        "  throughput: %.0f texts/s (%d texts, %.0f tokens on average, batches of %d, load average %.1f)%n",
        perSecond, texts.size(), tokens, BATCH_SIZE, load);
    return new QualityReport.Throughput(texts.size(), tokens, perSecond, BATCH_SIZE, load);
  }

  /** Average WordPiece tokens (all-MiniLM-L6-v2's tokenizer, special tokens included). */
  static double averageTokens(List<String> texts) {
    try (InputStream in =
        ThroughputBenchmark.class.getResourceAsStream(OnnxTextModel.MINILM_TOKENIZER)) {
      if (in == null) {
        return Double.NaN;
      }
      try (HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(in, java.util.Map.of("truncation", "false"))) {
        long total = 0;
        for (String text : texts) {
          total += tokenizer.encode(text).getIds().length;
        }
        return total / (double) texts.size();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int words(String text) {
    return HashedNgramFeatures.words(text).size();
  }
}
