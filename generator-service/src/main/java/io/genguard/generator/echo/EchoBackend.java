package io.genguard.generator.echo;

import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.provenance.text.WordTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Returns the prompt as the output. This is how a platform gates text it produced elsewhere: the
 * text goes through moderation, the gate and the audit exactly like generated text, with a signed
 * manifest that names the echo backend (and no watermark, since nothing was sampled). The demo and
 * tests also use it to put known text through the pipeline.
 */
public final class EchoBackend implements GenerationBackend {
  public static final String NAME = "echo";
  public static final String MODEL = "echo";
  public static final String VERSION = "1";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String defaultModel() {
    return MODEL;
  }

  @Override
  public boolean serves(String model) {
    return model == null || MODEL.equals(model);
  }

  @Override
  public int maxBatchSize() {
    return 256;
  }

  @Override
  public boolean embedsWatermark() {
    return false;
  }

  @Override
  public List<BackendOutcome> generate(List<BackendRequest> batch) {
    List<BackendOutcome> outcomes = new ArrayList<>(batch.size());
    for (BackendRequest request : batch) {
      long begin = System.nanoTime();
      int tokens = WordTokenizer.tokenIds(request.prompt()).length;
      outcomes.add(
          BackendOutcome.of(
              new Generation(
                  request.prompt(),
                  tokens,
                  tokens,
                  MODEL,
                  VERSION,
                  null,
                  "none",
                  System.nanoTime() - begin)));
    }
    return outcomes;
  }

  @Override
  public void close() {}
}
