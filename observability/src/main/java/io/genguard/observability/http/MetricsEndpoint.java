package io.genguard.observability.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code GET /metrics} in the Prometheus text exposition format (version 0.0.4), the
 * concatenation of one or more scrape sources, and {@code GET /health} ("ok"). One thread; a scrape
 * is a few milliseconds.
 */
public final class MetricsEndpoint implements AutoCloseable {
  /** The Prometheus text format content type. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

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
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("at least one scrape source is needed");
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
    server.createContext(
        "/health", exchange -> respond(exchange, 200, "text/plain; charset=utf-8", "ok\n"));
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "genguard-metrics-http");
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
      LOG.warn("Scrape failed", e);
      respond(exchange, 500, "text/plain; charset=utf-8", "scrape failed: " + e + "\n");
      return;
    }
    respond(exchange, 200, CONTENT_TYPE, body.toString());
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
