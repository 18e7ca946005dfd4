package io.genguard.generator.backend;

import java.time.Instant;

/**
 * One generation job as a backend sees it.
 *
 * @param model the model name, already resolved to one the backend serves
 * @param deadline when the backend must give up on this request
 */
public record BackendRequest(
    String requestId, String prompt, String model, SamplingSettings sampling, Instant deadline) {}
