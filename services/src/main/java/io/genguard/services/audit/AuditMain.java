package io.genguard.services.audit;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.AuditService;
import io.genguard.observability.MetricsConfig;
import io.genguard.observability.audit.AuditStoreCollector;
import io.genguard.observability.kafka.ConsumerGroupLagCollector;
import io.genguard.services.runtime.ServiceEnvironment;
import io.genguard.services.runtime.ServiceProcess;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * The audit service on its own: ingestion of every topic into PostgreSQL and the HTTP API
 * (GENGUARD_AUDIT_* keys). Its /metrics also carries what is derived from the audit store and the
 * consumer lag of every GenGuard group, so one process reports them for the whole deployment.
 */
public final class AuditMain {
  private AuditMain() {}

  public static void main(String[] args) throws Exception {
    start(System.getenv()).runUntilStopped();
  }

  /** Starts the service from {@code env} and returns without blocking. */
  public static ServiceProcess start(Map<String, String> env) {
    ServiceEnvironment environment = ServiceEnvironment.fromEnvironment(env);
    AuditConfig config =
        AuditConfig.fromEnvironment(
            env, AuditConfig.of("jdbc:postgresql://localhost:5432/genguard", "genguard", "", 8080));
    ServiceProcess process = ServiceProcess.start("audit", environment);
    try {
      AuditService audit =
          process.manage(
              new AuditService(config, environment.kafkaProperties(), Clock.systemUTC()));
      MetricsConfig metrics = environment.metrics();
      audit.bindMetrics(process.registry());
      process.manage(
          AuditStoreCollector.start(
              audit.database().dataSource(),
              process.registry(),
              metrics.auditInterval(),
              Clock.systemUTC(),
              metrics.biasMaxPairs()));
      process.manage(
          ConsumerGroupLagCollector.start(
              environment.kafkaProperties(),
              group -> group.startsWith(metrics.lagGroupPrefix()),
              process.registry(),
              metrics.lagInterval()));
      // Unhealthy while an ingestor has stopped or the database pool gives no connection.
      process.serveMetrics(() -> audit.whyUnhealthy().isEmpty(), Optional::empty);
      return process;
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }
}
