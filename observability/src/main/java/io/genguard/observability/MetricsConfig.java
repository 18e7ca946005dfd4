package io.genguard.observability;

import io.genguard.observability.audit.AuditStoreCollector;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of a process's metrics: where {@code /metrics} is served and how often the collectors
 * run. Defaults, overridden by GENGUARD_METRICS_* environment keys.
 *
 * @param host address the endpoint binds to ({@code 0.0.0.0} in a container)
 * @param port endpoint port, 0 for any free one
 * @param auditInterval how often the audit-store collector queries PostgreSQL
 * @param lagInterval how often consumer-group lag is read from Kafka
 * @param lagGroupPrefix consumer groups whose lag is reported (those whose id starts with it)
 * @param biasMaxPairs most (model, group) pairs of the live bias windows the audit-store collector
 *     gives bias gauges ({@link AuditStoreCollector#DEFAULT_MAX_BIAS_GROUPS} by default)
 */
public record MetricsConfig(
    String host,
    int port,
    Duration auditInterval,
    Duration lagInterval,
    String lagGroupPrefix,
    int biasMaxPairs) {

  public static final String HOST = "GENGUARD_METRICS_HOST";
  public static final String PORT = "GENGUARD_METRICS_PORT";
  public static final String AUDIT_INTERVAL_MS = "GENGUARD_METRICS_AUDIT_INTERVAL_MS";
  public static final String LAG_INTERVAL_MS = "GENGUARD_METRICS_LAG_INTERVAL_MS";
  public static final String LAG_GROUP_PREFIX = "GENGUARD_METRICS_LAG_GROUP_PREFIX";
  public static final String BIAS_MAX_PAIRS = "GENGUARD_METRICS_BIAS_MAX_PAIRS";

  /**
   * The largest {@value #BIAS_MAX_PAIRS}: up to seven series a pair, 700,000 series at most; the
   * bias job's largest model bound (1,000 models and {@code unknown-model}, 65 groups each) needs
   * 65,065.
   */
  public static final int MAX_BIAS_MAX_PAIRS = 100_000;

  /** The conventional port of a Prometheus exporter (the OpenTelemetry/Prometheus default). */
  public static final int DEFAULT_PORT = 9464;

  public MetricsConfig {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException(HOST + " must be set, e.g. 127.0.0.1 or 0.0.0.0");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          PORT + "=" + port + " is not a TCP port (0-65535, 0 = any free port)");
    }
    if (auditInterval.toMillis() < 100) {
      throw new IllegalArgumentException(
          AUDIT_INTERVAL_MS + " must be at least 100, was " + auditInterval.toMillis());
    }
    if (lagInterval.toMillis() < 100) {
      throw new IllegalArgumentException(
          LAG_INTERVAL_MS + " must be at least 100, was " + lagInterval.toMillis());
    }
    if (lagGroupPrefix == null) {
      throw new IllegalArgumentException(
          LAG_GROUP_PREFIX + " must not be null (empty means every group)");
    }
    if (biasMaxPairs < 1 || biasMaxPairs > MAX_BIAS_MAX_PAIRS) {
      throw new IllegalArgumentException(
          BIAS_MAX_PAIRS + " must be 1-" + MAX_BIAS_MAX_PAIRS + ", was " + biasMaxPairs);
    }
  }

  public static MetricsConfig defaults() {
    return new MetricsConfig(
        "127.0.0.1",
        DEFAULT_PORT,
        Duration.ofSeconds(15),
        Duration.ofSeconds(15),
        "genguard",
        AuditStoreCollector.DEFAULT_MAX_BIAS_GROUPS);
  }

  /** Defaults overridden by the GENGUARD_METRICS_* keys present in {@code env}. */
  public static MetricsConfig fromEnvironment(Map<String, String> env) {
    MetricsConfig d = defaults();
    return new MetricsConfig(
        env.getOrDefault(HOST, d.host()),
        integer(env, PORT, d.port()),
        Duration.ofMillis(integer(env, AUDIT_INTERVAL_MS, (int) d.auditInterval().toMillis())),
        Duration.ofMillis(integer(env, LAG_INTERVAL_MS, (int) d.lagInterval().toMillis())),
        env.getOrDefault(LAG_GROUP_PREFIX, d.lagGroupPrefix()),
        integer(env, BIAS_MAX_PAIRS, d.biasMaxPairs()));
  }

  public MetricsConfig withPort(int newPort) {
    return new MetricsConfig(
        host, newPort, auditInterval, lagInterval, lagGroupPrefix, biasMaxPairs);
  }

  public MetricsConfig withIntervals(Duration audit, Duration lag) {
    return new MetricsConfig(host, port, audit, lag, lagGroupPrefix, biasMaxPairs);
  }

  private static int integer(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }
}
