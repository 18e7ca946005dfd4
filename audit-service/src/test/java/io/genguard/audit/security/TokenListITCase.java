package io.genguard.audit.security;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.RunningAuditService;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GET /api/v1/tokens pages as the other lists do (limit, cursor, newest first), so that no call
 * reads every token row at once, on a real service.
 */
class TokenListITCase {
  private static RunningAuditService audit;
  private static String admin;
  private static String acmeAdmin;

  @BeforeAll
  static void issueTokens() throws Exception {
    audit = RunningAuditService.start("token_list_it");
    admin = audit.token(Role.ADMIN, null, "ada");
    acmeAdmin = audit.token(Role.ADMIN, "acme", "alma");
    for (int i = 0; i < 5; i++) {
      audit.token(Role.SUBMITTER, "acme", "acme-" + i);
      audit.token(Role.REVIEWER, "globex", "globex-" + i);
    }
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldPageThroughEveryTokenExactlyOnceNewestFirst() throws Exception {
    List<String> paged = new ArrayList<>();
    List<String> created = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page = page(admin, "?limit=3" + (cursor == null ? "" : "&cursor=" + encode(cursor)));
      assertThat(page.path("items").size()).isBetween(1, 3);
      for (JsonNode token : page.path("items")) {
        paged.add(token.path("tokenId").asText());
        created.add(token.path("createdAt").asText());
        assertThat(token.has("token")).as("never the secret").isFalse();
      }
      cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asText();
      pages++;
    } while (cursor != null && pages < 10);

    assertThat(paged).hasSize(12).doesNotHaveDuplicates();
    assertThat(pages).isEqualTo(4);
    assertThat(created)
        .isSortedAccordingTo(
            (a, b) -> java.time.Instant.parse(b).compareTo(java.time.Instant.parse(a)));
    JsonNode all = page(admin, "");
    assertThat(all.path("items").size()).isEqualTo(12);
    assertThat(all.path("nextCursor").isNull()).isTrue();
  }

  @Test
  void shouldPageATenantAdminThroughItsOwnTenantsTokensOnly() throws Exception {
    JsonNode first = page(acmeAdmin, "?limit=4");
    JsonNode second =
        page(acmeAdmin, "?limit=4&cursor=" + encode(first.path("nextCursor").asText()));

    List<String> tenants = new ArrayList<>();
    first.path("items").forEach(token -> tenants.add(token.path("tenantId").asText()));
    second.path("items").forEach(token -> tenants.add(token.path("tenantId").asText()));
    // The tenant admin itself and the five acme submitters.
    assertThat(tenants).hasSize(6).containsOnly("acme");
    assertThat(second.path("nextCursor").isNull()).isTrue();
  }

  @Test
  void shouldRefuseALimitOutOfRangeAndACursorItDidNotReturn() throws Exception {
    for (String query : List.of("?limit=0", "?limit=201", "?limit=ten")) {
      HttpResponse<String> refused = audit.get("/api/v1/tokens" + query, admin);
      assertThat(refused.statusCode()).as(query).isEqualTo(400);
      assertThat(json(refused).path("error").asText()).contains("from 1 to 200");
    }
    HttpResponse<String> cursor = audit.get("/api/v1/tokens?cursor=bm90LWEtY3Vyc29y", admin);
    assertThat(cursor.statusCode()).isEqualTo(400);
    assertThat(json(cursor).path("error").asText()).contains("'nextCursor' of the previous page");
  }

  private static JsonNode page(String token, String query) throws Exception {
    HttpResponse<String> response = audit.get("/api/v1/tokens" + query, token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return json(response);
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
