package io.genguard.services.generator;

import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.GeneratorService;
import io.genguard.services.runtime.ServiceEnvironment;
import io.genguard.services.runtime.ServiceProcess;
import io.micrometer.core.instrument.Gauge;
import java.util.Map;

/**
 * The generator service on its own: worker threads on gen.requests (GENGUARD_GENERATOR_* keys,
 * provenance keys GENGUARD_WATERMARK_KEYS and GENGUARD_SIGNING_KEYS) and its /metrics.
 */
public final class GeneratorMain {
  public static final String RUNNING_WORKERS = "genguard.generator.workers.running";

  private GeneratorMain() {}

  public static void main(String[] args) throws Exception {
    start(System.getenv()).runUntilStopped();
  }

  /** Starts the service from {@code env} and returns without blocking. */
  public static ServiceProcess start(Map<String, String> env) {
    ServiceEnvironment environment = ServiceEnvironment.fromEnvironment(env);
    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(withInstanceId(env), environment.dataDir());
    ServiceProcess process = ServiceProcess.start("generator", environment);
    try {
      GeneratorService generator =
          process.manage(
              new GeneratorService(config, environment.kafkaProperties(), process.registry()));
      generator.start();
      Gauge.builder(RUNNING_WORKERS, generator, GeneratorService::runningWorkers)
          .description("Generator worker threads running")
          .register(process.registry());
      // Unhealthy while no worker runs (GenGuardGeneratorWorkersDown) and, since the forty-first
      // session, while a worker has been inside one backend call for longer than
      // GENGUARD_GENERATOR_HUNG_CALL_MS (GenGuardGeneratorBackendCallHung): only a restart ends a
      // hung forward pass. /ready: 503 while the models load, after a failed warm-up until they
      // load, and while a call is hung (naming the backend and how long).
      process.serveMetrics(generator::healthy, generator::whyNotWarmedUp);
      return process;
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
  }

  /**
   * Every generator process needs its own instance id (it names the transactional ids and static
   * group members). Without GENGUARD_GENERATOR_INSTANCE_ID, the host name is used, so replicas of
   * {@code docker compose up --scale generator=N} never fence each other; a container keeps its
   * host name across restarts, a re-created one gets a new id (its predecessor's open transaction
   * is then aborted by the broker after transaction.timeout.ms instead of at once).
   */
  static Map<String, String> withInstanceId(Map<String, String> env) {
    String configured = env.get(GeneratorConfig.Keys.INSTANCE_ID);
    String host = env.get("HOSTNAME");
    if ((configured != null && !configured.isBlank()) || host == null || host.isBlank()) {
      return env;
    }
    Map<String, String> copy = new java.util.HashMap<>(env);
    copy.put(GeneratorConfig.Keys.INSTANCE_ID, host);
    return copy;
  }
}
