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
import io.genguard.schemas.EventIds;
import java.time.Instant;
import java.util.HashMap;

/**
 * Turns backend results into events: the output with its signed manifest and cost, or the failure.
 * Event and output ids are name-based on the request id, so re-processing a request after a crash
 * yields the same ids and downstream stores record it once.
 */
public final class OutputAssembler {
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

  public GenerationOutput output(
      GenerationRequest request,
      String backend,
      SamplingSettings sampling,
      Generation generation,
      Instant now) {
    String requestId = request.getRequestId();
    String outputId = outputId(requestId);
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
            ProvenanceManifest.sha256Hex(generation.text()),
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
    return GenerationOutput.newBuilder()
        .setEventId(outputEventId(requestId))
        .setOutputId(outputId)
        .setRequestId(requestId)
        .setTenantId(request.getTenantId())
        .setText(generation.text())
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
        .setAttributes(new HashMap<>(request.getAttributes()))
        .setGeneratedAt(now)
        .build();
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
        .setReason(reason)
        .setBackend(backend)
        .setAttempts(attempts)
        .setFailedAt(now)
        .build();
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
