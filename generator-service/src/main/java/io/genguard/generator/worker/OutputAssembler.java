package io.genguard.generator.worker;

import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.events.v1.SignedManifest;
import io.genguard.events.v1.WatermarkInfo;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.SamplingSettings;
import io.genguard.provenance.manifest.ManifestSigner;
import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.provenance.manifest.SignedProvenance;
import io.genguard.provenance.text.LoneSurrogates;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.EventTooLargeException;
import io.genguard.schemas.Topics;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns backend results into events: the output with its signed manifest and cost, or the failure.
 * Event and output ids are name-based on the request id, so re-processing a request after a crash
 * yields the same ids and downstream stores record it once.
 */
public final class OutputAssembler {
  /**
   * Longest failure reason written, in characters: a reason quotes what went wrong (a server's
   * error message, a name from the request), and must leave the failure event far below the event
   * limit.
   */
  public static final int MAX_REASON_CHARS = 4096;

  /**
   * Attribute of an output whose backend reports that another model served it than the request
   * asked for (a router's fallback, an alias such as {@code gpt-4o} resolved to a dated snapshot):
   * the model asked for. The signed manifest and {@code model.name} name the model that served, the
   * only name the manifest can vouch for; the manifest layout has no room for a second name, so the
   * one asked for is kept here. The generator owns this key: a value the request carried is not
   * copied.
   */
  public static final String REQUESTED_MODEL_ATTRIBUTE = "genguard.requested-model";

  private final ManifestSigner signer;
  private final double cpuWatts;
  private final double gpuWatts;

  public OutputAssembler(ManifestSigner signer, double cpuWatts, double gpuWatts) {
    this.signer = signer;
    this.cpuWatts = cpuWatts;
    this.gpuWatts = gpuWatts;
  }

  public static String outputEventId(String requestId) {
    return EventIds.nameBased("generator", "output-event", requestId);
  }

  public static String outputId(String requestId) {
    return EventIds.nameBased("generator", "output", requestId);
  }

  public static String failureEventId(String requestId) {
    return EventIds.nameBased("generator", "failure-event", requestId);
  }

  /**
   * Event id of the failure of a request without a request id: derived from the request's own event
   * id instead, so that each such request gets its own failure (one shared id would make the audit
   * keep the first and skip the rest) and a replay gets the same one.
   */
  public static String failureEventIdOfUnidentifiedRequest(String requestEventId) {
    return EventIds.nameBased("generator", "failure-event-of-request-event", requestEventId);
  }

  /**
   * The output event of a generation.
   *
   * @throws EventTooLargeException when the output would exceed the event limit (a very long text):
   *     every reader would refuse it, so it must not be written
   */
  public GenerationOutput output(
      GenerationRequest request,
      String backend,
      SamplingSettings sampling,
      Generation generation,
      Instant now) {
    String requestId = request.getRequestId();
    String outputId = outputId(requestId);
    // Avro writes an unpaired surrogate as '?', so the stored text would differ from the text
    // hashed and signed here, and the manifest would never verify. Repaired first, the text that
    // is hashed, signed and stored is one and the same.
    String text = LoneSurrogates.replaced(generation.text());
    WatermarkInfo watermark = null;
    ProvenanceManifest.Watermark manifestWatermark = null;
    if (generation.watermark() != null) {
      var stamp = generation.watermark();
      watermark =
          WatermarkInfo.newBuilder()
              .setScheme(stamp.scheme())
              .setKeyId(stamp.keyId())
              .setGamma(stamp.parameters().gamma())
              .setDelta(stamp.parameters().delta())
              .setContextWidth(stamp.parameters().contextWidth())
              .build();
      manifestWatermark =
          new ProvenanceManifest.Watermark(
              stamp.scheme(),
              stamp.keyId(),
              stamp.parameters().gamma(),
              stamp.parameters().delta(),
              stamp.parameters().contextWidth());
    }
    ProvenanceManifest manifest =
        new ProvenanceManifest(
            requestId,
            outputId,
            // Signed (the v2 layout), so that the output re-published under another tenant, which
            // would be judged under that tenant's policy, no longer carries a valid manifest.
            request.getTenantId(),
            ProvenanceManifest.sha256Hex(text),
            generation.modelName(),
            generation.modelVersion(),
            backend,
            new ProvenanceManifest.Sampling(
                sampling.maxTokens(),
                sampling.temperature(),
                sampling.topK(),
                sampling.topP(),
                sampling.seed()),
            now,
            manifestWatermark,
            signer.activeKeyId());
    SignedProvenance signed = signer.sign(manifest);
    long computeMillis = Math.round(generation.computeNanos() / 1e6);
    Map<String, String> attributes = new HashMap<>(request.getAttributes());
    attributes.remove(REQUESTED_MODEL_ATTRIBUTE);
    if (generation.requestedModel() != null) {
      attributes.put(REQUESTED_MODEL_ATTRIBUTE, generation.requestedModel());
    }
    GenerationOutput output =
        GenerationOutput.newBuilder()
            .setEventId(outputEventId(requestId))
            .setOutputId(outputId)
            .setRequestId(requestId)
            .setTenantId(request.getTenantId())
            .setText(text)
            .setModel(
                ModelRef.newBuilder()
                    .setName(generation.modelName())
                    .setVersion(generation.modelVersion())
                    .setBackend(backend)
                    .build())
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(sampling.maxTokens())
                    .setTemperature(sampling.temperature())
                    .setTopK(sampling.topK())
                    .setTopP(sampling.topP())
                    .setSeed(sampling.seed())
                    .build())
            .setWatermark(watermark)
            .setManifest(
                SignedManifest.newBuilder()
                    .setCanonicalJson(signed.canonicalJson())
                    .setSignature(signed.signature())
                    .setKeyId(signed.keyId())
                    .build())
            .setCost(
                GenerationCost.newBuilder()
                    .setPromptTokens(generation.promptTokens())
                    .setOutputTokens(generation.outputTokens())
                    .setComputeMillis(computeMillis)
                    .setDevice(generation.device())
                    .setEnergyJoules(energyJoules(generation.device(), generation.computeNanos()))
                    .build())
            .setAttributes(attributes)
            .setGeneratedAt(now)
            .build();
    // Encoded once to learn its size, so an output too large to write fails its request here.
    Topics.GENERATION_OUTPUTS.codec().encode(output);
    return output;
  }

  public static GenerationFailure failure(
      GenerationRequest request,
      FailureCode code,
      String reason,
      String backend,
      int attempts,
      Instant now) {
    String requestId = request.getRequestId() == null ? "" : request.getRequestId();
    String eventId =
        requestId.isBlank()
            ? failureEventIdOfUnidentifiedRequest(request.getEventId())
            : failureEventId(requestId);
    return GenerationFailure.newBuilder()
        .setEventId(eventId)
        .setRequestId(requestId)
        .setTenantId(request.getTenantId())
        .setCode(code.code())
        .setReason(cut(reason))
        .setBackend(backend)
        .setAttempts(attempts)
        .setFailedAt(now)
        .build();
  }

  /** The reason, or its start if longer than {@link #MAX_REASON_CHARS}, saying so. */
  static String cut(String reason) {
    if (reason.length() <= MAX_REASON_CHARS) {
      return reason;
    }
    String note = "... (cut from " + reason.length() + " characters)";
    int end = MAX_REASON_CHARS - note.length();
    if (Character.isHighSurrogate(reason.charAt(end - 1))) {
      end--; // never split a surrogate pair
    }
    return reason.substring(0, end) + note;
  }

  /**
   * Energy estimate in joules: the configured power of the device class times compute time. Remote
   * (HTTP) backends report 0: their hardware is not known here.
   */
  double energyJoules(String device, long computeNanos) {
    double watts = device.startsWith("gpu") ? gpuWatts : device.startsWith("cpu") ? cpuWatts : 0.0;
    return watts * computeNanos / 1e9;
  }
}
