package io.genguard.generator.backend;

/**
 * Text a backend produced for one request.
 *
 * @param promptTokens prompt length in the backend's tokens
 * @param outputTokens generated tokens
 * @param modelName the model that produced the text, as the backend knows it: what the signed
 *     manifest names
 * @param watermark the embedded watermark, or null when the backend had no logits to bias
 * @param device where it ran: cpu, gpu:N, or remote:NAME for HTTP backends (never the server's
 *     address)
 * @param computeNanos wall time spent on this request (a share of the batch for batched backends)
 * @param requestedModel the model the request asked for when the backend reports that another one
 *     served it (a router's fallback, an alias resolved to a dated snapshot), else null
 */
public record Generation(
    String text,
    int promptTokens,
    int outputTokens,
    String modelName,
    String modelVersion,
    WatermarkStamp watermark,
    String device,
    long computeNanos,
    String requestedModel) {

  /** A generation by the very model the request asked for. */
  public Generation(
      String text,
      int promptTokens,
      int outputTokens,
      String modelName,
      String modelVersion,
      WatermarkStamp watermark,
      String device,
      long computeNanos) {
    this(
        text,
        promptTokens,
        outputTokens,
        modelName,
        modelVersion,
        watermark,
        device,
        computeNanos,
        null);
  }
}
