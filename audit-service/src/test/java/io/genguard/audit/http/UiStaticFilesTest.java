package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.http.RawHttp.Answer;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The compliance UI's static files: served at their plain paths, and every other form of a path
 * into the UI's folder (a trailing slash, an empty, dot or encoded segment) answers the API's JSON
 * 404, never an empty 500 and never a file from outside the folder. The API runs without a
 * database: no route these requests reach needs one.
 */
class UiStaticFilesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static AuditApi api;

  @BeforeAll
  static void start() {
    api = ApiWithoutServices.create().start("127.0.0.1", 0);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/ui/", "/ui/index.html", "/ui/app.js", "/ui/app.css"})
  void shouldServeTheUiFilesAtTheirPlainPaths(String path) throws IOException {
    Answer answer = send("GET", path);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.header("content-security-policy")).isEqualTo(SecurityHeaders.UI_CSP);
    assertThat(answer.body()).isNotBlank();
  }

  @Test
  void shouldRedirectTheUiFolderWithoutItsSlash() throws IOException {
    Answer answer = send("GET", "/ui");

    assertThat(answer.status()).isEqualTo(302);
    assertThat(answer.header("location")).endsWith("/ui/");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/ui/app.js/",
        "/ui//app.js",
        "/ui/app.css/",
        "/ui/index.html/",
        "/ui/app.js/.",
        "/ui/app.js/..",
        "/ui///",
        "/ui/.",
        "/ui/..",
        "/ui/./app.js",
        "/ui/../x",
        "/ui/../openapi.yaml",
        "/ui/../io/genguard/audit/http/AuditApi.class",
        "/ui/%2e",
        "/ui/%2e%2e/",
        "/ui/%2e%2e%2f",
        "/ui/%2e%2e/openapi.yaml",
        "/ui/%2e%2e%2fopenapi.yaml",
        "/ui/..%2fopenapi.yaml",
        "/ui/%2fapp.js",
        "/ui/app.js%2f",
        "/ui%2fapp.js",
        "/ui%2f..%2fopenapi.yaml",
        "/%75i/app.js",
        "/%75i/app.js/",
        "/ui/%u002e",
        "/ui/app.js;x",
        "/ui/;/app.js",
        "/ui/..;/openapi.yaml",
        "/ui/%5c..%5copenapi.yaml",
        "/ui/nope",
        "/ui/nope/"
      })
  void shouldAnswerEveryOtherPathIntoTheUiFolderWithTheJsonNotFound(String path)
      throws IOException {
    Answer answer = send("GET", path);

    assertThat(answer.status()).as("GET %s", path).isEqualTo(404);
    assertThat(answer.header("content-type")).startsWith("application/json");
    JsonNode error = JSON.readTree(answer.body());
    assertThat(error.path("status").asInt()).isEqualTo(404);
    assertThat(error.path("error").asText()).isNotBlank();
  }

  @Test
  void shouldAnswerAHeadRequestForAnOddUiPathWithNotFound() throws IOException {
    assertThat(send("HEAD", "/ui/app.js/").status()).isEqualTo(404);
    assertThat(send("HEAD", "/ui/app.js").status()).isEqualTo(200);
  }

  /** Jetty refuses these itself (400) before the API sees them: never a 500, never a file. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "/ui/app.js%00",
        "/ui/%00",
        "/ui/%2e%2e/%2e%2e/etc/passwd",
        "/..",
        "/%2e%2e/",
        "/ui/../../etc/passwd"
      })
  void shouldNeverFailOrEscapeTheUiFolderOnMalformedPaths(String path) throws IOException {
    Answer answer = send("GET", path);

    assertThat(answer.status()).as("GET %s", path).isIn(400, 404);
    assertThat(answer.body()).doesNotContain("openapi:").doesNotContain("root:");
  }

  private static Answer send(String method, String path) throws IOException {
    return RawHttp.send(api.port(), method + " " + path, "", "");
  }
}
