package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generator takes any request id that is not blank and fits 1,024 bytes of UTF-8, so the
 * takedown, erasure, story and evidence routes take every such id too (percent-encoded in a path,
 * or in a JSON body where a path cannot carry it), on a running audit service over real PostgreSQL;
 * what no stored id can be (NUL, a lone surrogate, overlong, blank) and hostile paths are a 400.
 */
class AnyRequestIdTakedownITCase {
  private static final Instant AT = Instant.now().minusSeconds(600);
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final String SPACE = "order 17 " + RUN;
  private static final String SLASH = "tenants/acme/" + RUN;
  private static final String PERCENT = "50%-off+" + RUN;

  /** Holds "%2B", which the router's own decoding reads as '+'. */
  private static final String PLUS = "sale%2B/ é " + RUN;

  /** Named in a body: a tab, a comma and a quote, which the generator takes too. */
  private static final String BODY = "bulk\t100%, \"q\" " + RUN;

  private static final String UNICODE = "café-注文-" + RUN;
  private static final String ERASE_SLASH = "../erase/" + RUN;
  private static final String ERASE_SPACE = "erase me " + RUN;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static RunningAuditService audit;
  private static String admin;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("any_request_id_it");
    List<IncomingEvent> stories = new ArrayList<>();
    for (String id :
        List.of(SPACE, SLASH, PERCENT, UNICODE, PLUS, BODY, ERASE_SLASH, ERASE_SPACE)) {
      stories.addAll(AuditEvents.story(Scenario.of(id, "acme", Decision.RELEASE, AT)));
    }
    audit.seed(stories);
    admin = audit.token(Role.ADMIN, "acme", "ada");
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldTakeDownARequestWhoseIdTheGeneratorTookWhateverItHolds() throws Exception {
    for (String id : List.of(SPACE, SLASH, PERCENT, UNICODE, PLUS)) {
      HttpResponse<String> story = audit.get("/api/v1/requests/" + segment(id), admin);
      assertThat(story.statusCode()).as(id + ": " + story.body()).isEqualTo(200);
      assertThat(RunningAuditService.json(story).path("requestId").asText()).isEqualTo(id);
      HttpResponse<String> done =
          audit.post(
              "/api/v1/requests/" + segment(id) + "/retract", admin, "{\"reason\": \"C-1\"}");
      assertThat(done.statusCode()).as(id + ": " + done.body()).isEqualTo(201);
      assertThat(RunningAuditService.json(done).path("requestId").asText()).isEqualTo(id);
      assertThat(retracted(id)).as(id).isEqualTo(1);
    }

    HttpResponse<String> bulk =
        audit.post(
            "/api/v1/retractions",
            admin,
            JSON.writeValueAsString(Map.of("requestIds", List.of(BODY), "reason", "C-2")));
    assertThat(bulk.statusCode()).as(bulk.body()).isEqualTo(200);
    JsonNode taken = RunningAuditService.json(bulk).path("retracted");
    assertThat(taken).as(bulk.body()).hasSize(1);
    assertThat(taken.get(0).path("requestId").asText()).isEqualTo(BODY);
    assertThat(retracted(BODY)).isEqualTo(1);
  }

  @Test
  void shouldEraseARequestWhoseIdTheGeneratorTookInAPathOrABody() throws Exception {
    HttpResponse<String> inPath =
        audit.post(
            "/api/v1/requests/" + segment(ERASE_SPACE) + "/erase", admin, "{\"reason\": \"DSR\"}");
    assertThat(inPath.statusCode()).as(inPath.body()).isEqualTo(200);
    HttpResponse<String> inBody =
        audit.post(
            "/api/v1/erasures",
            admin,
            JSON.writeValueAsString(Map.of("requestId", ERASE_SLASH, "reason", "DSR")));
    assertThat(inBody.statusCode()).as(inBody.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(inBody).path("requestId").asText()).isEqualTo(ERASE_SLASH);
    assertThat(RunningAuditService.json(inBody).path("tombstoned").asLong()).isPositive();
    for (String id : List.of(ERASE_SPACE, ERASE_SLASH)) {
      assertThat(count("select count(*) from request_erasure where request_id = " + literal(id)))
          .as(id)
          .isEqualTo(1);
    }
    assertThat(
            audit
                .post(
                    "/api/v1/erasures",
                    admin,
                    JSON.writeValueAsString(
                        Map.of("requestId", "x", "key", "k", "value", "v", "reason", "DSR")))
                .body())
        .contains("requestId names the request itself");
  }

  @Test
  void shouldRefuseWhatNoStoredRequestIdIsWithAClearError() throws Exception {
    Map<String, String> refused =
        Map.of(
            "a\u0000b",
            "holds a NUL character",
            "a\ud800b",
            "well-formed Unicode",
            "x".repeat(1_025),
            "has 1025 bytes in UTF-8",
            "é".repeat(513),
            "has 1026 bytes in UTF-8",
            "  ",
            "is blank");
    for (Map.Entry<String, String> one : refused.entrySet()) {
      String id = quoted(one.getKey());
      for (String body :
          List.of(
              "{\"requestIds\": [" + id + "], \"reason\": \"x\"}",
              "{\"requestId\": " + id + ", \"reason\": \"x\"}")) {
        String path = body.contains("requestIds") ? "/api/v1/retractions" : "/api/v1/erasures";
        HttpResponse<String> answer = audit.post(path, admin, body);
        assertThat(answer.statusCode()).as(path + " " + answer.body()).isEqualTo(400);
        String error = RunningAuditService.json(answer).path("error").asText();
        assertThat(error).as(path).contains(one.getValue());
        assertThat(error).doesNotContain("\u0000", "\ud800");
      }
    }
    int port = URI.create(audit.baseUrl()).getPort();
    String body = "{\"reason\": \"x\"}";
    String auth =
        "Authorization: Bearer "
            + admin
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length()
            + "\r\n";
    Map<String, String> paths = new java.util.LinkedHashMap<>();
    paths.put("/api/v1/requests/a%00b/retract", "400 malformed");
    paths.put("/api/v1/requests/a%ZZ/retract", "400 malformed");
    paths.put("/api/v1/requests/%ED%A0%80/retract", "400 not percent-encoded UTF-8");
    paths.put("/api/v1/requests/caf%E9/erase", "400 not percent-encoded UTF-8");
    paths.put("/api/v1/requests/" + "x".repeat(1_025) + "/retract", "400 has 1025 bytes");
    paths.put("/api/v1/requests/%20%20/erase", "400 is blank");
    paths.put("/api/v1/requests/%E2%80%AE%00/evidence", "400 malformed");
    // Ids the generator would take, and nothing holds: looked up, never a file or another route.
    paths.put("/api/v1/requests/..%2F..%2Fsecret/retract", "404 '../../secret'");
    paths.put("/api/v1/requests/%2E%2E/erase", "404 '..'");
    for (Map.Entry<String, String> one : paths.entrySet()) {
      String path = one.getKey();
      String method = path.endsWith("/evidence") ? "GET " : "POST ";
      RawHttp.Answer answer = RawHttp.send(port, method + path, auth, body);
      String[] expected = one.getValue().split(" ", 2);
      assertThat(answer.status())
          .as(path + ": " + answer.body())
          .isEqualTo(Integer.parseInt(expected[0]));
      assertThat(answer.body()).as(path).contains("\"error\"", expected[1]);
    }
    assertThat(count("select count(*) from content_retraction where request_id like '%secret%'"))
        .isZero();
  }

  /** {@code text} as a JSON string, every character past ASCII as an escape (a lone one too). */
  private static String quoted(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return out.append('"').toString();
  }

  /** {@code id} as one path segment: percent-encoded UTF-8, '+' kept as a literal plus. */
  private static String segment(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static long retracted(String id) throws Exception {
    return count("select count(*) from content_retraction where request_id = " + literal(id));
  }

  private static String literal(String id) {
    return "'" + id.replace("'", "''") + "'";
  }

  private static long count(String sql) throws Exception {
    return audit.count(sql);
  }
}
