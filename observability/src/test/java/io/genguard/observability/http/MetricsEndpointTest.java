package io.genguard.observability.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldServeEverySourceAsOnePrometheusDocument() throws Exception {
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start(
            "127.0.0.1", 0, List.of(() -> "# TYPE a gauge\na 1", () -> "# TYPE b gauge\nb 2\n"))) {
      HttpResponse<String> response = get(endpoint.port(), "/metrics");

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type"))
          .contains(MetricsEndpoint.CONTENT_TYPE);
      assertThat(response.body()).isEqualTo("# TYPE a gauge\na 1\n# TYPE b gauge\nb 2\n");
      assertThat(get(endpoint.port(), "/health").body()).isEqualTo("ok\n");
    }
  }

  @Test
  void shouldAnswerHealthWithServiceUnavailableWhileTheServiceIsNotHealthy() throws Exception {
    AtomicBoolean healthy = new AtomicBoolean(true);
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start(
            "127.0.0.1",
            0,
            List.of(() -> "# TYPE a gauge\na 1\n"),
            healthy::get,
            Optional::empty)) {
      assertThat(get(endpoint.port(), "/health").statusCode()).isEqualTo(200);

      healthy.set(false);
      HttpResponse<String> down = get(endpoint.port(), "/health");
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(down.body()).contains("unhealthy");
      assertThat(get(endpoint.port(), "/metrics").statusCode())
          .as("still scraped: the metrics say what is down")
          .isEqualTo(200);

      healthy.set(true);
      assertThat(get(endpoint.port(), "/health").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void shouldAnswerReadyOnlyWhileTheServiceSaysItCanWorkAndSayWhyNot() throws Exception {
    AtomicReference<Optional<String>> why = new AtomicReference<>(Optional.of("models loading"));
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start(
            "127.0.0.1", 0, List.of(() -> "# TYPE a gauge\na 1\n"), () -> true, why::get)) {
      HttpResponse<String> notReady = get(endpoint.port(), "/ready");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).isEqualTo("not ready: models loading\n");
      // Liveness stays separate: a service that is not ready is still alive.
      assertThat(get(endpoint.port(), "/health").statusCode()).isEqualTo(200);

      why.set(Optional.empty());
      HttpResponse<String> ready = get(endpoint.port(), "/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).isEqualTo("ready\n");
    }
  }

  @Test
  void shouldAnswerHealthWithServiceUnavailableWhenTheCheckThrows() throws Exception {
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start(
            "127.0.0.1",
            0,
            List.of(() -> "# TYPE a gauge\na 1\n"),
            () -> {
              throw new IllegalStateException("client closed");
            },
            Optional::empty)) {
      HttpResponse<String> response = get(endpoint.port(), "/health");

      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.body()).doesNotContain("client closed");
    }
  }

  @Test
  void shouldBeReadyWithoutAReadinessCheck() throws Exception {
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start("127.0.0.1", 0, List.of(() -> "# TYPE a gauge\na 1\n"))) {
      assertThat(get(endpoint.port(), "/ready").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void shouldAnswerAFailingSourceWithServerError() throws Exception {
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start(
            "127.0.0.1",
            0,
            List.of(
                () -> {
                  throw new IllegalStateException("registry closed");
                }))) {
      HttpResponse<String> response = get(endpoint.port(), "/metrics");

      assertThat(response.statusCode()).isEqualTo(500);
      assertThat(response.body())
          .as("the reason is logged, not told to whoever can reach the port")
          .doesNotContain("registry closed")
          .contains("service log");
    }
  }

  @Test
  void shouldAnswerWhileAClientHoldsAConnectionWithItsRequestUnfinished() throws Exception {
    try (MetricsEndpoint endpoint =
            MetricsEndpoint.start("127.0.0.1", 0, List.of(() -> "# TYPE a gauge\na 1\n"));
        Socket idle = unfinishedRequest(endpoint.port())) {
      assertThat(get(endpoint.port(), "/health", Duration.ofSeconds(3)).body()).isEqualTo("ok\n");
      assertThat(get(endpoint.port(), "/metrics", Duration.ofSeconds(3)).statusCode())
          .isEqualTo(200);
    }
  }

  @Test
  void shouldCloseConnectionsWhoseRequestNeverEndsSoThatHealthChecksGetThrough() throws Exception {
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.start("127.0.0.1", 0, List.of(() -> "# TYPE a gauge\na 1\n"))) {
      List<Socket> idle = new ArrayList<>();
      try {
        for (int i = 0; i <= MetricsEndpoint.THREADS; i++) {
          idle.add(unfinishedRequest(endpoint.port()));
        }
        long started = System.nanoTime();
        assertThat(get(endpoint.port(), "/health", Duration.ofSeconds(20)).body())
            .isEqualTo("ok\n");
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .as("answered once the server dropped the unfinished requests")
            .isLessThan(MetricsEndpoint.REQUEST_TIMEOUT.plusSeconds(5));
        idle.get(0).setSoTimeout(10_000);
        assertThat(idle.get(0).getInputStream().read())
            .as("the unfinished request's connection is closed, unanswered")
            .isEqualTo(-1);
      } finally {
        for (Socket socket : idle) {
          socket.close();
        }
      }
    }
  }

  /** A connection that sent the start of a request and nothing more. */
  private static Socket unfinishedRequest(int port) throws Exception {
    Socket socket = new Socket("127.0.0.1", port);
    socket
        .getOutputStream()
        .write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return socket;
  }

  @Test
  void shouldNameThePortAndTheSettingWhenThePortIsTaken() {
    try (MetricsEndpoint first = MetricsEndpoint.start("127.0.0.1", 0, List.of(() -> ""))) {
      assertThatThrownBy(() -> MetricsEndpoint.start("127.0.0.1", first.port(), List.of(() -> "")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("127.0.0.1:" + first.port())
          .hasMessageContaining("GENGUARD_METRICS_PORT");
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return get(port, path, Duration.ofSeconds(30));
  }

  private HttpResponse<String> get(int port, String path, Duration timeout) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(timeout)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
