package io.genguard.generator.backend;

/**
 * How to sample, resolved for one request: the seed is always set (the worker derives one from the
 * request id when the client sent none, so a replay produces the same text).
 *
 * @param maxTokens tokens to generate, at least 1
 * @param temperature softmax temperature; 0 means greedy
 * @param topK keep the k most likely tokens; 0 disables
 * @param topP nucleus mass in (0, 1]; 1 disables
 */
public record SamplingSettings(
    int maxTokens, double temperature, int topK, double topP, long seed) {}
