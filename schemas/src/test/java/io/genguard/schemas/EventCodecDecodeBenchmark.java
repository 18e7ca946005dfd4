package io.genguard.schemas;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.events.v1.SignedManifest;
import io.genguard.events.v1.WatermarkInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Microseconds per {@link EventCodec#decode} of a plumbing-sized GenerationOutput and a
 * ModerationVerdict, single-threaded. Not a test: run its main, e.g. with {@code java -cp
 * schemas/target/classes:schemas/target/test-classes:$(cat cp.txt)
 * io.genguard.schemas.EventCodecDecodeBenchmark 1000000}, and compare builds on the same machine.
 */
public final class EventCodecDecodeBenchmark {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

  private EventCodecDecodeBenchmark() {}

  public static void main(String[] args) {
    int decodes = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    GenerationOutput output = output();
    ModerationVerdict verdict = verdict();
    EventCodec<GenerationOutput> outputs = Topics.GENERATION_OUTPUTS.codec();
    EventCodec<ModerationVerdict> verdicts = Topics.MODERATION_VERDICTS.codec();
    byte[] outputBytes = outputs.encode(output);
    byte[] verdictBytes = verdicts.encode(verdict);
    if (!outputs.decode(outputBytes).equals(output)
        || !verdicts.decode(verdictBytes).equals(verdict)) {
      throw new AssertionError("decoded events differ from the encoded ones");
    }
    for (int round = 0; round < 2; round++) {
      boolean warmUp = round == 0;
      int count = warmUp ? decodes / 5 : decodes;
      double outputMicros = time(outputs, outputBytes, count);
      double verdictMicros = time(verdicts, verdictBytes, count);
      if (!warmUp) {
        System.out.printf(
            "GenerationOutput (%d bytes): %.3f us/decode; ModerationVerdict (%d bytes): %.3f"
                + " us/decode; %d decodes each%n",
            outputBytes.length, outputMicros, verdictBytes.length, verdictMicros, count);
      }
    }
  }

  private static double time(EventCodec<?> codec, byte[] bytes, int count) {
    long sink = 0;
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      sink += codec.decode(bytes).hashCode();
    }
    long nanos = System.nanoTime() - start;
    if (sink == 42) {
      System.out.print("");
    }
    return nanos / 1000.0 / count;
  }

  static GenerationOutput output() {
    String text =
        "Here is a friendly greeting for your team: good morning, everyone! I hope the week is"
            + " off to a calm start, that the coffee is strong and the meetings are short. Thank"
            + " you all for the care you put into the last release; customers noticed. Let's keep"
            + " asking questions early and helping each other out. Have a great day!";
    String manifest =
        "{\"backend\":\"builtin\",\"generatedAt\":\"2026-11-25T10:00:00Z\",\"model\":"
            + "{\"name\":\"tiny-gpt\",\"version\":\"3\"},\"outputId\":\"out-0f3c2a7e-5b1d-4c8e-9a6f"
            + "-2d7b1e4c9a30\",\"outputSha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd"
            + "15d6c15b0f00a08\",\"parameters\":{\"maxTokens\":64,\"seed\":7,\"temperature\":0.8,"
            + "\"topK\":40,\"topP\":0.95},\"requestId\":\"req-0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a30\","
            + "\"tenantId\":\"acme\",\"watermark\":{\"contextWidth\":1,\"delta\":2.0,\"gamma\":0.25,"
            + "\"keyId\":\"wm-2026-11\",\"scheme\":\"kgw-selfhash\"}}";
    return GenerationOutput.newBuilder()
        .setEventId("0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a31")
        .setOutputId("out-0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a30")
        .setRequestId("req-0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a30")
        .setTenantId("acme")
        .setText(text)
        .setModel(
            ModelRef.newBuilder().setName("tiny-gpt").setVersion("3").setBackend("builtin").build())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(64)
                .setTemperature(0.8)
                .setTopK(40)
                .setTopP(0.95)
                .setSeed(7L)
                .build())
        .setWatermark(
            WatermarkInfo.newBuilder()
                .setScheme("kgw-selfhash")
                .setKeyId("wm-2026-11")
                .setGamma(0.25)
                .setDelta(2.0)
                .setContextWidth(1)
                .build())
        .setManifest(
            SignedManifest.newBuilder()
                .setCanonicalJson(manifest)
                .setSignature("A".repeat(86) + "==")
                .setKeyId("manifest-2026-11")
                .build())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(12)
                .setOutputTokens(64)
                .setComputeMillis(38)
                .setDevice("cpu")
                .setEnergyJoules(1.9)
                .build())
        .setAttributes(Map.of("campaign.id", "c-17", "gender", "women", "locale", "en-GB"))
        .setGeneratedAt(NOW)
        .build();
  }

  static ModerationVerdict verdict() {
    return ModerationVerdict.newBuilder()
        .setEventId("1a2b3c4d-5b1d-4c8e-9a6f-2d7b1e4c9a31")
        .setVerdictId("v-0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a30")
        .setOutputId("out-0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a30")
        .setRequestId("req-0f3c2a7e-5b1d-4c8e-9a6f-2d7b1e4c9a30")
        .setTenantId("acme")
        .setOutputSha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        .setDecision(Decision.RELEASE)
        .setReasons(
            List.of(
                Reason.newBuilder()
                    .setCode("category.release")
                    .setDecision(Decision.RELEASE)
                    .setCategory("toxicity")
                    .setScore(0.02)
                    .setThreshold(0.5)
                    .setMessage("toxicity 0.02 below the review threshold 0.5")
                    .build()))
        .setUnsafeScore(0.02)
        .setCategoryScores(Map.of("toxicity", 0.02, "violence", 0.01, "hate", 0.0, "sexual", 0.003))
        .setGroups(List.of("gender:women"))
        .setTextTruncated(false)
        .setPolicyId("default")
        .setPolicyVersion("3")
        .setPolicySha256("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
        .setScorerVersions(Map.of("toxicity", "1", "bias", "2"))
        .setModel(
            ModelRef.newBuilder().setName("tiny-gpt").setVersion("3").setBackend("builtin").build())
        .setAttributes(Map.of("campaign.id", "c-17", "gender", "women", "locale", "en-GB"))
        .setDecidedAt(NOW)
        .build();
  }
}
