package io.genguard.audit;

import java.util.Map;

/**
 * Settings of the audit service: defaults, overridden by GENGUARD_AUDIT_* environment keys.
 *
 * @param jdbcUrl PostgreSQL JDBC URL
 * @param jdbcUser database user
 * @param jdbcPassword database password (never logged)
 * @param consumerGroup Kafka group of the audit ingestor
 * @param httpHost address the API binds to
 * @param httpPort API port (0 for a free one)
 * @param poolSize database connections
 */
public record AuditConfig(
    String jdbcUrl,
    String jdbcUser,
    String jdbcPassword,
    String consumerGroup,
    String httpHost,
    int httpPort,
    int poolSize) {

  public static final String JDBC_URL = "GENGUARD_AUDIT_JDBC_URL";
  public static final String JDBC_USER = "GENGUARD_AUDIT_JDBC_USER";
  public static final String JDBC_PASSWORD = "GENGUARD_AUDIT_JDBC_PASSWORD";
  public static final String CONSUMER_GROUP = "GENGUARD_AUDIT_GROUP";
  public static final String HTTP_HOST = "GENGUARD_AUDIT_HTTP_HOST";
  public static final String HTTP_PORT = "GENGUARD_AUDIT_HTTP_PORT";
  public static final String POOL_SIZE = "GENGUARD_AUDIT_POOL_SIZE";

  @Override
  public String toString() {
    return "AuditConfig[jdbcUrl=" + jdbcUrl + ", jdbcUser=" + jdbcUser + ", jdbcPassword=***, consumerGroup="
        + consumerGroup + ", httpHost=" + httpHost + ", httpPort=" + httpPort + ", poolSize=" + poolSize + "]";
  }

  public static AuditConfig of(String jdbcUrl, String user, String password, int httpPort) {
    return new AuditConfig(jdbcUrl, user, password, "genguard-audit", "127.0.0.1", httpPort, 4);
  }

  /** Overrides {@code base} with any GENGUARD_AUDIT_* keys in {@code env}. */
  public static AuditConfig fromEnvironment(Map<String, String> env, AuditConfig base) {
    return new AuditConfig(
        env.getOrDefault(JDBC_URL, base.jdbcUrl()),
        env.getOrDefault(JDBC_USER, base.jdbcUser()),
        env.getOrDefault(JDBC_PASSWORD, base.jdbcPassword()),
        env.getOrDefault(CONSUMER_GROUP, base.consumerGroup()),
        env.getOrDefault(HTTP_HOST, base.httpHost()),
        port(env.get(HTTP_PORT), base.httpPort()),
        positive(POOL_SIZE, env.get(POOL_SIZE), base.poolSize()));
  }

  private static int port(String value, int fallback) {
    if (value == null) {
      return fallback;
    }
    int port = positive(HTTP_PORT, value, fallback);
    if (port > 65535) {
      throw new IllegalArgumentException(HTTP_PORT + "=" + value + " is not a TCP port (0-65535)");
    }
    return port;
  }

  private static int positive(String key, String value, int fallback) {
    if (value == null) {
      return fallback;
    }
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed < 0) {
        throw new IllegalArgumentException(key + "=" + value + " must not be negative");
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }
}
