package io.genguard.observability.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class RowGaugesTest {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @Test
  void shouldKeepAGaugePerTagSetUpdateItInPlaceAndReadNanForRowsThatAreGone() {
    RowGauges gauges = new RowGauges(registry, "test.rows", "rows for the test", "seconds");
    Tags a = Tags.of("group", "a");
    Tags b = Tags.of("group", "b");

    gauges.set(Map.of(a, 1.5, b, 2));
    Gauge first = registry.get("test.rows").tags(a).gauge();
    gauges.set(Map.of(a, 3.25));

    assertThat(registry.get("test.rows").tags(a).gauge()).isSameAs(first);
    assertThat(first.value()).isEqualTo(3.25);
    assertThat(registry.get("test.rows").tags(b).gauge().value()).isNaN();
    assertThat(registry.scrape())
        .contains("# HELP test_rows_seconds rows for the test")
        .contains("test_rows_seconds{group=\"a\"} 3.25")
        .contains("test_rows_seconds{group=\"b\"} NaN");

    gauges.set(Map.of(b, 4L));
    assertThat(first.value()).isNaN();
    assertThat(registry.get("test.rows").tags(b).gauge().value()).isEqualTo(4.0);
    assertThat(registry.find("test.rows").gauges()).hasSize(2);
  }

  @Test
  void shouldRemoveTheGaugesItIsToldAreGoneAndRegisterThemAnewWhenTheyComeBack() {
    RowGauges gauges = new RowGauges(registry, "test.rows", "rows for the test", null);
    Tags a = Tags.of("group", "a");
    Tags b = Tags.of("group", "b");
    gauges.set(Map.of(a, 1, b, 2));
    gauges.set(Map.of(a, 3));

    assertThat(gauges.remove(tags -> tags.equals(b))).isEqualTo(1);

    assertThat(registry.find("test.rows").tags(b).gauges()).isEmpty();
    assertThat(registry.scrape()).contains("test_rows{group=\"a\"} 3.0").doesNotContain("\"b\"");
    assertThat(gauges.size()).isEqualTo(1);
    gauges.set(Map.of(a, 4, b, 5));
    assertThat(registry.get("test.rows").tags(b).gauge().value()).isEqualTo(5.0);
    assertThat(gauges.size()).isEqualTo(2);
  }

  /**
   * Micrometer's MultiGauge with overwrite removes and re-registers every row, and a scrape running
   * meanwhile fails with DuplicateLabelsException (micrometer#6851); with this loop it failed at
   * once here, and so did removing only the rows that were gone. Rows replaced while scraping must
   * never show a label set twice.
   */
  @Test
  void shouldNeverFailAScrapeThatRunsWhileTheRowsAreReplaced() throws Exception {
    RowGauges gauges = new RowGauges(registry, "test.disparity", "disparity for the test", null);
    List<Map<Tags, Double>> rounds = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      Map<Tags, Double> rows = new LinkedHashMap<>();
      for (int group = 0; group < 60; group++) {
        if ((group + round) % 5 != 0) { // some rows come and go between rounds
          rows.put(Tags.of("group", "g" + group, "metric", "block_rate"), group * 0.01 + round);
        }
      }
      rounds.add(rows);
    }
    gauges.set(rounds.get(0));
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService scraper = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> scrapes =
          scraper.submit(
              () -> {
                int n = 0;
                while (!stop.get()) {
                  assertThat(registry.scrape()).contains("test_disparity");
                  n++;
                }
                return n;
              });
      for (int i = 0; i < 3000 && !scrapes.isDone(); i++) {
        gauges.set(rounds.get(i % rounds.size()));
      }
      stop.set(true);
      assertThat(scrapes.get(30, TimeUnit.SECONDS)).isPositive();
    } finally {
      stop.set(true);
      scraper.shutdownNow();
    }
  }
}
