package io.genguard.observability.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PrometheusRegistriesTest {

  @Test
  void shouldPublishFixedLatencyBucketsForGenGuardTimers() {
    PrometheusMeterRegistry registry = PrometheusRegistries.create("generator");
    Timer.builder("genguard.generator.latency")
        .tag("backend", "builtin")
        .register(registry)
        .record(Duration.ofMillis(30));

    String scrape = registry.scrape();

    assertThat(scrape)
        .contains(
            "genguard_generator_latency_seconds_bucket{backend=\"builtin\",service=\"generator\",le=\"0.025\"} 0")
        .contains(
            "genguard_generator_latency_seconds_bucket{backend=\"builtin\",service=\"generator\",le=\"0.05\"} 1")
        .contains(
            "genguard_generator_latency_seconds_bucket{backend=\"builtin\",service=\"generator\",le=\"120.0\"} 1")
        .contains(
            "genguard_generator_latency_seconds_count{backend=\"builtin\",service=\"generator\"} 1");
  }

  @Test
  void shouldBucketGenGuardDistributionSummariesBySize() {
    PrometheusMeterRegistry registry = PrometheusRegistries.create("generator");
    DistributionSummary.builder("genguard.generator.batch.size").register(registry).record(3);

    assertThat(registry.scrape())
        .contains("genguard_generator_batch_size_bucket{service=\"generator\",le=\"2.0\"} 0")
        .contains("genguard_generator_batch_size_bucket{service=\"generator\",le=\"4.0\"} 1");
  }

  @Test
  void shouldLeaveOtherLibrariesTimersWithoutBuckets() {
    PrometheusMeterRegistry registry = PrometheusRegistries.create("audit");
    Timer.builder("http.server.requests").register(registry).record(Duration.ofMillis(3));

    assertThat(registry.scrape())
        .contains("http_server_requests_seconds_count")
        .doesNotContain("http_server_requests_seconds_bucket");
  }

  @Test
  void shouldExportJvmMetricsOnceBound() throws Exception {
    PrometheusMeterRegistry registry = PrometheusRegistries.create("gate");
    try (AutoCloseable jvm = PrometheusRegistries.bindJvmMetrics(registry)) {
      assertThat(registry.scrape())
          .contains("jvm_memory_used_bytes{area=\"heap\"")
          .contains("jvm_threads_live_threads")
          .contains("process_cpu_usage")
          .contains("service=\"gate\"");
    }
  }

  @Test
  void shouldRefuseABlankServiceName() {
    assertThatThrownBy(() -> PrometheusRegistries.create(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("service must name the process");
  }
}
