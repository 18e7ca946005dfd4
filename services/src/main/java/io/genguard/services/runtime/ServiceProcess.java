package io.genguard.services.runtime;

import io.genguard.observability.http.MetricsEndpoint;
import io.genguard.observability.registry.PrometheusRegistries;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One service in its own process: its Prometheus registry (JVM meters bound) and endpoint, and an
 * orderly stop. Resources are closed in reverse order of {@link #manage}, so what was started last
 * (the endpoint, then the service's intake) stops first; SIGTERM (docker stop) runs {@link #close}.
 */
public final class ServiceProcess implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceProcess.class);

  private final String service;
  private final ServiceEnvironment environment;
  private final PrometheusMeterRegistry registry;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private MetricsEndpoint endpoint;

  private ServiceProcess(String service, ServiceEnvironment environment) {
    this.service = service;
    this.environment = environment;
    this.registry = PrometheusRegistries.create(service);
    resources.push(PrometheusRegistries.bindJvmMetrics(registry));
  }

  public static ServiceProcess start(String service, ServiceEnvironment environment) {
    return new ServiceProcess(service, environment);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public ServiceEnvironment environment() {
    return environment;
  }

  /** Closes {@code resource} with the process, before everything managed earlier. */
  public <T extends AutoCloseable> T manage(T resource) {
    synchronized (resources) {
      resources.push(resource);
    }
    return resource;
  }

  /** Serves /metrics; a port that cannot be bound fails the start (the container restarts). */
  public void serveMetrics() {
    serveMetrics(() -> true, Optional::empty);
  }

  /**
   * Serves /metrics, /health answering 503 while {@code healthy} is false (the container's health
   * check), and /ready from {@code whyNotReady} (see {@link MetricsEndpoint#start(String, int,
   * List, BooleanSupplier, Supplier)}); a port that cannot be bound fails the start.
   */
  public void serveMetrics(BooleanSupplier healthy, Supplier<Optional<String>> whyNotReady) {
    endpoint =
        manage(
            MetricsEndpoint.start(
                environment.metrics().host(),
                environment.metrics().port(),
                List.of(registry::scrape),
                healthy,
                whyNotReady));
  }

  /** The port /metrics is served on. */
  public int metricsPort() {
    if (endpoint == null) {
      throw new IllegalStateException("serveMetrics() was not called");
    }
    return endpoint.port();
  }

  /** Blocks until the JVM is asked to stop, then closes everything in order. */
  public void runUntilStopped() throws InterruptedException {
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "genguard-" + service + "-stop"));
    LOG.info("{} running; metrics on port {}", service, endpoint == null ? "-" : endpoint.port());
    closed.await();
  }

  @Override
  public void close() {
    synchronized (resources) {
      while (!resources.isEmpty()) {
        AutoCloseable resource = resources.pop();
        try {
          resource.close();
        } catch (Exception e) {
          LOG.warn(
              "{}: error while stopping {}: {}",
              service,
              resource.getClass().getSimpleName(),
              e.toString());
        }
      }
    }
    registry.close();
    closed.countDown();
    LOG.info("{} stopped", service);
  }
}
