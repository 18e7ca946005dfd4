package io.genguard.audit.http;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exports whose client stops reading (a slow reader, or one holding the connection on purpose) on
 * the whole audit service: they hold no database connection or transaction while they wait, so the
 * pool shared by token checks, every route and the ingestors stays free for other tenants; no more
 * than the export slots run at once, and no tenant holds more than all of them but one (the others
 * get 429 with Retry-After), so another tenant's export still runs.
 */
class StalledExportsITCase {
  /** The database pool of the test service: GENGUARD_AUDIT_POOL_SIZE 4 and 2 ingestors. */
  private static final int POOL_CONNECTIONS = 6;

  /** GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS by default. */
  private static final int EXPORT_SLOTS = AuditConfig.DEFAULT_MAX_CONCURRENT_EXPORTS;

  /** 200 outputs of 60 KB: 12 MB of CSV, far more than the sockets' buffers hold. */
  private static final int OUTPUTS = 200;

  /** The slots one tenant may hold: all but one. */
  private static final int TENANT_SHARE = EXPORT_SLOTS - 1;

  private static RunningAuditService audit;
  private static String acmeCompliance;
  private static String globexCompliance;
  private static String globalCompliance;
  private static String globexSubmitter;
  private static int port;

  private final List<Socket> stalled = new ArrayList<>();

  @BeforeAll
  static void seedLargeOutputs() throws Exception {
    audit = RunningAuditService.start("stalled_exports_it");
    String text = "x".repeat(60_000);
    Instant start = Instant.parse("2026-01-01T00:00:00Z");
    List<IncomingEvent> events = new ArrayList<>();
    for (int n = 0; n < OUTPUTS; n++) {
      events.addAll(
          AuditEvents.story(
              AuditEvents.Scenario.of("big-" + n, "acme", Decision.RELEASE, start.plusSeconds(n))
                  .withText(text + n)));
      if (events.size() > 200) {
        audit.seed(events);
        events.clear();
      }
    }
    audit.seed(events);
    acmeCompliance = audit.token(Role.COMPLIANCE, "acme", "carl");
    globexCompliance = audit.token(Role.COMPLIANCE, "globex", "gina");
    globalCompliance = audit.token(Role.COMPLIANCE, null, "cora");
    globexSubmitter = audit.token(Role.SUBMITTER, "globex", "sam");
    port = URI.create(audit.baseUrl()).getPort();
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @AfterEach
  void closeStalledExports() throws IOException {
    for (Socket socket : stalled) {
      socket.close();
    }
  }

  @Test
  void shouldKeepThePoolFreeForOtherTenantsAndRefuseExportsBeyondTheSlotsWhileClientsStall()
      throws Exception {
    // Half as many exports as the pool has connections from one tenant, each from a client that
    // reads nothing past the answer's head: that tenant gets its share of the slots, no more.
    List<String> heads = new ArrayList<>();
    for (int i = 0; i < POOL_CONNECTIONS / 2; i++) {
      stalled.add(stalledExport(acmeCompliance));
    }
    for (Socket socket : stalled) {
      heads.add(head(socket));
    }
    assertThat(heads.stream().filter(head -> head.startsWith("HTTP/1.1 200")))
        .as(heads.toString())
        .hasSize(TENANT_SHARE);
    // Another tenant's export is answered meanwhile (until the forty-first session acme's stalled
    // exports held every slot, and it was refused).
    HttpResponse<String> globex = audit.get("/api/v1/outputs/export?format=json", globexCompliance);
    assertThat(globex.statusCode()).as(globex.body()).isEqualTo(200);
    HttpResponse<String> acmeAgain =
        audit.get("/api/v1/outputs/export?format=json", acmeCompliance);
    assertThat(acmeAgain.statusCode()).isEqualTo(429);
    assertThat(json(acmeAgain).path("error").asText())
        .contains("Tenant 'acme' already run")
        .contains("as many as one tenant may");

    // The rest from a global token (a tenant of its own here): the slots fill, no more run.
    List<Socket> global = new ArrayList<>();
    for (int i = 0; i < POOL_CONNECTIONS - POOL_CONNECTIONS / 2; i++) {
      global.add(stalledExport(globalCompliance));
    }
    stalled.addAll(global);
    for (Socket socket : global) {
      heads.add(head(socket));
    }
    assertThat(heads.stream().filter(head -> head.startsWith("HTTP/1.1 200")))
        .as(heads.toString())
        .hasSize(EXPORT_SLOTS);
    assertThat(heads.stream().filter(head -> head.startsWith("HTTP/1.1 429")))
        .as(heads.toString())
        .hasSize(POOL_CONNECTIONS - EXPORT_SLOTS)
        .allSatisfy(head -> assertThat(head.toLowerCase()).contains("retry-after: "));
    // The exports that run wait on their clients with no transaction open: each page of rows is
    // read in a short query, and the connection is back in the pool before the rows are written.
    // (Until the thirty-seventh session each held one, idle in its transaction, until the last row
    // was sent.) No session stays idle in a transaction for a second, for three seconds on end.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                audit.count(
                        "select count(*) from pg_stat_activity where datname = current_database()"
                            + " and state like 'idle in transaction%'"
                            + " and state_change < now() - interval '1 second'")
                    == 0);
    // Another tenant's call (a token check and a route) is answered at once, not after the pool's
    // 30 s connection timeout; the bound is loose on purpose.
    long started = System.nanoTime();
    HttpResponse<String> me =
        audit.send(audit.request("/api/v1/me", globexSubmitter).timeout(Duration.ofSeconds(40)));
    assertThat(me.statusCode()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    assertThat(json(me).path("tenantId").asText()).isEqualTo("globex");
    HttpResponse<String> another =
        audit.get("/api/v1/outputs/export?format=json", globexCompliance);
    assertThat(another.statusCode()).isEqualTo(429);
    assertThat(another.headers().firstValue("Retry-After")).isPresent();
    assertThat(json(another).path("error").asText())
        .contains("exports are running")
        .contains("GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS");

    // A client that goes away gives its slot back.
    for (Socket socket : stalled) {
      socket.close();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        audit
                            .get(
                                "/api/v1/outputs/export?format=csv&from=2026-01-01T00:03:00Z",
                                acmeCompliance)
                            .statusCode())
                    .isEqualTo(200));
  }

  /** Sends an export request on a socket with a tiny receive buffer and returns it unread. */
  private static Socket stalledExport(String token) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(1024);
    socket.setSoTimeout(30_000);
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    OutputStream out = socket.getOutputStream();
    out.write(
        ("GET /api/v1/outputs/export?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer "
                + token
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return socket;
  }

  /** The answer's status line and headers, read byte by byte (nothing of the body). */
  private static String head(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int last = 0; // the last four bytes read
    while (head.size() < 8192 && last != 0x0d0a0d0a) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
      last = (last << 8) | b;
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }
}
