package io.genguard.bias.persistence;

import java.time.Instant;

/**
 * A live bias alert: in one model's tumbling window, at least one detected group's rates differed
 * from the other detected groups of the window significantly after correction.
 *
 * @param alertId deterministic from model and window, so a replayed window writes it once
 * @param findings JSON list of the significant comparisons (group, metric, rates, counts, p-values)
 */
public record LiveAlert(
    String alertId,
    String model,
    Instant windowStart,
    Instant windowEnd,
    int groupsCompared,
    int tests,
    String correction,
    double alpha,
    String findings,
    Instant detectedAt) {}
