package io.genguard.generator.builtin;

import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.backend.WatermarkStamp;
import io.genguard.generator.sampling.TokenSampler;
import io.genguard.provenance.text.WordTokenizer;
import io.genguard.provenance.watermark.WatermarkEmbedder;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkParameters;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The built-in backend: the interpolated Kneser-Ney model trained on English Europarl, sampling
 * token by token on the CPU with the watermark biasing every step's logits. Prompt conditioning:
 * the prompt's last words (unknown ones as the unknown word) are the first context.
 */
public final class BuiltinBackend implements GenerationBackend {
  public static final String NAME = "builtin";

  private final Supplier<BuiltinModelStore.Loaded> model;
  private final String modelName;
  private final WatermarkKey watermarkKey;
  private final WatermarkParameters watermarkParameters;
  private final Clock clock;

  /** Whether the last attempt to load or train the model failed ({@link #ready()}). */
  private volatile boolean loadFailed;

  /**
   * @param watermarkKey the key to embed with, or null for no watermark
   */
  public BuiltinBackend(
      Path cacheDirectory,
      int order,
      int minimumCount,
      WatermarkKey watermarkKey,
      WatermarkParameters watermarkParameters,
      Clock clock) {
    this(
        memoize(() -> BuiltinModelStore.loadOrTrain(cacheDirectory, order, minimumCount)),
        BuiltinModelStore.modelName(order),
        watermarkKey,
        watermarkParameters,
        clock);
  }

  /** A backend over an already loaded model (tests, benchmarks). */
  public BuiltinBackend(
      BuiltinModelStore.Loaded loaded,
      WatermarkKey watermarkKey,
      WatermarkParameters watermarkParameters,
      Clock clock) {
    this(() -> loaded, loaded.name(), watermarkKey, watermarkParameters, clock);
  }

  /** A backend over a model supplier that may fail (tests of readiness). */
  BuiltinBackend(
      Supplier<BuiltinModelStore.Loaded> model,
      String modelName,
      WatermarkKey watermarkKey,
      WatermarkParameters watermarkParameters,
      Clock clock) {
    this.model = model;
    this.modelName = modelName;
    this.watermarkKey = watermarkKey;
    this.watermarkParameters = watermarkParameters;
    this.clock = clock;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String defaultModel() {
    return modelName;
  }

  @Override
  public boolean serves(String model) {
    return modelName.equals(model);
  }

  @Override
  public int maxBatchSize() {
    // No batched kernel: requests are generated one after another.
    return 64;
  }

  @Override
  public boolean embedsWatermark() {
    return watermarkKey != null;
  }

  @Override
  public void warmUp() {
    model();
  }

  /** False while the last attempt to load or train the model failed (the next request retries). */
  @Override
  public boolean ready() {
    return !loadFailed;
  }

  private BuiltinModelStore.Loaded model() {
    BuiltinModelStore.Loaded loaded;
    try {
      loaded = model.get();
    } catch (RuntimeException | Error e) {
      loadFailed = true;
      throw e;
    }
    if (loadFailed) {
      loadFailed = false;
    }
    return loaded;
  }

  /**
   * Generates the texts one after another. Each request gets the time it had left when the chunk
   * began, counted from its own start: otherwise the last of 64 would have only what the 63 before
   * it left of one shared budget.
   */
  @Override
  public List<BackendOutcome> generate(List<BackendRequest> batch) {
    List<BackendOutcome> outcomes = new ArrayList<>(batch.size());
    Instant chunkStart = clock.instant();
    for (BackendRequest given : batch) {
      BackendRequest request = given;
      if (given.deadline().isAfter(chunkStart)) {
        request =
            new BackendRequest(
                given.requestId(),
                given.prompt(),
                given.model(),
                given.sampling(),
                clock.instant().plus(Duration.between(chunkStart, given.deadline())));
      }
      try {
        outcomes.add(BackendOutcome.of(generate(request)));
      } catch (BackendException e) {
        outcomes.add(BackendOutcome.failed(e));
      }
    }
    return outcomes;
  }

  /** Generates one text; also usable directly (benchmarks, tests). */
  public Generation generate(BackendRequest request) throws BackendException {
    return generate(request, watermarkKey != null);
  }

  /** Generates one text with or without the watermark (the benchmark's unwatermarked baseline). */
  public Generation generate(BackendRequest request, boolean watermark) throws BackendException {
    long started = System.nanoTime();
    BuiltinModelStore.Loaded loaded = model();
    KneserNeyModel lm = loaded.model();
    int order = lm.order();
    int maxTokens = request.sampling().maxTokens();
    List<String> promptTokens = WordTokenizer.tokenize(request.prompt());

    int[] history = new int[order - 1 + promptTokens.size() + maxTokens];
    Arrays.fill(history, 0, order - 1, KneserNeyModel.START);
    int length = order - 1;
    for (String token : promptTokens) {
      history[length++] = lm.id(token);
    }
    // The watermark context is the text's own token ids (prompt, then output), so a detector
    // re-tokenizing the published text sees the same contexts as this loop.
    int width = watermarkParameters.contextWidth();
    int[] watermarkContext = new int[width + promptTokens.size() + maxTokens];
    int watermarkLength = width; // zero padding for prompts shorter than h
    for (String token : promptTokens) {
      watermarkContext[watermarkLength++] = WordTokenizer.tokenId(token);
    }

    WatermarkEmbedder embedder =
        watermark ? new WatermarkEmbedder(watermarkKey, watermarkParameters) : null;
    TokenSampler sampler = new TokenSampler(request.sampling());
    int[] vocabularyIds = lm.watermarkIdsView();
    double[] probabilities = new double[lm.vocabularySize()];
    float[] logits = new float[lm.vocabularySize()];
    List<String> output = new ArrayList<>(maxTokens);
    for (int step = 0; step < maxTokens; step++) {
      if ((step & 7) == 0 && clock.instant().isAfter(request.deadline())) {
        throw BackendException.permanent(
            FailureCode.TIMEOUT,
            "built-in model ran out of time after " + step + " of " + maxTokens + " tokens",
            null);
      }
      lm.distribution(history, length, probabilities);
      for (int w = 0; w < logits.length; w++) {
        logits[w] = (float) Math.log(probabilities[w]);
      }
      logits[KneserNeyModel.UNKNOWN] = Float.NEGATIVE_INFINITY;
      logits[KneserNeyModel.START] = Float.NEGATIVE_INFINITY;
      if (embedder != null) {
        embedder.bias(logits, vocabularyIds, watermarkContext, watermarkLength);
      }
      int next = sampler.next(logits);
      history[length++] = next;
      watermarkContext[watermarkLength++] = vocabularyIds[next];
      output.add(lm.word(next));
    }
    return new Generation(
        WordTokenizer.detokenize(output),
        promptTokens.size(),
        output.size(),
        loaded.name(),
        loaded.version(),
        embedder == null
            ? null
            : new WatermarkStamp(WatermarkParameters.SCHEME, embedder.keyId(), watermarkParameters),
        "cpu",
        System.nanoTime() - started);
  }

  @Override
  public void close() {}

  private static <T> Supplier<T> memoize(Supplier<T> delegate) {
    return new Supplier<>() {
      private volatile T value;

      @Override
      public T get() {
        T result = value;
        if (result == null) {
          synchronized (this) {
            result = value;
            if (result == null) {
              result = delegate.get();
              value = result;
            }
          }
        }
        return result;
      }
    };
  }
}
