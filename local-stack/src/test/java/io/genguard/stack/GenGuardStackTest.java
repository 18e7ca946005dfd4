package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.AuditConfig;
import io.genguard.observability.MetricsConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenGuardStackTest {
  @Test
  void shouldKeepTheStacksOwnDatabaseAndPortWhateverTheAuditKeysInTheShellSay() {
    AuditConfig base = AuditConfig.of("jdbc:postgresql://127.0.0.1:5433/genguard", "u", "p", 18080);
    Map<String, String> shell =
        Map.of(
            AuditConfig.JDBC_URL, "jdbc:postgresql://prod-db:5432/genguard",
            AuditConfig.JDBC_USER, "prod",
            AuditConfig.JDBC_PASSWORD, "prod-secret",
            AuditConfig.HTTP_PORT, "9000",
            AuditConfig.REVIEW_CLAIM_MINUTES, "5",
            AuditConfig.RESEND_QUIET_SECONDS, "7200");

    AuditConfig config = AuditConfig.fromEnvironment(GenGuardStack.auditEnvironment(shell), base);

    assertThat(config.jdbcUrl()).isEqualTo(base.jdbcUrl());
    assertThat(config.jdbcUser()).isEqualTo("u");
    assertThat(config.jdbcPassword()).isEqualTo("p");
    assertThat(config.httpPort()).as("--http-port wins").isEqualTo(18080);
    assertThat(config.reviewClaimMinutes()).as("tuning keys still apply").isEqualTo(5);
    assertThat(config.resendQuiet()).as("the quiet time after a resend too").hasHours(2);
  }

  @Test
  void shouldStopEveryResourceWhenOneThrowsAnError() {
    List<String> closed = new ArrayList<>();
    Deque<AutoCloseable> started = new ArrayDeque<>();
    started.push(() -> closed.add("postgres"));
    started.push(() -> closed.add("kafka"));
    // An Error, as a jar rebuilt under a running stack gives (not an OutOfMemoryError: the test
    // runner ends its JVM on one that escapes).
    started.push(
        () -> {
          throw new NoClassDefFoundError("io/genguard/audit/AuditService$1");
        });
    started.push(() -> closed.add("api"));

    GenGuardStack.closeAll(started);

    assertThat(closed).containsExactly("api", "kafka", "postgres");
    assertThat(started).isEmpty();
  }

  /**
   * The bias gauges' cap (GENGUARD_METRICS_BIAS_MAX_PAIRS, the forty-eighth session's setting) is
   * read from the stack's settings into what its audit-store collector gets, as the audit service's
   * is; the metrics port stays the stack's own.
   */
  @Test
  void shouldGiveTheAuditStoreCollectorTheBiasGaugeCapOfItsSettings() {
    StackConfig config = StackConfig.defaults();

    assertThat(GenGuardStack.metricsConfig(config, Map.of()).biasMaxPairs()).isEqualTo(1_105);
    MetricsConfig raised =
        GenGuardStack.metricsConfig(
            config, Map.of(MetricsConfig.BIAS_MAX_PAIRS, "2210", MetricsConfig.PORT, "19999"));
    assertThat(raised.biasMaxPairs()).isEqualTo(2_210);
    assertThat(raised.port()).as("--metrics-port wins").isEqualTo(config.metricsPort());
  }

  /**
   * A bias gauges' cap that is not valid is refused before anything starts, naming the setting.
   * Before the forty-ninth session the stack read it last, as its collectors started: Kafka,
   * PostgreSQL, Flink's jobs and the generator had started (a minute or more) and were stopped.
   */
  @Test
  void shouldRefuseABadBiasGaugeCapBeforeStartingAnything(@TempDir Path dataDir) {
    StackConfig config = StackConfig.defaults().withDataDir(dataDir).withPorts(0, 0, 0);

    assertThatThrownBy(
            () -> GenGuardStack.start(config, Map.of(MetricsConfig.BIAS_MAX_PAIRS, "0")).close())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("GENGUARD_METRICS_BIAS_MAX_PAIRS must be 1-100000, was 0");
    assertThat(Files.exists(dataDir.resolve("postgres"))).as("nothing started").isFalse();
    assertThat(Files.exists(dataDir.resolve("kafka"))).as("nothing started").isFalse();
  }

  /**
   * A --postgres-port another process listens on is refused before anything starts, naming it; the
   * start used to find whatever PostgreSQL answered there, or wait 60 s for its own.
   */
  @Test
  void shouldRefuseABusyPostgresPortBeforeStartingAnything(@TempDir Path dataDir) throws Exception {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      int port = busy.getLocalPort();
      StackConfig config = StackConfig.defaults().withDataDir(dataDir).withPorts(0, port, 0);

      assertThatThrownBy(() -> GenGuardStack.start(config).close())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "--postgres-port " + port + " (GENGUARD_POSTGRES_PORT) is in use by another process");
      assertThat(Files.exists(dataDir.resolve("postgres"))).as("nothing started").isFalse();
    }
  }

  /**
   * A --http-port another process listens on is refused before anything starts, naming the flag and
   * the key; the audit service found it about a minute in, after Kafka, PostgreSQL and Flink.
   */
  @Test
  void shouldRefuseABusyHttpPortBeforeStartingAnything(@TempDir Path dataDir) throws Exception {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      int port = busy.getLocalPort();
      StackConfig config = StackConfig.defaults().withDataDir(dataDir).withPorts(0, 0, port);

      assertThatThrownBy(() -> GenGuardStack.start(config).close())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "--http-port " + port + " (GENGUARD_HTTP_PORT) is in use by another process");
      assertThat(Files.exists(dataDir.resolve("postgres"))).as("nothing started").isFalse();
      assertThat(Files.exists(dataDir.resolve("kafka"))).as("nothing started").isFalse();
    }
  }

  @Test
  void shouldRefuseABusyKafkaPortAndHttpPortOnTheApisAddress() throws Exception {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      int port = busy.getLocalPort();

      assertThatThrownBy(
              () ->
                  GenGuardStack.requireFreePorts(
                      StackConfig.defaults().withPorts(port, 0, 0), Map.of()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "--kafka-port " + port + " (GENGUARD_KAFKA_PORT) is in use by another process");
      assertThatThrownBy(
              () ->
                  GenGuardStack.requireFreePorts(
                      StackConfig.defaults().withPorts(0, 0, port),
                      Map.of(AuditConfig.HTTP_HOST, "0.0.0.0")))
          .as("the API on every address collides with one on 127.0.0.1")
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("--http-port " + port)
          .hasMessageContaining("(on 0.0.0.0)");
      // Against external servers only the API's port is the stack's.
      GenGuardStack.requireFreePorts(
          StackConfig.defaults()
              .withPorts(port, 0, 0)
              .withExternal(
                  new StackConfig.ExternalInfrastructure("127.0.0.1:" + port, "jdbc:x", "u", "p")),
          Map.of());
    }
  }
}
