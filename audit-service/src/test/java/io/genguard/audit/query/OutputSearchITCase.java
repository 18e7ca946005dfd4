package io.genguard.audit.query;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Searching judged outputs by decision, category, group, tenant and time; pages; CSV and JSON
 * export.
 */
class OutputSearchITCase {
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  private static RunningAuditService audit;
  private static String compliance;

  @BeforeAll
  static void seedThirtyOutputs() throws Exception {
    audit = RunningAuditService.start("output_search_it");
    compliance = audit.token(Role.COMPLIANCE, null, "carl");
    for (int i = 0; i < 30; i++) {
      Decision decision =
          i % 3 == 0 ? Decision.BLOCK : i % 3 == 1 ? Decision.REVIEW : Decision.RELEASE;
      Scenario scenario =
          Scenario.of(
                  "search-" + i, i < 20 ? "acme" : "globex", decision, T0.plusSeconds(3600L * i))
              .withGroups(
                  i % 2 == 0 ? List.of("religion:muslim", "gender:female") : List.of("age:old"));
      if (i % 5 == 0 && decision != Decision.RELEASE) {
        scenario = scenario.withCategory("violence", 0.93);
      }
      if (i == 4) {
        scenario =
            scenario.withText(
                "=HYPERLINK(\"http://evil.example\",\"click\"), said the model\nnext line");
      }
      List<IncomingEvent> story = new ArrayList<>(AuditEvents.story(scenario));
      if (i == 3 || i == 7) {
        // Two requests of one of the platform's users, tagged with its id.
        story.set(
            0,
            AuditEvents.incoming(
                Topics.GENERATION_REQUESTS.name(),
                GenerationRequest.newBuilder(AuditEvents.request(scenario))
                    .setAttributes(Map.of("userId", "u-42"))
                    .build()));
      }
      audit.seed(story);
    }
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  private static List<String> ids(String query) throws Exception {
    HttpResponse<String> response = audit.get("/api/v1/outputs?limit=200&" + query, compliance);
    assertThat(response.statusCode()).as(query + ": " + response.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    json(response).path("items").forEach(item -> ids.add(item.path("requestId").asText()));
    return ids;
  }

  @Test
  void shouldFilterByEachCriterionAndCombineThem() throws Exception {
    assertThat(ids("decision=BLOCK"))
        .hasSize(10)
        .allSatisfy(id -> assertThat(number(id) % 3).isZero());
    assertThat(ids("tenant=globex"))
        .hasSize(10)
        .allSatisfy(id -> assertThat(number(id)).isGreaterThanOrEqualTo(20));
    assertThat(ids("group=age:old"))
        .hasSize(15)
        .allSatisfy(id -> assertThat(number(id) % 2).isOne());
    assertThat(ids("category=violence"))
        .containsExactlyInAnyOrder("search-0", "search-10", "search-15", "search-25");
    assertThat(ids("category=violence&minScore=0.95")).isEmpty();
    assertThat(ids("category=hate")).as("flagged, not merely scored").hasSize(16);
    assertThat(ids("from=2026-11-01T05:00:00Z&to=2026-11-01T08:00:00Z"))
        .containsExactly("search-7", "search-6", "search-5");
    assertThat(ids("decision=REVIEW&tenant=acme&group=religion:muslim"))
        .containsExactly("search-16", "search-10", "search-4");
    assertThat(ids("outcome=HELD_FOR_REVIEW")).hasSize(10);
    assertThat(ids("outcome=PENDING")).isEmpty();
    // A data subject's outputs, for an access request: by the attribute its requests carry.
    assertThat(ids("attribute=userId:u-42")).containsExactly("search-7", "search-3");
    assertThat(ids("attribute=userId:u-42&decision=REVIEW")).containsExactly("search-7");
    assertThat(ids("attribute=userId:u-43")).isEmpty();
    assertThat(ids("attribute=source:test")).hasSize(28);
    HttpResponse<String> export =
        audit.get("/api/v1/outputs/export?format=json&attribute=userId:u-42", compliance);
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.body()).contains("search-7").contains("search-3").doesNotContain("search-4");
    // As long as a submission's key and value: a data subject with a 256-character id is found.
    HttpResponse<String> longest =
        audit.get(
            "/api/v1/outputs?attribute=" + "k".repeat(128) + ":" + "v".repeat(256), compliance);
    assertThat(longest.statusCode()).isEqualTo(200);
    assertThat(json(longest).path("items")).isEmpty();
    HttpResponse<String> longer =
        audit.get(
            "/api/v1/outputs?attribute=" + "k".repeat(128) + ":" + "v".repeat(257), compliance);
    assertThat(longer.statusCode()).isEqualTo(400);
    HttpResponse<String> bad = audit.get("/api/v1/outputs?attribute=userId", compliance);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).path("error").asText()).contains("expected key:value");
  }

  @Test
  void shouldReturnTheNewestFirstAndPageThroughEverythingExactlyOnce() throws Exception {
    List<String> all = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          json(
              audit.get(
                  "/api/v1/outputs?limit=7" + (cursor == null ? "" : "&cursor=" + cursor),
                  compliance));
      page.path("items").forEach(item -> all.add(item.path("requestId").asText()));
      cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asText();
      pages++;
    } while (cursor != null);

    assertThat(pages).isEqualTo(5);
    assertThat(all).hasSize(30).doesNotHaveDuplicates();
    assertThat(all.get(0)).isEqualTo("search-29");
    assertThat(all.get(29)).isEqualTo("search-0");
  }

  @Test
  void shouldCarryEverythingAnAuditorNeedsInEachResult() throws Exception {
    JsonNode item =
        json(audit.get("/api/v1/outputs?decision=REVIEW&limit=1", compliance)).path("items").get(0);

    assertThat(item.path("requestId").asText()).isEqualTo("search-28");
    assertThat(item.path("text").asText()).startsWith("Generated text for search-28");
    assertThat(item.path("outcome").asText()).isEqualTo("HELD_FOR_REVIEW");
    assertThat(item.path("categoryScores").path("hate").asDouble()).isEqualTo(0.71);
    assertThat(item.path("reasons").get(0).path("code").asText()).isEqualTo("category.review");
    assertThat(item.path("policyVersion").asText()).isEqualTo("2026.11-test");
    assertThat(item.path("modelName").asText()).isEqualTo("builtin-kn");
  }

  @Test
  void shouldExportTheSearchAsCsvWithUntrustedTextNeutralised() throws Exception {
    HttpResponse<String> csv =
        audit.get("/api/v1/outputs/export?format=csv&tenant=acme&decision=REVIEW", compliance);

    assertThat(csv.statusCode()).isEqualTo(200);
    assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
    assertThat(csv.headers().firstValue("Content-Disposition").orElse(""))
        .startsWith("attachment; filename=");
    String[] lines = csv.body().split("\r\n(?=search-|$)");
    assertThat(lines[0]).isEqualTo(String.join(",", OutputExport.CSV_COLUMNS));
    assertThat(lines).hasSize(1 + 7);
    assertThat(csv.body())
        .contains(
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\"), said the model\nnext line\"");
  }

  @Test
  void shouldExportJsonWithTheQueryItAnswers() throws Exception {
    JsonNode export =
        json(audit.get("/api/v1/outputs/export?format=json&group=age:old", compliance));

    assertThat(export.path("query").path("group").asText()).isEqualTo("age:old");
    assertThat(export.path("count").asInt()).isEqualTo(15);
    assertThat(export.path("truncated").asBoolean()).isFalse();
    Set<String> ids = new HashSet<>();
    export.path("rows").forEach(row -> ids.add(row.path("requestId").asText()));
    assertThat(ids).hasSize(15).contains("search-1", "search-29");
  }

  @Test
  void shouldAnswerBadFiltersWithA400ThatSaysWhatToSend() throws Exception {
    HttpResponse<String> response = audit.get("/api/v1/outputs?decision=ALLOW", compliance);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).path("error").asText())
        .isEqualTo("decision 'ALLOW' is not one of [BLOCK, RELEASE, REVIEW]");
    assertThat(audit.get("/api/v1/outputs?limit=0", compliance).statusCode()).isEqualTo(400);
    assertThat(audit.get("/api/v1/outputs?limit=201", compliance).statusCode()).isEqualTo(400);
    assertThat(audit.get("/api/v1/outputs/export?format=xlsx", compliance).statusCode())
        .isEqualTo(400);
  }

  private static int number(String id) {
    return Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
  }
}
