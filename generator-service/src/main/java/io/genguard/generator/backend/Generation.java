package io.genguard.generator.backend;

/**
 * Text a backend produced for one request.
 *
 * @param promptTokens prompt length in the backend's tokens
 * @param outputTokens generated tokens
 * @param watermark the embedded watermark, or null when the backend had no logits to bias
 * @param device where it ran: cpu, gpu:N, or remote:host for HTTP backends
 * @param computeNanos wall time spent on this request (a share of the batch for batched backends)
 */
public record Generation(
    String text,
    int promptTokens,
    int outputTokens,
    String modelName,
    String modelVersion,
    WatermarkStamp watermark,
    String device,
    long computeNanos) {}
