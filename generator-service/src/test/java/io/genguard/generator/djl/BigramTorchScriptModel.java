package io.genguard.generator.djl;

import io.genguard.provenance.text.WordTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

/**
 * A tiny causal LM the tests build themselves: bigram log-probabilities of a short text (add-0.1
 * smoothing) as the embedding, identity weights, so the TorchScript model's logits are tanh of log
 * P(next | previous) and its greedy continuation is known in advance.
 */
final class BigramTorchScriptModel {
  static final String TEXT =
      "the commission welcomes the report . the council adopts the report . the parliament votes on"
          + " the report today . the commission proposes a directive on energy . member states"
          + " support the directive . the council and the parliament agree on energy policy today"
          + " .";
  static final String UNKNOWN = "<unk>";
  static final String END = "</s>";

  final List<String> vocabulary;
  final double[][] logProbabilities;

  private BigramTorchScriptModel(List<String> vocabulary, double[][] logProbabilities) {
    this.vocabulary = vocabulary;
    this.logProbabilities = logProbabilities;
  }

  static BigramTorchScriptModel fromText() {
    List<String> tokens = WordTokenizer.tokenize(TEXT);
    List<String> vocabulary = new ArrayList<>(new TreeSet<>(tokens));
    vocabulary.add(UNKNOWN);
    vocabulary.add(END);
    int v = vocabulary.size();
    double[][] counts = new double[v][v];
    for (int i = 1; i < tokens.size(); i++) {
      counts[vocabulary.indexOf(tokens.get(i - 1))][vocabulary.indexOf(tokens.get(i))] += 1;
    }
    double[][] logProbabilities = new double[v][v];
    for (int a = 0; a < v; a++) {
      double total = 0;
      for (int b = 0; b < v; b++) {
        total += counts[a][b] + 0.1;
      }
      for (int b = 0; b < v; b++) {
        logProbabilities[a][b] = Math.log((counts[a][b] + 0.1) / total);
      }
    }
    return new BigramTorchScriptModel(vocabulary, logProbabilities);
  }

  /** Writes model.pt, vocab.txt and the properties (end-of-text entry) into the directory. */
  Path writeTo(Path directory) throws IOException {
    return writeTo(directory, true);
  }

  /**
   * @param endOfText whether "</s>" ends a text (else it is just a special entry never sampled)
   */
  Path writeTo(Path directory, boolean endOfText) throws IOException {
    int v = vocabulary.size();
    float[] embedding = new float[v * v];
    float[] identity = new float[v * v];
    for (int a = 0; a < v; a++) {
      identity[a * v + a] = 1f;
      for (int b = 0; b < v; b++) {
        embedding[a * v + b] = (float) logProbabilities[a][b];
      }
    }
    TorchScriptLanguageModelWriter.writeModelDirectory(
        directory,
        new TorchScriptLanguageModelWriter.Weights(
            v, v, embedding, identity, new float[v * v], identity),
        vocabulary);
    Properties properties = new Properties();
    properties.setProperty("name", "tiny-bigram");
    properties.setProperty("version", "test-1");
    if (endOfText) {
      properties.setProperty("eos", END);
    }
    try (var out =
        java.nio.file.Files.newBufferedWriter(
            directory.resolve(DjlModelDirectory.PROPERTIES_FILE))) {
      properties.store(out, "test model");
    }
    return directory;
  }

  /** The greedy continuation: the most likely next word, repeatedly, never the unknown entry. */
  List<String> greedy(String last, int length) {
    List<String> out = new ArrayList<>();
    int current = vocabulary.indexOf(last);
    for (int i = 0; i < length; i++) {
      int best = -1;
      for (int b = 0; b < vocabulary.size(); b++) {
        if (vocabulary.get(b).equals(UNKNOWN)) {
          continue;
        }
        if (best < 0 || logProbabilities[current][b] > logProbabilities[current][best]) {
          best = b;
        }
      }
      if (vocabulary.get(best).equals(END)) {
        break;
      }
      out.add(vocabulary.get(best));
      current = best;
    }
    return out;
  }
}
