package io.genguard.observability.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code GET /metrics} in the Prometheus text exposition format (version 0.0.4), the
 * concatenation of one or more scrape sources, {@code GET /health}, which backs the containers'
 * health checks: "ok" (200) while the service's own check passes, 503 when it does not, and {@code
 * GET /ready}: 200 "ready" once the service can do its work, else 503 "not ready: " and why (a
 * service without a readiness check is always ready; one that is not ready is still healthy).
 *
 * <p>A client that connects and never finishes its request must not stall the endpoint: the JDK
 * server reads a request on the executor's thread, so {@value #THREADS} threads serve, and the
 * server closes a connection whose request has not been read and answered within {@link
 * #REQUEST_TIMEOUT}, or whose response has not been taken within {@link #RESPONSE_TIMEOUT}. The JDK
 * server reads those limits once per process, from the system properties {@value #MAX_REQUEST_TIME}
 * and {@value #MAX_RESPONSE_TIME} (seconds): they are set here unless already set, which takes
 * effect only if no JDK HTTP server has started in the process before (each GenGuard service starts
 * this one first; the embedded stack's Flink reporter may start one earlier, without limits).
 */
public final class MetricsEndpoint implements AutoCloseable {
  /** The Prometheus text format content type. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Threads that serve requests: more than one, so one slow client cannot stall the rest. */
  static final int THREADS = 4;

  /** Longest a connection may take to send its request and get its answer started. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  /** Longest a client may take to read its answer. */
  static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);

  static final String MAX_REQUEST_TIME = "sun.net.httpserver.maxReqTime";
  static final String MAX_RESPONSE_TIME = "sun.net.httpserver.maxRspTime";

  private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving.
   *
   * @param host address to bind, e.g. {@code 0.0.0.0} in a container or {@code 127.0.0.1}
   * @param port TCP port, 0 for any free one (see {@link #port()})
   * @param sources each returns a complete Prometheus text document (e.g. {@code
   *     PrometheusMeterRegistry::scrape}); the documents must not repeat a metric family
   * @throws IllegalStateException naming the port and the setting to change when it cannot bind
   */
  public static MetricsEndpoint start(String host, int port, List<Supplier<String>> sources) {
    return start(host, port, sources, () -> true, Optional::empty);
  }

  /**
   * Starts serving, with {@code /health} answering 503 while {@code healthy} is false (or throws),
   * and {@code /ready} answering 503 while {@code whyNotReady} gives a reason.
   *
   * @param healthy whether the service's essential parts run (e.g. its Kafka Streams client, its
   *     workers); called on every health request, so it must be cheap
   * @param whyNotReady why the service cannot do its work yet, or empty when it can; called on each
   *     request, so it must answer at once. Its text is served as it is: it must not hold secrets
   *     or internal details (the port may be reachable by more than Prometheus)
   * @see #start(String, int, List)
   */
  public static MetricsEndpoint start(
      String host,
      int port,
      List<Supplier<String>> sources,
      BooleanSupplier healthy,
      Supplier<Optional<String>> whyNotReady) {
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("at least one scrape source is needed");
    }
    if (System.getProperty(MAX_REQUEST_TIME) == null) {
      System.setProperty(MAX_REQUEST_TIME, Long.toString(REQUEST_TIMEOUT.toSeconds()));
    }
    if (System.getProperty(MAX_RESPONSE_TIME) == null) {
      System.setProperty(MAX_RESPONSE_TIME, Long.toString(RESPONSE_TIMEOUT.toSeconds()));
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (BindException e) {
      throw new IllegalStateException(
          "Cannot serve metrics on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "); choose another port (GENGUARD_METRICS_PORT or --metrics-port)",
          e);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot serve metrics on " + host + ":" + port + ": " + e, e);
    }
    List<Supplier<String>> copy = List.copyOf(sources);
    server.createContext("/metrics", exchange -> serveMetrics(exchange, copy));
    server.createContext("/health", exchange -> serveHealth(exchange, healthy));
    server.createContext("/ready", exchange -> serveReadiness(exchange, whyNotReady));
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            THREADS,
            runnable -> {
              Thread thread =
                  new Thread(runnable, "genguard-metrics-http-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.start();
    LOG.info("Metrics served on http://{}:{}/metrics", host, server.getAddress().getPort());
    return new MetricsEndpoint(server, executor);
  }

  /** The port actually bound. */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void serveMetrics(HttpExchange exchange, List<Supplier<String>> sources)
      throws IOException {
    if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
      respond(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
      return;
    }
    StringBuilder body = new StringBuilder(64 * 1024);
    try {
      for (Supplier<String> source : sources) {
        String text = source.get();
        body.append(text);
        if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') {
          body.append('\n');
        }
      }
    } catch (RuntimeException e) {
      // The reason goes to the log only: the port may be reachable by more than Prometheus.
      LOG.warn("Scrape failed", e);
      respond(
          exchange, 500, "text/plain; charset=utf-8", "scrape failed; the service log says why\n");
      return;
    }
    respond(exchange, 200, CONTENT_TYPE, body.toString());
  }

  private static void serveReadiness(HttpExchange exchange, Supplier<Optional<String>> whyNotReady)
      throws IOException {
    Optional<String> reason;
    try {
      reason = whyNotReady.get();
    } catch (RuntimeException e) {
      LOG.warn("Readiness check failed", e);
      reason = Optional.of("the readiness check failed; the service log says why");
    }
    if (reason.isPresent()) {
      respond(exchange, 503, "text/plain; charset=utf-8", "not ready: " + reason.get() + "\n");
    } else {
      respond(exchange, 200, "text/plain; charset=utf-8", "ready\n");
    }
  }

  private static void serveHealth(HttpExchange exchange, BooleanSupplier healthy)
      throws IOException {
    boolean ok;
    try {
      ok = healthy.getAsBoolean();
    } catch (RuntimeException e) {
      LOG.warn("Health check failed", e);
      ok = false;
    }
    if (ok) {
      respond(exchange, 200, "text/plain; charset=utf-8", "ok\n");
    } else {
      respond(exchange, 503, "text/plain; charset=utf-8", "unhealthy; the service log says why\n");
    }
  }

  private static void respond(HttpExchange exchange, int status, String contentType, String text)
      throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    try (OutputStream body = exchange.getResponseBody()) {
      if (!head) {
        body.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
