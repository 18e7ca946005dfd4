package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.http.RawHttp.Answer;
import io.genguard.audit.security.Role;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed, unknown and hostile requests get a 4xx with the API's JSON error naming what is wrong,
 * before anything is stored or sent, from the whole audit service on real PostgreSQL and Kafka (the
 * shared integration servers), called by an admin.
 */
class BadRequestAnswersITCase {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static RunningAuditService audit;
  private static String authorization;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("bad_request_it");
    authorization = "Authorization: Bearer " + audit.token(Role.ADMIN, null, "ada") + "\r\n";
    port = URI.create(audit.baseUrl()).getPort();
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/v1/outputs?limit=%zz",
        "/api/v1/outputs?group=religion%3",
        "/api/v1/outputs?%zz=1",
        "/api/v1/reviews?state=%"
      })
  void shouldRefuseAQueryWithABrokenPercentEscape(String target) throws IOException {
    JsonNode error = error(send("GET " + target, ""), 400);

    assertThat(error.path("error").asText())
        .contains("'%' that is not followed by two hex digits")
        .contains("%25");
  }

  @Test
  void shouldRefuseAPercentEncodedQueryValueThatIsNotUtf8() throws IOException {
    // Decoded leniently, %C3 alone would become U+FFFD: another value than the one sent.
    JsonNode error = error(send("GET /api/v1/outputs?group=caf%C3", ""), 400);

    assertThat(error.path("error").asText()).contains("group").contains("not UTF-8");
  }

  @Test
  void shouldRefuseAQueryParameterTheEndpointDoesNotTakeInsteadOfDroppingIt() throws IOException {
    // The note belongs in the body; given as a query parameter it would be silently lost.
    JsonNode approve = error(send("POST /api/v1/reviews/req-1/approve?note=looks+fine", ""), 400);
    JsonNode tokens = error(send("GET /api/v1/tokens?tenant=acme", ""), 400);

    assertThat(approve.path("error").asText())
        .contains("Unknown query parameter 'note'")
        .contains("this endpoint takes [tenant]");
    assertThat(tokens.path("error").asText()).contains("Unknown query parameter 'tenant'");
  }

  @Test
  void shouldRefuseABodyThatGivesAMemberTwice() throws IOException {
    JsonNode retention =
        error(
            send("PUT /api/v1/retention/acme", "{\"retentionDays\": 30, \"retentionDays\": 3650}"),
            400);
    JsonNode attributes =
        error(
            send(
                "POST /api/v1/requests",
                "{\"prompt\": \"hi\", \"attributes\": {\"team\": \"a\", \"team\": \"b\"}}"),
            400);

    assertThat(retention.path("error").asText()).contains("Duplicate field 'retentionDays'");
    assertThat(attributes.path("error").asText()).contains("Duplicate field 'team'");
  }

  @Test
  void shouldNameTheMembersABodyTakesWhenItHoldsAnotherOne() throws IOException {
    JsonNode error =
        error(send("POST /api/v1/tokens", "{\"role\": \"admin\", \"tenant\": \"acme\"}"), 400);

    assertThat(error.path("error").asText())
        .isEqualTo(
            "Unknown member 'tenant' in the body; it takes [name, role, tenantId, validDays],"
                + " see /api/v1/openapi.yaml");
  }

  @Test
  void shouldSayWhatAMemberOfTheWrongTypeMustHoldWithoutNamingJavaTypes() throws IOException {
    JsonNode days =
        error(send("POST /api/v1/tokens", "{\"role\": \"ADMIN\", \"validDays\": \"ten\"}"), 400);
    JsonNode attributes =
        error(send("POST /api/v1/requests", "{\"prompt\": \"hi\", \"attributes\": [\"a\"]}"), 400);

    assertThat(days.path("error").asText())
        .isEqualTo("The member at /validDays must be a whole number, see /api/v1/openapi.yaml");
    assertThat(attributes.path("error").asText())
        .isEqualTo("The member at /attributes must be an object, see /api/v1/openapi.yaml");
  }

  /**
   * Every call that reads a JSON body (but what-if, which answers 501 first here: the service runs
   * without the moderation models).
   */
  private static final List<String> BODY_CALLS =
      List.of(
          "POST /api/v1/requests",
          "POST /api/v1/reviews/req-1/approve",
          "POST /api/v1/reviews/req-1/reject",
          "POST /api/v1/tokens",
          "PUT /api/v1/rates/acme",
          "POST /api/v1/policies",
          "POST /api/v1/requests/req-1/erase",
          "POST /api/v1/requests/req-1/retract",
          "POST /api/v1/retractions",
          "POST /api/v1/erasures",
          "POST /api/v1/audit/unfinished/req-1/dismiss",
          "POST /api/v1/audit/unfinished/req-1/resend",
          "POST /api/v1/audit/unfinished/dismiss",
          "POST /api/v1/audit/unfinished/resend",
          "PUT /api/v1/retention/acme");

  static Stream<Arguments> bodiesThatAreNotObjects() {
    return BODY_CALLS.stream()
        .flatMap(
            call ->
                Stream.of("[]", "[1]", "\"x\"", "42", "true", "null")
                    .map(body -> Arguments.of(call, body)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("bodiesThatAreNotObjects")
  void shouldAskForAJsonObjectWithoutNamingJavaTypesWhenTheBodyIsAnotherJsonValue(
      String call, String body) throws IOException {
    JsonNode error = error(send(call, body), 400);

    // Jackson's own text named the Java record the body binds to
    // ("...RequestSubmitter$Submission").
    assertThat(error.path("error").asText())
        .contains("JSON object")
        .contains("/api/v1/openapi.yaml")
        .doesNotContain("io.genguard")
        .doesNotContain("java.")
        .doesNotContain("`")
        .doesNotContain("$");
  }

  @Test
  void shouldRefuseASecondJsonValueAfterTheBodyWithoutNamingJavaTypes() throws IOException {
    JsonNode error =
        error(send("POST /api/v1/requests", "{\"prompt\": \"hi\"} {\"prompt\": \"x\"}"), 400);

    assertThat(error.path("error").asText())
        .startsWith("Body is not valid JSON for this endpoint")
        .contains("one JSON object")
        .doesNotContain("io.genguard")
        .doesNotContain("`");
  }

  @Test
  void shouldRefuseAnUnpairedSurrogateInABodyString() throws IOException {
    // No UTF-8 form: Kafka's and PostgreSQL's encoders would store '?' instead.
    JsonNode note =
        error(send("POST /api/v1/reviews/req-1/approve", "{\"note\": \"ok \\ud800\"}"), 400);
    JsonNode attributeName =
        error(
            send(
                "POST /api/v1/requests",
                "{\"prompt\": \"hi\", \"attributes\": {\"te\\udc00am\": \"a\"}}"),
            400);

    assertThat(note.path("error").asText())
        .contains("The string at /note")
        .contains("unpaired surrogate \\ud800");
    assertThat(attributeName.path("error").asText())
        .contains("A member name in the object at /attributes")
        .contains("unpaired surrogate \\udc00");
  }

  @Test
  void shouldAnswerAnotherMethodOnAKnownPathWithTheMethodsItTakes() throws IOException {
    Answer answer = send("PUT /api/v1/summary", "");
    JsonNode error = error(answer, 405);

    assertThat(answer.header("allow")).isEqualTo("GET");
    assertThat(error.path("error").asText())
        .isEqualTo("PUT is not allowed on /api/v1/summary; use GET");
  }

  @Test
  void shouldAnswerRequestsJettyCannotParseInTheApiErrorShape() throws IOException {
    JsonNode path = error(send("GET /api/v1/requests/%zz", ""), 400);
    JsonNode header =
        error(send("GET /api/v1/health", "", "X-Padding: " + "a".repeat(9000) + "\r\n"), 431);
    JsonNode length = error(send("PUT /api/v1/retention/acme", "", "Content-Length: ten\r\n"), 400);
    JsonNode uri = error(send("GET /api/v1/outputs?group=" + "a".repeat(9000), ""), 414);

    assertThat(path.path("error").asText()).contains("malformed").contains("percent-encoding");
    assertThat(header.path("error").asText()).contains("header fields are over 8 KiB");
    assertThat(length.path("error").asText()).contains("Content-Length");
    assertThat(uri.path("error").asText()).contains("URI is over 8 KiB");
  }

  private static JsonNode error(Answer answer, int status) throws IOException {
    assertThat(answer.status()).as(answer.toString()).isEqualTo(status);
    assertThat(answer.header("content-type")).as(answer.toString()).startsWith("application/json");
    JsonNode error = JSON.readTree(answer.body());
    assertThat(error.path("status").asInt()).isEqualTo(status);
    return error;
  }

  private static Answer send(String requestLine, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String length =
        bytes.length == 0
            ? ""
            : "Content-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n";
    return send(requestLine, body, length);
  }

  private static Answer send(String requestLine, String body, String headers) throws IOException {
    return RawHttp.send(port, requestLine, authorization + headers, body);
  }
}
