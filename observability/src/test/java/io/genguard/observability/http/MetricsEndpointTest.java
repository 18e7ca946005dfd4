package io.genguard.observability.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
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
      assertThat(response.body()).contains("registry closed");
    }
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
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
