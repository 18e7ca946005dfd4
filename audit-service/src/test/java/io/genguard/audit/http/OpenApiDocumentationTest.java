package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.genguard.audit.security.Role;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The OpenAPI document and the routes the API registers must describe the same API. */
class OpenApiDocumentationTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode document() throws Exception {
    try (InputStream in = AuditApi.class.getResourceAsStream("/openapi.yaml")) {
      return YAML.readTree(in);
    }
  }

  @Test
  void shouldDocumentEveryApiRouteAndNoOther() throws Exception {
    Set<String> registered =
        ApiWithoutServices.create().routes().stream()
            .filter(route -> route.path().startsWith("/api/"))
            .map(route -> route.method() + " " + route.path())
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> documented = new TreeSet<>();
    document()
        .path("paths")
        .fields()
        .forEachRemaining(
            path ->
                path.getValue()
                    .fieldNames()
                    .forEachRemaining(
                        method ->
                            documented.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey())));

    assertThat(documented).isEqualTo(registered);
  }

  @Test
  void shouldDocumentExactlyTheRolesEachRouteAdmits() throws Exception {
    JsonNode paths = document().path("paths");
    for (AuditApi.Route route : ApiWithoutServices.create().routes()) {
      if (!route.path().startsWith("/api/")) {
        continue;
      }
      JsonNode operation = paths.path(route.path()).path(route.method().toLowerCase(Locale.ROOT));
      Set<String> documented = new HashSet<>();
      operation.path("x-genguard-roles").forEach(role -> documented.add(role.asText()));
      Set<String> admitted =
          route.roles().stream().map(Role::name).collect(Collectors.toCollection(HashSet::new));
      if (!admitted.isEmpty()) {
        admitted.add(Role.ADMIN.name());
        assertThat(operation.path("responses").has("401")).as(route + " documents 401").isTrue();
        if (admitted.size() < Role.values().length) {
          assertThat(operation.path("responses").has("403")).as(route + " documents 403").isTrue();
        }
      } else {
        assertThat(operation.path("security")).as(route + " is public").isEmpty();
      }
      assertThat(documented).as(route.method() + " " + route.path()).isEqualTo(admitted);
    }
  }

  @Test
  void shouldNotPromiseATenantReadSlotRefusalOnTheTokenList() throws Exception {
    // The forty-third session's review: the token list takes no slot of its tenant's reads (its
    // admin needs it to revoke a leaked token while they are busy), so it is never answered 429.
    JsonNode document = document();
    JsonNode responses =
        document.path("paths").path("/api/v1/tokens").path("get").path("responses");
    assertThat(responses.has("200")).as("GET /api/v1/tokens is documented").isTrue();
    assertThat(responses.has("429")).as("GET /api/v1/tokens declares 429").isFalse();
    assertThat(
            document
                .path("components")
                .path("responses")
                .path("TenantReadsBusy")
                .path("description")
                .asText())
        .doesNotContain("token lists")
        .contains("the token list and evidence bundles are not counted");
  }

  @Test
  void shouldDocumentExactlyTheQueryParametersEachRouteTakes() throws Exception {
    JsonNode document = document();
    JsonNode paths = document.path("paths");
    for (AuditApi.Route route : ApiWithoutServices.create().routes()) {
      if (!route.path().startsWith("/api/")) {
        continue;
      }
      JsonNode operation = paths.path(route.path()).path(route.method().toLowerCase(Locale.ROOT));
      Set<String> documented = new TreeSet<>();
      for (JsonNode parameter : operation.path("parameters")) {
        if (parameter.has("$ref")) {
          String name = parameter.path("$ref").asText().replace("#/components/parameters/", "");
          parameter = document.path("components").path("parameters").path(name);
        }
        if (parameter.path("in").asText().equals("query")) {
          documented.add(parameter.path("name").asText());
        }
      }

      assertThat(documented)
          .as(route.method() + " " + route.path())
          .isEqualTo(new TreeSet<>(route.parameters()));
    }
  }
}
