package io.genguard.generator;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Generation requests as the generator's integration tests send them. */
final class GenerationRequests {
  private GenerationRequests() {}

  /** A request for {@code backend} on gen.requests, keyed by its id. */
  static ProducerRecord<byte[], byte[]> record(String requestId, String backend) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-" + requestId)
            .setRequestId(requestId)
            .setTenantId("tenant-it")
            .setPrompt("the committee discussed the proposal")
            .setBackend(backend)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(12)
                    .setTemperature(0.8)
                    .setTopK(0)
                    .setTopP(0.95)
                    .build())
            .setSubmittedAt(Instant.now())
            .build();
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS.name(),
        requestId.getBytes(StandardCharsets.UTF_8),
        Topics.GENERATION_REQUESTS.codec().encode(request));
  }
}
