package io.genguard.observability.registry;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One gauge per tag set under one name, whose rows are replaced as a whole each collection round:
 * what Micrometer's {@code MultiGauge.register(rows, true)} does, without its race. That call
 * removes every row's gauge and registers it again, and a Prometheus scrape running meanwhile can
 * see the old and the new gauge of one label set at once and fail with {@code
 * DuplicateLabelsException} (micrometer-metrics/micrometer#6851; seen here as HTTP 500 from {@code
 * /metrics} while the bias rows were refreshed). Here a tag set's gauge is registered once and
 * never removed, so no scrape can see a label set twice: a row missing from the latest round reads
 * NaN (no value; PromQL comparisons and aggregations skip it) until it comes back. The number of
 * gauges is the number of tag sets ever seen (groups of the identity lexicon, consumer groups and
 * topics), which is bounded here.
 */
public final class RowGauges {
  private final MeterRegistry registry;
  private final String name;
  private final String description;
  private final String baseUnit;
  private final Map<Tags, AtomicReference<Double>> rows = new HashMap<>();

  /**
   * @param baseUnit the gauges' unit, or null for none
   */
  public RowGauges(MeterRegistry registry, String name, String description, String baseUnit) {
    this.registry = registry;
    this.name = name;
    this.description = description;
    this.baseUnit = baseUnit;
  }

  /**
   * Makes {@code values} the rows: a tag set seen before keeps its gauge and takes the new value, a
   * new one gets a gauge, and the gauges of tag sets not in {@code values} read NaN.
   */
  public synchronized void set(Map<Tags, ? extends Number> values) {
    values.forEach(
        (tags, value) -> {
          AtomicReference<Double> row = rows.get(tags);
          if (row == null) {
            rows.put(tags, register(tags, value.doubleValue()));
          } else {
            row.set(value.doubleValue());
          }
        });
    rows.forEach(
        (tags, row) -> {
          if (!values.containsKey(tags)) {
            row.set(Double.NaN);
          }
        });
  }

  private AtomicReference<Double> register(Tags tags, double initial) {
    AtomicReference<Double> value = new AtomicReference<>(initial);
    Gauge.builder(name, value, AtomicReference::get)
        .tags(tags)
        .description(description)
        .baseUnit(baseUnit)
        .strongReference(true)
        .register(registry);
    return value;
  }
}
