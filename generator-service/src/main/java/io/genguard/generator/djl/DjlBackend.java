package io.genguard.generator.djl;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
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
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generates with a causal language model exported to TorchScript, through DJL's PyTorch engine, on
 * the GPU when DJL finds one (device "auto") and on the CPU otherwise. The sampling loop is the
 * built-in model's: the model's next-token logits, the watermark bias, temperature, top-k, top-p.
 *
 * <p>The model directory holds {@value DjlModelDirectory#MODEL_FILE} (forward(input_ids: int64
 * [batch, time]) returning logits [batch, time, vocabulary], or a tuple whose first element is),
 * {@value DjlModelDirectory#VOCABULARY_FILE} and optionally {@value
 * DjlModelDirectory#PROPERTIES_FILE}. Vocabularies are word-level over {@link WordTokenizer}
 * tokens, so the watermark is detectable from text with the same detector as the built-in model;
 * entries that are not such tokens ({@code <unk>}, {@code <pad>}, {@code </s>}) are never sampled,
 * except the configured end-of-text entry, which stops generation.
 *
 * <p>A micro-batch runs in lockstep: one forward pass per step for every unfinished request,
 * right-padded (position t of a causal model does not see later padding), each row's logits read at
 * its own last position. There is no key-value cache: each step re-reads the whole (clipped)
 * context, O(T^2) per text.
 *
 * <p>A model that fails to load (the folder not mounted yet, a corrupt {@code model.pt}, the CUDA
 * libraries missing) is not tried again on every batch: the failure is remembered and the load
 * retried after {@link #FIRST_LOAD_RETRY}, doubling up to {@link #MAX_LOAD_RETRY}, each request
 * meanwhile failing at once with the reason ({@link #whyNotReady} says it too, so that a pool
 * answering only this backend can leave its requests in Kafka instead). A failed load closes what
 * it opened: each try used to leave a native model manager behind.
 */
public final class DjlBackend implements GenerationBackend {
  public static final String NAME = "djl";
  private static final Logger LOG = LoggerFactory.getLogger(DjlBackend.class);
  static final String GRAPH_OPTIMIZER_PROPERTY = "ai.djl.pytorch.graph_optimizer";

  /** Largest vocabulary file read, in bytes. */
  public static final long MAX_VOCABULARY_BYTES = 64L * 1024 * 1024;

  /** How long after a failed load the model is first tried again; the wait doubles per failure. */
  public static final Duration FIRST_LOAD_RETRY = Duration.ofSeconds(5);

  /**
   * Longest wait between load attempts: an operator who mounts the missing folder or puts the
   * libraries in place sees the backend serve within this, without a restart.
   */
  public static final Duration MAX_LOAD_RETRY = Duration.ofMinutes(1);

  private final Path modelDirectory;
  private final String requestedDevice;
  private final int maxBatchSize;
  private final int maxContextTokens;
  private final WatermarkKey watermarkKey;
  private final WatermarkParameters watermarkParameters;
  private final Clock clock;
  private final String modelName;

  private volatile Loaded loaded;

  /** The last failed load while no load has succeeded since; written under this object's lock. */
  private volatile LoadFailure loadFailure;

  /** Set by {@link #close}: nothing loads after it. Guarded by this. */
  private boolean closed;

  /**
   * The last forward pass that failed in the engine (CUDA out of memory, a CUDA error) while no
   * batch has run since; written under this object's lock.
   */
  private volatile LoadFailure engineFailure;

  /** How a forward pass runs; tests replace it to fail as a GPU would. */
  private volatile ForwardPass forwardPass = Predictor::predict;

  /** One forward pass of the model. */
  @FunctionalInterface
  interface ForwardPass {
    NDList run(Predictor<NDList, NDList> predictor, NDList input) throws TranslateException;
  }

  /**
   * Why the model did not load (or a forward pass failed), how many tries failed in a row, when to
   * try again, and the id that the reason tenants see and the operator log line share.
   */
  private record LoadFailure(
      BackendException error, int attempts, Instant nextAttempt, String errorId) {}

  /** What loading the directory produced. */
  private record Loaded(
      Model model,
      Device device,
      String version,
      String[] vocabulary,
      Map<String, Integer> index,
      int[] watermarkIds,
      boolean[] banned,
      int endOfText,
      int unknown) {}

  /**
   * @param device auto, cpu or gpu
   * @param watermarkKey key to embed with, or null for no watermark
   */
  public DjlBackend(
      Path modelDirectory,
      String device,
      int maxBatchSize,
      int maxContextTokens,
      WatermarkKey watermarkKey,
      WatermarkParameters watermarkParameters,
      Clock clock) {
    // A relative path is the working directory's; the model file itself names its directory, and
    // any other file is refused (its directory's model.pt would be loaded in its place).
    Path given = modelDirectory.toAbsolutePath().normalize();
    if (Files.isRegularFile(given)) {
      if (!given.getFileName().toString().equals(DjlModelDirectory.MODEL_FILE)) {
        throw new IllegalArgumentException(
            "The DJL model path "
                + given
                + " is a file other than "
                + DjlModelDirectory.MODEL_FILE
                + "; name the model directory, which holds "
                + DjlModelDirectory.MODEL_FILE
                + " and "
                + DjlModelDirectory.VOCABULARY_FILE);
      }
      given = given.getParent();
    }
    this.modelDirectory = given;
    this.requestedDevice = device;
    this.maxBatchSize = maxBatchSize;
    this.maxContextTokens = maxContextTokens;
    this.watermarkKey = watermarkKey;
    this.watermarkParameters = watermarkParameters;
    this.clock = clock;
    this.modelName =
        readProperties(this.modelDirectory)
            .getProperty("name", this.modelDirectory.getFileName().toString());
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
    return maxBatchSize;
  }

  @Override
  public boolean embedsWatermark() {
    return watermarkKey != null;
  }

  /** The device the model runs on, loading it if needed: cpu or gpu(N). */
  public String device() throws BackendException {
    return describe(load().device());
  }

  @Override
  public void warmUp() throws BackendException {
    load();
  }

  @Override
  public Optional<String> whyNotReady() {
    try {
      load();
      checkEngine();
      return Optional.empty();
    } catch (BackendException e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * False while the last load failed, and after a forward pass failed in the engine until a batch
   * runs again.
   */
  @Override
  public boolean ready() {
    return loadFailure == null && engineFailure == null;
  }

  void forwardPass(ForwardPass forwardPass) {
    this.forwardPass = forwardPass;
  }

  @Override
  public List<BackendOutcome> generate(List<BackendRequest> batch) {
    List<BackendOutcome> outcomes = new ArrayList<>(batch.size());
    try {
      outcomes.addAll(generateBatch(batch, watermarkKey != null));
    } catch (BackendException e) {
      for (int i = 0; i < batch.size(); i++) {
        outcomes.add(BackendOutcome.failed(e));
      }
    }
    return outcomes;
  }

  /** Generates a batch in lockstep; also used by the benchmark (with or without watermark). */
  public List<BackendOutcome> generateBatch(List<BackendRequest> batch, boolean watermark)
      throws BackendException {
    Loaded model = load();
    checkEngine();
    long started = System.nanoTime();
    int size = batch.size();
    Sequence[] sequences = new Sequence[size];
    for (int i = 0; i < size; i++) {
      sequences[i] = new Sequence(batch.get(i), model, watermark);
    }
    BackendException[] failures = new BackendException[size];
    int vocabulary = model.vocabulary().length;
    try (Predictor<NDList, NDList> predictor = model.model().newPredictor(new NoopTranslator());
        NDManager manager = model.model().getNDManager().newSubManager(model.device())) {
      while (true) {
        List<Integer> active = new ArrayList<>();
        for (int i = 0; i < size; i++) {
          if (failures[i] == null && !sequences[i].finished()) {
            if (clock.instant().isAfter(batch.get(i).deadline())) {
              failures[i] =
                  BackendException.permanent(
                      FailureCode.TIMEOUT,
                      "DJL model ran out of time after "
                          + sequences[i].generated.size()
                          + " of "
                          + batch.get(i).sampling().maxTokens()
                          + " tokens",
                      null);
            } else {
              active.add(i);
            }
          }
        }
        if (active.isEmpty()) {
          break;
        }
        int width = 0;
        for (int i : active) {
          width = Math.max(width, sequences[i].contextLength());
        }
        long[][] input = new long[active.size()][width];
        for (int row = 0; row < active.size(); row++) {
          sequences[active.get(row)].fillContext(input[row]);
        }
        float[][] logits = nextLogits(predictor, manager, input, active, sequences, vocabulary);
        for (int row = 0; row < active.size(); row++) {
          int i = active.get(row);
          try {
            sequences[i].advance(logits[row]);
          } catch (TokenSampler.InvalidLogitsException e) {
            // Only this request fails: the others of the batch have their own rows.
            failures[i] =
                BackendException.permanent(
                    FailureCode.BACKEND_ERROR,
                    "DJL model '"
                        + modelName
                        + "' gave unusable logits after "
                        + sequences[i].generated.size()
                        + " generated tokens: "
                        + e.getMessage(),
                    e);
          }
        }
      }
    } catch (TranslateException | EngineException e) {
      // The engine failed, not the requests (CUDA out of memory, a CUDA error): worth another
      // try, and reported not ready meanwhile, so a pool answering only this backend holds.
      throw engineFailed(e);
    }
    if (engineFailure != null) {
      clearEngineFailure();
    }
    long share = (System.nanoTime() - started) / Math.max(1, size);
    List<BackendOutcome> outcomes = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      outcomes.add(
          failures[i] != null
              ? BackendOutcome.failed(failures[i])
              : BackendOutcome.of(sequences[i].toGeneration(share)));
    }
    return outcomes;
  }

  private float[][] nextLogits(
      Predictor<NDList, NDList> predictor,
      NDManager manager,
      long[][] input,
      List<Integer> active,
      Sequence[] sequences,
      int vocabulary)
      throws TranslateException, BackendException {
    try (NDManager step = manager.newSubManager()) {
      NDArray ids = step.create(input).toType(DataType.INT64, false);
      NDList output = forwardPass.run(predictor, new NDList(ids));
      NDArray all = output.get(0);
      long[] shape = all.getShape().getShape();
      if (shape.length != 3
          || shape[0] != input.length
          || shape[1] != input[0].length
          || shape[2] != vocabulary) {
        throw BackendException.permanent(
            FailureCode.BACKEND_ERROR,
            "DJL model returned logits of shape "
                + all.getShape()
                + ", expected ("
                + input.length
                + ", "
                + input[0].length
                + ", "
                + vocabulary
                + ") for "
                + vocabulary
                + " vocabulary entries",
            null);
      }
      float[][] rows = new float[input.length][];
      for (int row = 0; row < input.length; row++) {
        int last = sequences[active.get(row)].contextLength() - 1;
        rows[row] = all.get(row, last).toType(DataType.FLOAT32, false).toFloatArray();
      }
      output.close();
      return rows;
    }
  }

  /** One request's state in the lockstep loop. */
  private final class Sequence {
    final BackendRequest request;
    final Loaded model;
    final int[] tokens;
    int length;
    final int promptTokens;
    final List<String> generated = new ArrayList<>();
    final int[] watermarkContext;
    int watermarkLength;
    final WatermarkEmbedder embedder;
    final TokenSampler sampler;
    boolean ended;

    Sequence(BackendRequest request, Loaded model, boolean watermark) {
      this.request = request;
      this.model = model;
      int maxTokens = request.sampling().maxTokens();
      List<String> prompt = WordTokenizer.tokenize(request.prompt());
      this.tokens = new int[Math.max(1, prompt.size()) + maxTokens];
      for (String token : prompt) {
        Integer id = model.index().get(token);
        if (id != null) {
          tokens[length++] = id;
        } else if (model.unknown() >= 0) {
          tokens[length++] = model.unknown();
        }
      }
      if (length == 0) {
        // Nothing of the prompt is in the vocabulary: start from the unknown entry (or id 0).
        tokens[length++] = Math.max(0, model.unknown());
      }
      this.promptTokens = prompt.size();
      int width = watermarkParameters.contextWidth();
      this.watermarkContext = new int[width + prompt.size() + maxTokens];
      this.watermarkLength = width;
      for (String token : prompt) {
        watermarkContext[watermarkLength++] = WordTokenizer.tokenId(token);
      }
      this.embedder = watermark ? new WatermarkEmbedder(watermarkKey, watermarkParameters) : null;
      this.sampler = new TokenSampler(request.sampling());
    }

    boolean finished() {
      return ended || generated.size() >= request.sampling().maxTokens();
    }

    int contextLength() {
      return Math.min(length, maxContextTokens);
    }

    void fillContext(long[] row) {
      int from = length - contextLength();
      for (int i = 0; i < contextLength(); i++) {
        row[i] = tokens[from + i];
      }
      // The rest stays 0: right padding, never seen by the positions read.
    }

    void advance(float[] logits) {
      for (int i = 0; i < logits.length; i++) {
        if (model.banned()[i]) {
          logits[i] = Float.NEGATIVE_INFINITY;
        }
      }
      if (embedder != null) {
        embedder.bias(logits, model.watermarkIds(), watermarkContext, watermarkLength);
      }
      int next = sampler.next(logits);
      if (next == model.endOfText()) {
        ended = true;
        return;
      }
      tokens[length++] = next;
      watermarkContext[watermarkLength++] = model.watermarkIds()[next];
      generated.add(model.vocabulary()[next]);
    }

    Generation toGeneration(long computeNanos) {
      return new Generation(
          WordTokenizer.detokenize(generated),
          promptTokens,
          generated.size(),
          modelName,
          model.version(),
          embedder == null
              ? null
              : new WatermarkStamp(
                  WatermarkParameters.SCHEME, embedder.keyId(), watermarkParameters),
          describe(model.device()),
          computeNanos);
    }
  }

  /**
   * The loaded model, loading it if it never was, or if it failed to load and its retry is due;
   * otherwise the remembered failure, at once.
   */
  private Loaded load() throws BackendException {
    Loaded current = loaded;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (loaded != null) {
        return loaded;
      }
      if (closed) {
        // A worker the shutdown gave up waiting for: no model is loaded that nobody would close.
        throw BackendException.permanent(
            FailureCode.BACKEND_UNAVAILABLE,
            "the DJL backend is closed (the generator stops)",
            null);
      }
      Instant now = clock.instant();
      LoadFailure previous = loadFailure;
      if (previous != null && now.isBefore(previous.nextAttempt())) {
        throw notLoaded(previous);
      }
      try {
        loaded = doLoad();
      } catch (BackendException e) {
        throw remember(previous, e, now);
      } catch (RuntimeException | LinkageError e) {
        // DJL's own failures beyond the ones named (a native library that does not link: an
        // UnsatisfiedLinkError) are as much a model that does not load.
        throw remember(
            previous,
            BackendException.permanent(
                FailureCode.BACKEND_UNAVAILABLE,
                "DJL could not load the model in " + modelDirectory + ": " + e,
                e),
            now);
      }
      loadFailure = null;
      if (previous != null) {
        LOG.info(
            "DJL model {} loaded after {} failed attempt(s); serving",
            modelName,
            previous.attempts());
      }
      return loaded;
    }
  }

  /** Records a failed load and returns the failure each request gets until the next try. */
  private BackendException remember(LoadFailure previous, BackendException error, Instant now) {
    int attempts = previous == null ? 1 : previous.attempts() + 1;
    Duration wait = loadRetryWait(attempts);
    LoadFailure failure =
        new LoadFailure(error, attempts, now.plus(wait), BackendException.newErrorId());
    loadFailure = failure;
    LOG.error(
        "DJL model {} could not be loaded (attempt {}, error id {}): {}; trying again in {} s",
        modelName,
        attempts,
        failure.errorId(),
        error.getMessage(),
        wait.toSeconds());
    return notLoaded(failure);
  }

  /** The failure each request gets while a failed forward pass's back-off runs, if one does. */
  private void checkEngine() throws BackendException {
    LoadFailure failure = engineFailure;
    if (failure != null && clock.instant().isBefore(failure.nextAttempt())) {
      throw engineUnavailable(failure);
    }
  }

  /** Records a forward pass that failed in the engine; returns the failure of its batch. */
  private synchronized BackendException engineFailed(Exception e) {
    LoadFailure previous = engineFailure;
    int attempts = previous == null ? 1 : previous.attempts() + 1;
    Duration wait = loadRetryWait(attempts);
    LoadFailure failure =
        new LoadFailure(
            BackendException.transientFailure(FailureCode.BACKEND_UNAVAILABLE, e.toString(), e),
            attempts,
            clock.instant().plus(wait),
            BackendException.newErrorId());
    engineFailure = failure;
    LOG.error(
        "DJL model {} in {} failed in a forward pass ({} in a row, error id {}); reported not"
            + " ready, next batch in {} s at the earliest",
        modelName,
        modelDirectory,
        attempts,
        failure.errorId(),
        wait.toSeconds(),
        e);
    return engineUnavailable(failure);
  }

  private synchronized void clearEngineFailure() {
    LoadFailure previous = engineFailure;
    if (previous != null) {
      engineFailure = null;
      LOG.info(
          "DJL model {} ran a batch after {} failed forward pass(es); ready",
          modelName,
          previous.attempts());
    }
  }

  /**
   * Transient, with the back-off as its retry-after: the worker tries the request again once the
   * engine is, if its budget lasts that long.
   */
  private BackendException engineUnavailable(LoadFailure failure) {
    Duration wait = Duration.between(clock.instant(), failure.nextAttempt());
    return BackendException.retryAfter(
        FailureCode.BACKEND_UNAVAILABLE,
        wait.isNegative() ? Duration.ZERO : wait,
        "DJL model '"
            + modelName
            + "' failed while generating (error id "
            + failure.errorId()
            + "; the generator log has the detail); it is tried again from "
            + failure.nextAttempt().truncatedTo(ChronoUnit.SECONDS));
  }

  /**
   * {@link #FIRST_LOAD_RETRY} after the first failure, doubling, at most {@link #MAX_LOAD_RETRY}.
   */
  static Duration loadRetryWait(int attempts) {
    Duration wait = FIRST_LOAD_RETRY;
    for (int i = 1; i < attempts && wait.compareTo(MAX_LOAD_RETRY) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    return wait.compareTo(MAX_LOAD_RETRY) < 0 ? wait : MAX_LOAD_RETRY;
  }

  private BackendException notLoaded(LoadFailure failure) {
    return BackendException.permanent(
        FailureCode.BACKEND_UNAVAILABLE,
        "DJL model '"
            + modelName
            + "' is not available, its model could not be loaded (error id "
            + failure.errorId()
            + "; the generator log has the detail) ("
            + failure.attempts()
            + " failed load attempt(s); the next at "
            + failure.nextAttempt().truncatedTo(ChronoUnit.SECONDS)
            + ", send the request again after that)",
        failure.error());
  }

  private Loaded doLoad() throws BackendException {
    Path modelFile = modelDirectory.resolve(DjlModelDirectory.MODEL_FILE);
    Path vocabularyFile = modelDirectory.resolve(DjlModelDirectory.VOCABULARY_FILE);
    for (Path required : List.of(modelFile, vocabularyFile)) {
      if (!Files.isRegularFile(required)) {
        throw BackendException.permanent(
            FailureCode.BACKEND_UNAVAILABLE,
            "DJL model directory "
                + modelDirectory
                + " has no "
                + required.getFileName()
                + "; it needs "
                + DjlModelDirectory.MODEL_FILE
                + " (TorchScript) and "
                + DjlModelDirectory.VOCABULARY_FILE,
            null);
      }
    }
    Properties properties = readProperties(modelDirectory);
    String[] vocabulary;
    try {
      long bytes = Files.size(vocabularyFile);
      if (bytes > MAX_VOCABULARY_BYTES) {
        throw BackendException.permanent(
            FailureCode.BACKEND_UNAVAILABLE,
            vocabularyFile
                + " has "
                + bytes
                + " bytes, more than the limit of "
                + MAX_VOCABULARY_BYTES
                + "; it should hold one vocabulary entry per line",
            null);
      }
      vocabulary =
          Files.readAllLines(vocabularyFile, StandardCharsets.UTF_8).toArray(String[]::new);
    } catch (IOException e) {
      throw BackendException.permanent(
          FailureCode.BACKEND_UNAVAILABLE, "cannot read " + vocabularyFile + ": " + e, e);
    }
    Map<String, Integer> index = new HashMap<>();
    int[] watermarkIds = new int[vocabulary.length];
    boolean[] banned = new boolean[vocabulary.length];
    String eos = properties.getProperty("eos");
    String unknownEntry = properties.getProperty("unknown", "<unk>");
    int endOfText = -1;
    int unknown = -1;
    for (int i = 0; i < vocabulary.length; i++) {
      String entry = vocabulary[i];
      watermarkIds[i] = WordTokenizer.tokenId(entry);
      if (entry.equals(eos)) {
        endOfText = i;
      } else if (WordTokenizer.isToken(entry)) {
        index.putIfAbsent(entry, i);
      } else {
        banned[i] = true;
      }
      if (entry.equals(unknownEntry)) {
        unknown = i;
      }
    }
    if (index.isEmpty()) {
      // Every step would mask every entry but the end of text: nothing could be generated.
      throw BackendException.permanent(
          FailureCode.BACKEND_UNAVAILABLE,
          vocabularyFile
              + " has no entry the model could generate ("
              + vocabulary.length
              + " lines, none a word or punctuation token); it needs one entry per line, line n"
              + " being token id n",
          null);
    }
    Device device = chooseDevice();
    Model model = Model.newInstance(modelName, device, "PyTorch");
    boolean kept = false;
    try {
      model.load(modelDirectory, "model");
      String version = properties.getProperty("version", "sha256:" + shortDigest(modelFile));
      LOG.info(
          "Loaded DJL model {} ({} vocabulary entries) from {} on {}",
          modelName,
          vocabulary.length,
          modelFile,
          device);
      kept = true;
      return new Loaded(
          model, device, version, vocabulary, index, watermarkIds, banned, endOfText, unknown);
    } catch (IOException | MalformedModelException | EngineException e) {
      throw BackendException.permanent(
          FailureCode.BACKEND_UNAVAILABLE,
          "DJL could not load "
              + modelFile
              + " with the PyTorch engine: "
              + e.getMessage()
              + " (is it a TorchScript export, and is ai.djl.pytorch:pytorch-native-cpu or the CUDA"
              + " build on the classpath?)",
          e);
    } finally {
      if (!kept) {
        // The model registered a native manager with the engine when it was created.
        closeQuietly(model);
      }
    }
  }

  private static void closeQuietly(Model model) {
    try {
      model.close();
    } catch (RuntimeException e) {
      LOG.warn("Closing a DJL model that did not load failed: {}", e.toString());
    }
  }

  private Device chooseDevice() throws BackendException {
    // TorchScript's profiling graph executor re-specialises the graph for every new input shape,
    // and a growing context changes the shape at every step: measured here, it made batch-1
    // decoding about 10x slower. Off unless the user set it.
    if (System.getProperty(GRAPH_OPTIMIZER_PROPERTY) == null) {
      System.setProperty(GRAPH_OPTIMIZER_PROPERTY, "false");
    }
    Engine engine;
    try {
      engine = Engine.getEngine("PyTorch");
    } catch (RuntimeException | LinkageError e) {
      throw BackendException.permanent(
          FailureCode.BACKEND_UNAVAILABLE,
          "DJL's PyTorch engine is not available ("
              + e.getMessage()
              + "); put ai.djl.pytorch:pytorch-engine, pytorch-jni and pytorch-native-cpu"
              + " (classifier linux-x86_64) or the CUDA build on the classpath",
          e);
    }
    int gpus = engine.getGpuCount();
    return switch (requestedDevice) {
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        if (gpus == 0) {
          throw BackendException.permanent(
              FailureCode.BACKEND_UNAVAILABLE,
              "GENGUARD_GENERATOR_DJL_DEVICE is gpu but DJL finds no GPU (is the CUDA build of"
                  + " pytorch-native on the classpath?); use auto or cpu",
              null);
        }
        yield Device.gpu();
      }
      default -> gpus > 0 ? Device.gpu() : Device.cpu();
    };
  }

  private static String describe(Device device) {
    return device.isGpu() ? "gpu:" + device.getDeviceId() : "cpu";
  }

  private static Properties readProperties(Path directory) {
    Properties properties = new Properties();
    Path file = directory.resolve(DjlModelDirectory.PROPERTIES_FILE);
    if (Files.isRegularFile(file)) {
      try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        properties.load(reader);
      } catch (IOException | IllegalArgumentException e) {
        // Properties.load throws IllegalArgumentException for a malformed unicode escape.
        throw new IllegalArgumentException("Cannot read " + file + ": " + e.getMessage(), e);
      }
    }
    return properties;
  }

  private static String shortDigest(Path file) throws BackendException {
    try (var in = Files.newInputStream(file)) {
      var digest = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int read = in.read(buffer); read > 0; read = in.read(buffer)) {
        digest.update(buffer, 0, read);
      }
      return java.util.HexFormat.of().formatHex(Arrays.copyOf(digest.digest(), 6));
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw BackendException.permanent(
          FailureCode.BACKEND_UNAVAILABLE, "cannot read " + file + ": " + e, e);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (loaded != null) {
      loaded.model().close();
      loaded = null;
    }
  }
}
