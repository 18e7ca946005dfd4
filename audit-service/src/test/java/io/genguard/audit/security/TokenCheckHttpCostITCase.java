package io.genguard.audit.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.http.AuditApi;
import io.genguard.audit.query.ReadTimeout;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a test, skipped unless {@code -Dgenguard.measure.token-check=true}: what the
 * token check costs an authenticated call over HTTP, one client at a time and several at once
 * ({@link TokenCheckCostITCase} measures the check alone on the pool, one call at a time). Clients
 * call {@code GET /api/v1/me}, whose route reads nothing after the token check, on three APIs over
 * the service's own pool (4 connections, the default, shared with its background tasks) against the
 * embedded PostgreSQL:
 *
 * <ul>
 *   <li>{@code service}: the running service's own API, with its token check in a transaction of
 *       its own with {@code statement_timeout} set ({@link ApiTokens#authenticate} through {@link
 *       ReadTimeout}: {@code set_config}, the query, the commit);
 *   <li>{@code timeout}: a second {@link AuditApi} over the same pool with the same check (a
 *       control: it differs from {@code plain} only in the check);
 *   <li>{@code plain}: a second {@link AuditApi} whose {@link ApiTokens} gets the pool through a
 *       data source that leaves the connection in autocommit and sends neither {@code set_config}
 *       nor the commit, so that the same {@code authenticate} code sends only its query, as the
 *       plain lookup before the timeout did. Production code is unchanged; the wrapper only exists
 *       here.
 * </ul>
 *
 * For each number of clients the three run in alternating blocks (the order rotates) so that drift
 * on a shared machine falls on all; it prints each one's p50 and p99 latency per call and calls per
 * second (calls over the time its blocks took), and the load average before and after, and asserts
 * no timing. The clients (Java's HTTP client, keep-alive) run in the same JVM on the same cores.
 * Run:
 *
 * <pre>
 * mvn -B -o verify -pl audit-service -am -Dspotless.check.skip=true -Dtest=none \
 *   -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=TokenCheckHttpCostITCase \
 *   -Dfailsafe.failIfNoSpecifiedTests=false -Dgenguard.measure.token-check=true \
 *   [-Dgenguard.measure.http-calls=6000] [-Dgenguard.measure.clients=1,4,16]
 * </pre>
 */
@EnabledIfSystemProperty(named = "genguard.measure.token-check", matches = "true")
class TokenCheckHttpCostITCase {
  private static final int BLOCKS = 10;
  private static final List<String> VARIANTS = List.of("service", "timeout", "plain");

  @Test
  void measureTheTokenCheckOverHttpWithOneAndSeveralClients() throws Exception {
    int calls = Integer.getInteger("genguard.measure.http-calls", 6_000);
    int perBlock = Math.max(1, calls / BLOCKS);
    int[] clientCounts =
        Arrays.stream(System.getProperty("genguard.measure.clients", "1,4,16").split(","))
            .mapToInt(value -> Integer.parseInt(value.trim()))
            .toArray();
    try (RunningAuditService audit = RunningAuditService.start("token_check_http_cost_it")) {
      String token = audit.token(Role.COMPLIANCE, "acme", "tess");
      String tokenId = token.split("_")[1];
      DataSource pool = audit.service().database().dataSource();
      Clock clock = Clock.systemUTC();
      ReadTimeout readTimeout = new ReadTimeout(Duration.ofSeconds(10));
      AtomicLong skipped = new AtomicLong();
      ApiTokens withTimeout = new ApiTokens(pool, clock, readTimeout);
      ApiTokens plain = new ApiTokens(withoutTimeoutTransaction(pool, skipped), clock, readTimeout);
      try (AuditApi timeoutApi = api(pool, withTimeout, clock).start("127.0.0.1", 0);
          AuditApi plainApi = api(pool, plain, clock).start("127.0.0.1", 0)) {
        List<URI> uris =
            List.of(
                URI.create(audit.baseUrl() + "/api/v1/me"),
                URI.create("http://127.0.0.1:" + timeoutApi.port() + "/api/v1/me"),
                URI.create("http://127.0.0.1:" + plainApi.port() + "/api/v1/me"));
        HttpClient http =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        // All three answer the same caller, and the plain one sent neither set_config nor a commit
        // (each variant times the check it is named after).
        for (URI uri : uris) {
          HttpResponse<String> answer = call(http, uri, token);
          assertThat(answer.body()).contains("\"tokenId\":\"" + tokenId + "\"");
        }
        assertThat(skipped.get()).isEqualTo(2);
        assertThat(plain.authenticate(token)).map(Caller::tokenId).hasValue(tokenId);
        assertThat(skipped.get()).isEqualTo(4);

        System.out.println(
            "TOKEN CHECK OVER HTTP (GET /api/v1/me; "
                + perBlock * BLOCKS
                + " calls each per number of clients, "
                + BLOCKS
                + " alternating blocks; "
                + Runtime.getRuntime().availableProcessors()
                + " processors)");
        for (int clients : clientCounts) {
          ExecutorService threads = Executors.newFixedThreadPool(clients);
          try {
            String before = loadAverage();
            // Warm-up: connections (HTTP and the pool's), the JIT, PostgreSQL's plan and cache.
            for (URI uri : uris) {
              block(threads, clients, http, uri, token, Math.max(500, perBlock), new long[0]);
            }
            long[][] latencies = new long[VARIANTS.size()][perBlock * BLOCKS];
            long[] wall = new long[VARIANTS.size()];
            for (int block = 0; block < BLOCKS; block++) {
              for (int turn = 0; turn < VARIANTS.size(); turn++) {
                int variant = (block + turn) % VARIANTS.size();
                long[] took = new long[perBlock];
                wall[variant] +=
                    block(threads, clients, http, uris.get(variant), token, perBlock, took);
                System.arraycopy(took, 0, latencies[variant], block * perBlock, perBlock);
              }
            }
            System.out.println(
                "  "
                    + clients
                    + (clients == 1 ? " client" : " clients")
                    + " (load average before "
                    + before
                    + ", after "
                    + loadAverage()
                    + "):");
            for (int variant = 0; variant < VARIANTS.size(); variant++) {
              System.out.println(
                  String.format(
                      "    %-8s %s, %.0f calls/s",
                      VARIANTS.get(variant),
                      TokenCheckCostITCase.stats(latencies[variant]),
                      latencies[variant].length / (wall[variant] / 1e9)));
            }
          } finally {
            threads.shutdownNow();
          }
        }
      }
    }
  }

  /**
   * {@code calls} calls to {@code uri} by {@code clients} threads at once, each call's time in
   * {@code took} (when it has room); returns the block's wall time in nanoseconds.
   */
  private static long block(
      ExecutorService threads,
      int clients,
      HttpClient http,
      URI uri,
      String token,
      int calls,
      long[] took)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int client = 0; client < clients; client++) {
      tasks.add(
          () -> {
            for (int n = next.getAndIncrement(); n < calls; n = next.getAndIncrement()) {
              long started = System.nanoTime();
              call(http, uri, token);
              if (n < took.length) {
                took[n] = System.nanoTime() - started;
              }
            }
            return null;
          });
    }
    long started = System.nanoTime();
    for (Future<Void> done : threads.invokeAll(tasks)) {
      done.get();
    }
    return System.nanoTime() - started;
  }

  private static HttpResponse<String> call(HttpClient http, URI uri, String token)
      throws Exception {
    HttpResponse<String> answer =
        http.send(
            HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != 200) {
      throw new IllegalStateException(
          uri + " answered " + answer.statusCode() + ": " + answer.body());
    }
    return answer;
  }

  /** An API with only what {@code GET /api/v1/me} and the token check need behind it. */
  private static AuditApi api(DataSource pool, ApiTokens tokens, Clock clock) {
    return new AuditApi(
        new AuditApi.Services(
            pool,
            null,
            null,
            tokens,
            null,
            null,
            null,
            null,
            null,
            clock,
            AuditApi.Limits.defaults(),
            null,
            null,
            null,
            null,
            null));
  }

  /**
   * The pool, with connections on which {@link ReadTimeout#read}'s transaction is not one: {@code
   * setAutoCommit}, {@code commit} and {@code rollback} do nothing (the connection stays in
   * autocommit) and its {@code set_config} statement is not sent ({@code skipped} counts them and
   * the commits). What is left is the plain lookup: the token's query in autocommit.
   */
  private static DataSource withoutTimeoutTransaction(DataSource pool, AtomicLong skipped) {
    return proxy(
        DataSource.class,
        (self, method, args) -> {
          Object result = invoke(method, pool, args);
          return method.getName().equals("getConnection")
              ? withoutTransaction((Connection) result, skipped)
              : result;
        });
  }

  private static Connection withoutTransaction(Connection connection, AtomicLong skipped) {
    return proxy(
        Connection.class,
        (self, method, args) -> {
          switch (method.getName()) {
            case "setAutoCommit":
            case "rollback":
              return null;
            case "commit":
              skipped.incrementAndGet();
              return null;
            case "prepareStatement":
              if (((String) args[0]).startsWith("select set_config('statement_timeout'")) {
                skipped.incrementAndGet();
                return proxy(
                    PreparedStatement.class,
                    (statement, call, values) ->
                        call.getReturnType() == boolean.class
                            ? Boolean.FALSE
                            : call.getReturnType() == int.class ? Integer.valueOf(0) : null);
              }
              return invoke(method, connection, args);
            default:
              return invoke(method, connection, args);
          }
        });
  }

  private static <T> T proxy(Class<T> type, java.lang.reflect.InvocationHandler handler) {
    return type.cast(
        Proxy.newProxyInstance(
            TokenCheckHttpCostITCase.class.getClassLoader(), new Class<?>[] {type}, handler));
  }

  private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (Exception e) {
      return "unknown";
    }
  }
}
