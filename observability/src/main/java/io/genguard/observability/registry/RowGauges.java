package io.genguard.observability.registry;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * One gauge per tag set under one name, whose rows are replaced as a whole each collection round:
 * what Micrometer's {@code MultiGauge.register(rows, true)} does, without its race. That call
 * removes every row's gauge and registers it again, and a Prometheus scrape running meanwhile can
 * see the old and the new gauge of one label set at once and fail with {@code
 * DuplicateLabelsException} (micrometer-metrics/micrometer#6851; seen here as HTTP 500 from {@code
 * /metrics} while the bias rows were refreshed). Here a tag set's gauge is registered once and kept
 * while its owner wants it, so no scrape can see a label set twice: a row missing from the latest
 * round reads NaN (no value; PromQL comparisons and aggregations skip it) until it comes back. An
 * owner whose tag sets come from what others write removes the ones gone for long ({@link
 * #remove}), in a round that does not register them, so that a removal and a new registration of
 * one tag set are at least a collection interval apart, never within one scrape; otherwise the
 * number of gauges is the number of tag sets ever seen (consumer groups and topics).
 */
public final class RowGauges {
  private final MeterRegistry registry;
  private final String name;
  private final String description;
  private final String baseUnit;
  private final Map<Tags, Row> rows = new HashMap<>();

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
          Row row = rows.get(tags);
          if (row == null) {
            rows.put(tags, register(tags, value.doubleValue()));
          } else {
            row.value().set(value.doubleValue());
          }
        });
    rows.forEach(
        (tags, row) -> {
          if (!values.containsKey(tags)) {
            row.value().set(Double.NaN);
          }
        });
  }

  /**
   * Removes the gauges of the tag sets that {@code gone} accepts from the registry (a later {@link
   * #set} naming one registers it anew). Call it in a round whose {@link #set} did not name them.
   *
   * @return how many gauges were removed
   */
  public synchronized int remove(Predicate<Tags> gone) {
    int removed = 0;
    for (var iterator = rows.entrySet().iterator(); iterator.hasNext(); ) {
      Map.Entry<Tags, Row> row = iterator.next();
      if (gone.test(row.getKey())) {
        registry.remove(row.getValue().gauge());
        iterator.remove();
        removed++;
      }
    }
    return removed;
  }

  /** How many tag sets have a gauge. */
  public synchronized int size() {
    return rows.size();
  }

  private Row register(Tags tags, double initial) {
    AtomicReference<Double> value = new AtomicReference<>(initial);
    Gauge gauge =
        Gauge.builder(name, value, AtomicReference::get)
            .tags(tags)
            .description(description)
            .baseUnit(baseUnit)
            .strongReference(true)
            .register(registry);
    return new Row(value, gauge);
  }

  private record Row(AtomicReference<Double> value, Gauge gauge) {}
}
