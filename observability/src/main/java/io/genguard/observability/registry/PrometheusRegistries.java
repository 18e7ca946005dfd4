package io.genguard.observability.registry;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;

/**
 * Creates the Prometheus-backed registry every GenGuard process records into, with the histogram
 * buckets the dashboards' p50/p99 queries need.
 *
 * <p>Every GenGuard timer ({@code genguard.*}) publishes fixed Prometheus buckets from 5 ms to 120
 * s, and every GenGuard distribution summary buckets from 1 to 1024: fixed buckets (not
 * Micrometer's ~70 percentile buckets) keep the series count small and let {@code
 * histogram_quantile} aggregate across instances. Meters created by other libraries keep their own
 * configuration.
 */
public final class PrometheusRegistries {
  /** Common tag naming the process (the embedded stack is one process for every service). */
  public static final String SERVICE_TAG = "service";

  /** Bucket upper bounds of GenGuard timers. */
  public static final List<Duration> LATENCY_BUCKETS =
      List.of(
          Duration.ofMillis(5),
          Duration.ofMillis(10),
          Duration.ofMillis(25),
          Duration.ofMillis(50),
          Duration.ofMillis(100),
          Duration.ofMillis(250),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ofMillis(2500),
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(30),
          Duration.ofSeconds(60),
          Duration.ofSeconds(120));

  /** Bucket upper bounds of GenGuard distribution summaries (batch sizes, token counts). */
  public static final double[] SIZE_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

  private static final String GENGUARD_PREFIX = "genguard.";

  private PrometheusRegistries() {}

  /**
   * A registry whose meters carry {@code service=<service>}.
   *
   * @param service what this process runs, e.g. {@code generator}, {@code audit}, {@code
   *     local-stack}
   */
  public static PrometheusMeterRegistry create(String service) {
    if (service == null || service.isBlank()) {
      throw new IllegalArgumentException("service must name the process, e.g. 'generator'");
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(MeterFilter.commonTags(List.of(Tag.of(SERVICE_TAG, service))));
    registry.config().meterFilter(genguardBuckets());
    return registry;
  }

  /**
   * Binds JVM memory, GC, threads, class loading, CPU and uptime meters; close the result to
   * release the GC listener.
   */
  public static AutoCloseable bindJvmMetrics(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    return gc;
  }

  static MeterFilter genguardBuckets() {
    DistributionStatisticConfig latency =
        DistributionStatisticConfig.builder()
            .percentilesHistogram(false)
            .serviceLevelObjectives(
                LATENCY_BUCKETS.stream().mapToDouble(Duration::toNanos).toArray())
            .build();
    DistributionStatisticConfig sizes =
        DistributionStatisticConfig.builder()
            .percentilesHistogram(false)
            .serviceLevelObjectives(SIZE_BUCKETS)
            .build();
    return new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(
          Meter.Id id, DistributionStatisticConfig config) {
        if (!id.getName().startsWith(GENGUARD_PREFIX)) {
          return config;
        }
        return switch (id.getType()) {
          case TIMER, LONG_TASK_TIMER -> latency.merge(config);
          case DISTRIBUTION_SUMMARY -> sizes.merge(config);
          default -> config;
        };
      }
    };
  }
}
