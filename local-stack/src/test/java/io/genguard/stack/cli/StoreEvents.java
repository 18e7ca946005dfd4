package io.genguard.stack.cli;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.events.v1.WatermarkInfo;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Events the audit store commands' tests put in a store, built as the pipeline builds them. */
final class StoreEvents {
  private StoreEvents() {}

  /** A generation request of {@code tenant}, submitted at {@code at}. */
  static GenerationRequest request(String eventId, String requestId, String tenant, Instant at) {
    return GenerationRequest.newBuilder()
        .setEventId(eventId)
        .setRequestId(requestId)
        .setTenantId(tenant)
        .setPrompt("Write about " + requestId)
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(10)
                .setTemperature(1)
                .setTopK(0)
                .setTopP(1)
                .build())
        .setAttributes(Map.of())
        .setSubmittedAt(at)
        .build();
  }

  /** The gate's release of the request's output on a RELEASE verdict, decided at {@code at}. */
  static ReleaseGateOutcome released(String requestId, String tenant, Instant at) {
    String text = "Released text of " + requestId;
    return ReleaseGateOutcome.newBuilder()
        .setEventId(EventIds.nameBased("gate", requestId, "RELEASED", "VERDICT", ""))
        .setRequestId(requestId)
        .setOutputId(EventIds.nameBased("output", requestId))
        .setTenantId(tenant)
        .setOutcome(GateOutcome.RELEASED)
        .setBasis(GateBasis.VERDICT)
        .setVerdictId(EventIds.nameBased("verdict", requestId))
        .setDecision(Decision.RELEASE)
        .setReviewId(null)
        .setText(text)
        .setOutputSha256(ContentHash.sha256Hex(text))
        .setPolicyVersion("2026.12-test")
        .setReasons(List.of("every score below its threshold"))
        .setAttributes(Map.of())
        .setDecidedAt(at)
        .build();
  }

  /** The generator's answer {@code text} to the request, generated at {@code at}. */
  static GenerationOutput output(String requestId, String tenant, String text, Instant at) {
    return GenerationOutput.newBuilder()
        .setEventId(EventIds.nameBased("output-event", requestId))
        .setOutputId(EventIds.nameBased("output", requestId))
        .setRequestId(requestId)
        .setTenantId(tenant)
        .setText(text)
        .setModel(
            ModelRef.newBuilder()
                .setName("builtin-kn")
                .setVersion("3")
                .setBackend("builtin")
                .build())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(40)
                .setTemperature(0.8)
                .setTopK(40)
                .setTopP(0.95)
                .setSeed(7L)
                .build())
        .setWatermark(
            WatermarkInfo.newBuilder()
                .setScheme("kgw-selfhash")
                .setKeyId("key-1")
                .setGamma(0.25)
                .setDelta(2.0)
                .setContextWidth(1)
                .build())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(5)
                .setOutputTokens(12)
                .setComputeMillis(30)
                .setDevice("cpu")
                .setEnergyJoules(0.4)
                .build())
        .setAttributes(Map.of())
        .setGeneratedAt(at)
        .build();
  }
}
