package io.genguard.moderation.scoring;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trained part of {@link MiniLmEnsembleScorer}: per head, a logistic layer over the
 * all-MiniLM-L6-v2 sentence embedding, and the stacker that combines its margin with the n-gram
 * head's margin into a calibrated probability. Stored as JSON (a few thousand numbers).
 *
 * @param version model version
 * @param ngramModel the exact n-gram model version the stackers were fitted with (its margins are
 *     inputs, so another n-gram model would make the stackers wrong)
 * @param maxTokens tokens per window fed to MiniLM
 * @param maxWindows windows per text at most
 * @param packTokens whole sentences are packed into windows up to this many tokens
 * @param embeddingHeads per head: 384 weights, then the bias
 * @param stackers per head: weights for (n-gram margin, embedding margin) and a bias
 */
public record EnsembleHeads(
    @JsonProperty("version") String version,
    @JsonProperty("ngramModel") String ngramModel,
    @JsonProperty("maxTokens") int maxTokens,
    @JsonProperty("maxWindows") int maxWindows,
    @JsonProperty("packTokens") int packTokens,
    @JsonProperty("embeddingHeads") Map<String, double[]> embeddingHeads,
    @JsonProperty("stackers") Map<String, StackerJson> stackers) {

  /** JSON form of a {@link StackedLogistic}. */
  public record StackerJson(
      @JsonProperty("weights") double[] weights, @JsonProperty("bias") double bias) {
    public StackedLogistic toStacker() {
      return new StackedLogistic(weights, bias);
    }

    public static StackerJson of(StackedLogistic stacker) {
      return new StackerJson(stacker.weights(), stacker.bias());
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public EnsembleHeads {
    embeddingHeads = new LinkedHashMap<>(embeddingHeads);
    stackers = new LinkedHashMap<>(stackers);
    for (String head : requiredHeads()) {
      if (!embeddingHeads.containsKey(head) || !stackers.containsKey(head)) {
        throw new IllegalArgumentException(
            "ensemble heads " + version + " lack head '" + head + "'");
      }
    }
  }

  static List<String> requiredHeads() {
    List<String> heads = new java.util.ArrayList<>();
    heads.add(NgramLogisticModel.UNSAFE_HEAD);
    for (Category category : Category.values()) {
      heads.add(category.id());
    }
    return heads;
  }

  public static EnsembleHeads read(InputStream in) throws IOException {
    return JSON.readValue(in, EnsembleHeads.class);
  }

  public byte[] toJson() throws IOException {
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
  }

  /** Margin of one embedding head. */
  public double embeddingMargin(String head, float[] embedding) {
    double[] w = embeddingHeads.get(head);
    double z = w[w.length - 1];
    for (int i = 0; i < embedding.length; i++) {
      z += w[i] * embedding[i];
    }
    return z;
  }
}
