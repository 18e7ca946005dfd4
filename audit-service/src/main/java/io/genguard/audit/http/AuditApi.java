package io.genguard.audit.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.genguard.audit.ConflictException;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.evidence.EvidenceBundle;
import io.genguard.audit.explain.RecordedExplanations;
import io.genguard.audit.explain.RecordedVerdicts;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AnchorIndex;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AnchorWitness;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.RequestOwner;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.query.JsonRows;
import io.genguard.audit.query.OutputExport;
import io.genguard.audit.query.OutputSearch;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.RequestIds;
import io.genguard.audit.query.SearchFilter;
import io.genguard.audit.release.Retractions;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.review.ReviewQueue;
import io.genguard.audit.security.ApiTokens;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.ForbiddenException;
import io.genguard.audit.security.Role;
import io.genguard.audit.security.UnauthenticatedException;
import io.genguard.audit.submit.IdempotencyKeys;
import io.genguard.audit.submit.RequestSubmitter;
import io.genguard.audit.submit.RequestSubmitter.InvalidSubmissionException;
import io.genguard.audit.submit.RequestSubmitter.NotAcceptedException;
import io.genguard.audit.submit.RequestSubmitter.RateLimitedException;
import io.genguard.audit.submit.RequestSubmitter.Submission;
import io.genguard.audit.submit.SubmitRates;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ReviewAction;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.provenance.text.LoneSurrogates;
import io.javalin.Javalin;
import io.javalin.http.ContentTooLargeResponse;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.javalin.security.RouteRole;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit service's HTTP API (JSON under /api/v1, documented in /api/v1/openapi.yaml) and the
 * compliance UI (static files under /ui). Every /api/v1 route except health and the OpenAPI
 * document names the roles it admits; a call without a valid bearer token gets 401, a token of
 * another role 403, and a tenant-bound token sees only its tenant (another tenant's data reads as
 * 404). The token never reaches a log line: only its public id does.
 */
public final class AuditApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditApi.class);

  /** Largest request body accepted by default; a prompt is limited far below this anyway. */
  public static final long MAX_BODY_BYTES = 64 * 1024;

  /** Longest query parameter value accepted. */
  static final int MAX_PARAMETER_CHARS = 256;

  /** Query parameter {@code attribute}: a key of up to 128 characters, a colon, a 256 value. */
  static final int MAX_ATTRIBUTE_PARAMETER_CHARS = 385;

  private static final Pattern ID = Cursor.ID;
  private static final String CALLER = "genguard.caller";
  private static final Role[] ANY = Role.values();
  private static final String QUERY = "genguard.query";
  private static final Set<String> PAGE_PARAMETERS = Set.of("tenant", "limit", "cursor");

  /** A review item's query parameter: whose item, when two tenants use its request id. */
  private static final Set<String> ITEM_PARAMETERS = Set.of("tenant");

  /** What {@link SearchFilter} reads; the search adds its page, the export its format. */
  private static final List<String> FILTER_PARAMETERS =
      List.of(
          "tenant",
          "decision",
          "outcome",
          "category",
          "minScore",
          "group",
          "from",
          "to",
          "attribute",
          "eventIdConflict");

  private static final Set<String> SEARCH_PARAMETERS = withFilter("limit", "cursor");
  private static final Set<String> EXPORT_PARAMETERS = withFilter("format");

  private static Set<String> withFilter(String... more) {
    Set<String> names = new HashSet<>(FILTER_PARAMETERS);
    names.addAll(List.of(more));
    return Set.copyOf(names);
  }

  private final Javalin app;
  private final Services services;
  private final PolicyArchive policyArchive;
  private final Retractions retractions;
  private final SubmitRates submitRates;
  private final IdempotencyKeys idempotencyKeys;
  private final ObjectMapper mapper;
  private final Semaphore verification = new Semaphore(1);
  private final Semaphore evidence = new Semaphore(1);

  /**
   * Exports running now. An export holds no database connection while its client reads (see {@link
   * OutputSearch#export}), but it holds a Jetty thread, a page of rows and, for a client that stops
   * reading, both until the write times out: a bounded number at once.
   */
  private final Semaphore exports;

  /**
   * Exports running now per tenant (global callers together): each holds at most {@link
   * #exportShare()} of the slots, so that one tenant's stalled exports do not refuse every other
   * tenant's.
   */
  private final TenantSlots tenantExports;

  /**
   * Reads running now per tenant (global callers together; {@link #tenantRead}: searches, totals,
   * bias reports (opening one, not writing its body) and metrics, bias campaigns, unfinished
   * flows): at most {@link Limits#tenantMaxConcurrentQueries} each, so that one tenant's slow reads
   * (each may hold a database connection up to the read timeout) do not take the pool every
   * tenant's calls, the token checks and the background tasks share. A request's story and the
   * review queue are not counted: submitters poll a story after each submission and reviewers the
   * queue while they work (a refusal would show as a broken queue), each reads one request or one
   * page by an index, and the read timeout bounds them. An evidence bundle is not either: one is
   * made at a time in the service (so it holds at most one connection of the pool whoever asks),
   * within a per-tenant budget, and the read timeout bounds its reads; a slot of the tenant's would
   * add a second refusal and protect the pool no further.
   */
  private final TenantSlots tenantQueries;

  /**
   * Bias-report bodies being written now per tenant (global callers together), {@link
   * Limits#tenantMaxConcurrentQueries} each: a body is written while the client reads it, which a
   * slow client makes last, so it holds a slot of its own and not one of {@link #tenantQueries}
   * (each piece is read on a connection given back before it is written; opening the report reads
   * in a read slot).
   */
  private final TenantSlots tenantReportBodies;

  /**
   * Reads refused because their tenant already ran its share ({@link #tenantQueries}, or of {@link
   * #tenantReportBodies}).
   */
  private final AtomicLong queriesRefusedForTenant = new AtomicLong();

  /** Reads PostgreSQL cancelled after the read timeout ({@link QueryTimedOutException}). */
  private final AtomicLong queriesTimedOut = new AtomicLong();

  /** Exports that failed after their head went out with 200, and were cut (see {@link #export}). */
  private final AtomicLong exportsCutShort = new AtomicLong();

  /**
   * Explanations shown per tenant: each one is recorded in the chain (what was shown to whom), so a
   * tenant's reviewers looping on an explained request take their own budget, not the chain lock
   * every tenant's ingestion takes: 30 at once, then one every 2 seconds.
   */
  private final TenantBudget explanationBudget;

  /**
   * Evidence bundles per tenant: each records its issue in the chain and appends a line to the
   * anchor file (and the witness topic), both kept forever: 30 at once, then one every 10 seconds.
   */
  private final TenantBudget evidenceBudget;

  private final List<Route> routes = new java.util.ArrayList<>();

  /**
   * What the API serves.
   *
   * @param dataSource the audit database
   * @param queries request stories and totals
   * @param submitter writes requests to Kafka
   * @param tokens API tokens
   * @param reviews the review queue
   * @param search output search and export
   * @param biasReports bias reports and metrics
   * @param campaigns bias-audit campaigns
   * @param retention retention policies
   * @param clock time source
   * @param limits request size and export limits
   * @param anchors the audit service's anchor log, whose file every verification checks; null if
   *     none
   * @param explanations explains recorded verdicts with the moderation models; null where the
   *     models are not at hand (the explanation route then answers 501)
   * @param unfinished the unfinished-flow watch; null where it does not run
   * @param resender writes the records of unfinished flows to Kafka again; null with no watch
   */
  public record Services(
      DataSource dataSource,
      AuditQueries queries,
      RequestSubmitter submitter,
      ApiTokens tokens,
      ReviewQueue reviews,
      OutputSearch search,
      BiasReports biasReports,
      Campaigns campaigns,
      Retention retention,
      Clock clock,
      Limits limits,
      AnchorLog anchors,
      AnchorWitness witness,
      RecordedExplanations explanations,
      UnfinishedFlows unfinished,
      UnfinishedFlows.Resender resender) {}

  /**
   * Limits on what one call may send or get.
   *
   * @param maxBodyBytes largest request body
   * @param maxExportRows most rows one export returns
   * @param maxConcurrentExports exports that may run at once; another is answered 429
   * @param tenantMaxConcurrentQueries reads (searches, totals, bias reports and metrics, bias
   *     campaigns, unfinished flows) one tenant (global tokens together) may have running at once;
   *     another is answered 429 (a request's story, the review queue, the token list and evidence
   *     bundles are not counted)
   */
  public record Limits(
      long maxBodyBytes,
      int maxExportRows,
      int maxConcurrentExports,
      int tenantMaxConcurrentQueries) {
    public static Limits defaults() {
      return new Limits(MAX_BODY_BYTES, 100_000, 2, 2);
    }
  }

  public AuditApi(Services services) {
    this.services = services;
    this.exports = new Semaphore(services.limits().maxConcurrentExports());
    this.tenantExports = new TenantSlots(exportShare());
    this.tenantQueries = new TenantSlots(services.limits().tenantMaxConcurrentQueries());
    this.tenantReportBodies = new TenantSlots(services.limits().tenantMaxConcurrentQueries());
    this.explanationBudget = new TenantBudget(30, Duration.ofSeconds(2), services.clock());
    this.evidenceBudget = new TenantBudget(30, Duration.ofSeconds(10), services.clock());
    this.policyArchive = new PolicyArchive(services.dataSource(), services.clock());
    this.retractions = new Retractions(services.dataSource(), services.clock());
    this.idempotencyKeys = new IdempotencyKeys(services.dataSource(), services.clock());
    this.submitRates =
        services.submitter() == null
            ? null
            : new SubmitRates(
                services.dataSource(), services.clock(), services.submitter().rateLimiter());
    this.mapper =
        JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            // A body says what it means: 42 is not the prompt "42", "30" not the number 30, and
            // 30.5 not 30 tokens.
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            // {"note": "a", "note": "b"} is refused by name instead of one value being dropped.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    for (CoercionInputShape scalar :
        List.of(CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean)) {
      mapper.coercionConfigFor(LogicalType.Textual).setCoercion(scalar, CoercionAction.Fail);
    }
    this.app =
        Javalin.create(
            config -> {
              config.showJavalinBanner = false;
              config.http.maxRequestSize = services.limits().maxBodyBytes();
              // A known path called with another method: 405 naming the methods it takes.
              config.http.prefer405over404 = true;
              config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
              config.jsonMapper(new JavalinJackson(mapper, false));
              config.staticFiles.add(
                  files -> {
                    files.hostedPath = UiPaths.HOSTED_PATH;
                    files.directory = UiPaths.HOSTED_PATH;
                    files.location = Location.CLASSPATH;
                    files.headers = SecurityHeaders.UI;
                    // Any other form of a UI path is left to the router: a JSON 404, not a 500.
                    files.skipFileFunction = request -> !UiPaths.isPlain(request.getRequestURI());
                  });
              config.requestLogger.http(
                  (ctx, millis) -> {
                    if (ctx.path().startsWith("/api/")) {
                      Caller caller = ctx.attribute(CALLER);
                      // The path and the token's public id only: never a header, a query string or
                      // a body.
                      LOG.debug(
                          "{} {} -> {} in {} ms by {}",
                          ctx.method(),
                          ctx.path(),
                          ctx.statusCode(),
                          Math.round(millis),
                          caller == null ? "-" : caller.tokenId());
                    }
                  });
            });
    app.before(SecurityHeaders::apply);
    app.beforeMatched(this::authorize);
    registerRoutes();
    errors();
  }

  private void registerRoutes() {
    route(HandlerType.GET, "/", ctx -> ctx.redirect("/ui/"));
    route(HandlerType.GET, "/api/v1/health", ctx -> ctx.json(Map.of("status", "UP")));
    route(HandlerType.GET, "/api/v1/openapi.yaml", this::openApi);
    route(HandlerType.GET, "/api/v1/me", this::me, ANY);
    route(
        HandlerType.GET,
        "/api/v1/summary",
        tenantRead(ctx -> ctx.json(services.queries().summary(caller(ctx).scope(null)))),
        ANY);

    route(HandlerType.POST, "/api/v1/requests", this::submit, Role.SUBMITTER);
    route(
        HandlerType.GET,
        "/api/v1/requests/{requestId}",
        ITEM_PARAMETERS,
        this::story,
        Role.SUBMITTER,
        Role.REVIEWER,
        Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/requests/{requestId}/explanation",
        ITEM_PARAMETERS,
        this::explanation,
        Role.REVIEWER,
        Role.COMPLIANCE);

    route(
        HandlerType.GET,
        "/api/v1/requests/{requestId}/evidence",
        ITEM_PARAMETERS,
        this::evidence,
        Role.COMPLIANCE);
    route(HandlerType.POST, "/api/v1/requests/{requestId}/erase", this::erase, Role.ADMIN);
    route(HandlerType.POST, "/api/v1/requests/{requestId}/retract", this::retract, Role.ADMIN);
    route(HandlerType.POST, "/api/v1/retractions", this::retractAll, Role.ADMIN);
    route(HandlerType.POST, "/api/v1/erasures", this::eraseSubject, Role.ADMIN);

    route(
        HandlerType.GET,
        "/api/v1/outputs",
        SEARCH_PARAMETERS,
        tenantRead(this::search),
        Role.REVIEWER,
        Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/outputs/export",
        EXPORT_PARAMETERS,
        this::export,
        Role.COMPLIANCE);

    route(
        HandlerType.GET,
        "/api/v1/reviews",
        Set.of("state", "tenant", "limit", "cursor"),
        this::reviewQueue,
        Role.REVIEWER);
    // An item is a tenant's: two tenants may use one request id ("tenant" names whose item; a
    // caller of no tenant must when several hold one under the id).
    route(
        HandlerType.GET,
        "/api/v1/reviews/{requestId}",
        ITEM_PARAMETERS,
        ctx -> ctx.json(services.reviews().get(requestId(ctx), itemTenant(ctx), caller(ctx))),
        Role.REVIEWER);
    route(
        HandlerType.POST,
        "/api/v1/reviews/{requestId}/claim",
        ITEM_PARAMETERS,
        ctx -> {
          noBody(ctx, "it claims the item named in the path");
          ctx.json(services.reviews().claim(requestId(ctx), itemTenant(ctx), caller(ctx)));
        },
        Role.REVIEWER);
    route(
        HandlerType.POST,
        "/api/v1/reviews/{requestId}/unclaim",
        ITEM_PARAMETERS,
        ctx -> {
          noBody(ctx, "it unclaims the item named in the path");
          ctx.json(services.reviews().unclaim(requestId(ctx), itemTenant(ctx), caller(ctx)));
        },
        Role.REVIEWER);
    route(
        HandlerType.POST,
        "/api/v1/reviews/{requestId}/approve",
        ITEM_PARAMETERS,
        ctx -> decide(ctx, ReviewAction.APPROVE),
        Role.REVIEWER);
    route(
        HandlerType.POST,
        "/api/v1/reviews/{requestId}/reject",
        ITEM_PARAMETERS,
        ctx -> decide(ctx, ReviewAction.REJECT),
        Role.REVIEWER);

    route(
        HandlerType.GET,
        "/api/v1/bias/reports",
        Set.of("tenant", "campaignId", "limit", "cursor"),
        tenantRead(this::biasReports),
        Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/bias/reports/{reportId}",
        Set.of("format"),
        this::biasReport,
        Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/bias/campaigns",
        tenantRead(
            ctx -> {
              // No filter: a tenant token sees its tenant's campaigns, a global one all of them.
              ctx.json(Map.of("items", services.campaigns().list(caller(ctx).scope(null))));
            }),
        Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/bias/campaigns/{campaignId}",
        tenantRead(ctx -> ctx.json(services.campaigns().get(id(ctx, "campaignId"), caller(ctx)))),
        Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/bias/metrics",
        Set.of("scope", "campaignId", "model", "from", "to"),
        tenantRead(this::biasMetrics),
        Role.COMPLIANCE);

    route(
        HandlerType.GET,
        "/api/v1/audit/verify",
        Set.of("anchorSeq", "anchorHash", "fromSeq", "fromHash"),
        this::verify,
        Role.COMPLIANCE);
    route(HandlerType.GET, "/api/v1/audit/head", this::head, Role.COMPLIANCE);
    route(HandlerType.GET, "/api/v1/audit/anchors", this::anchors, Role.COMPLIANCE);
    route(HandlerType.GET, "/api/v1/audit/anchors/keys", this::anchorKeys, Role.COMPLIANCE);
    route(
        HandlerType.GET, "/api/v1/audit/actions", PAGE_PARAMETERS, this::actions, Role.COMPLIANCE);
    route(
        HandlerType.GET,
        "/api/v1/audit/unfinished",
        Set.of("tenant", "kind", "state", "limit", "cursor"),
        tenantRead(this::unfinished),
        Role.COMPLIANCE);
    route(
        HandlerType.POST,
        "/api/v1/audit/unfinished/{requestId}/dismiss",
        this::dismissUnfinished,
        Role.ADMIN);
    route(
        HandlerType.POST,
        "/api/v1/audit/unfinished/dismiss",
        this::dismissAllUnfinished,
        Role.ADMIN);
    route(
        HandlerType.POST, "/api/v1/audit/unfinished/resend", this::resendAllUnfinished, Role.ADMIN);
    route(
        HandlerType.POST,
        "/api/v1/audit/unfinished/{requestId}/resend",
        this::resendUnfinished,
        Role.ADMIN);

    route(
        HandlerType.GET,
        "/api/v1/tokens",
        Set.of("limit", "cursor"),
        // Not in the tenant's read slots: its admin needs the list to revoke a leaked token
        // while that tenant's tokens keep its slots busy (the read timeout bounds it).
        this::tokens,
        Role.ADMIN);
    route(HandlerType.POST, "/api/v1/tokens", this::createToken, Role.ADMIN);
    route(
        HandlerType.DELETE,
        "/api/v1/tokens/{tokenId}",
        ctx -> {
          services.tokens().revoke(id(ctx, "tokenId"), caller(ctx));
          ctx.status(HttpStatus.NO_CONTENT);
        },
        Role.ADMIN);

    route(
        HandlerType.GET, "/api/v1/retention", this::retentionPolicies, Role.ADMIN, Role.COMPLIANCE);
    route(HandlerType.PUT, "/api/v1/retention/{tenantId}", this::setRetention, Role.ADMIN);
    route(
        HandlerType.DELETE,
        "/api/v1/retention/{tenantId}",
        ctx -> {
          services.retention().remove(id(ctx, "tenantId"), caller(ctx));
          ctx.status(HttpStatus.NO_CONTENT);
        },
        Role.ADMIN);
    route(HandlerType.POST, "/api/v1/retention/run", this::runRetention, Role.ADMIN);

    route(HandlerType.GET, "/api/v1/rates", this::rates, Role.ADMIN);
    route(
        HandlerType.GET,
        "/api/v1/rates/{tenantId}",
        ctx -> ctx.json(submitRates(ctx, "read one").state(id(ctx, "tenantId"))),
        Role.ADMIN);
    route(HandlerType.PUT, "/api/v1/rates/{tenantId}", this::setRate, Role.ADMIN);
    route(
        HandlerType.DELETE,
        "/api/v1/rates/{tenantId}",
        ctx -> {
          submitRates(ctx, "remove a tenant's submission rate")
              .remove(id(ctx, "tenantId"), caller(ctx));
          ctx.status(HttpStatus.NO_CONTENT);
        },
        Role.ADMIN);

    route(HandlerType.GET, "/api/v1/policies", Set.of("limit"), this::policies, Role.COMPLIANCE);
    route(HandlerType.POST, "/api/v1/policies", this::recordPolicy, Role.ADMIN);
    route(HandlerType.POST, "/api/v1/policies/what-if", this::whatIf, Role.COMPLIANCE, Role.ADMIN);
    // Before /{sha256}: the first route that matches a path serves it.
    route(
        HandlerType.GET,
        "/api/v1/policies/in-use",
        Set.of("limit"),
        this::policiesInUse,
        Role.COMPLIANCE);
    route(HandlerType.GET, "/api/v1/policies/{sha256}", this::policy, Role.COMPLIANCE);
  }

  /**
   * A route as registered: method, path, the roles it admits (none: public) and the query
   * parameters it takes (any other is refused with 400).
   */
  public record Route(String method, String path, Set<Role> roles, Set<String> parameters) {}

  private void route(HandlerType method, String path, Handler handler, Role... roles) {
    route(method, path, Set.of(), handler, roles);
  }

  private void route(
      HandlerType method, String path, Set<String> parameters, Handler handler, Role... roles) {
    routes.add(
        new Route(
            method.name(),
            path,
            roles.length == 0 ? Set.of() : Set.copyOf(List.of(roles)),
            Set.copyOf(parameters)));
    app.addHttpHandler(
        method,
        path,
        ctx -> {
          // Checked before the handler reads anything, so that no call acts on a request it
          // half understood (a note given as ?note= to approve would be lost).
          ctx.attribute(QUERY, QueryParameters.parse(ctx.queryString(), parameters));
          handler.handle(ctx);
        },
        roles);
  }

  /** Every route with its roles (the OpenAPI document is checked against this list). */
  public List<Route> routes() {
    return List.copyOf(routes);
  }

  private void errors() {
    app.exception(
        UnauthenticatedException.class,
        (e, ctx) -> {
          ctx.header("WWW-Authenticate", "Bearer realm=\"genguard\"");
          error(ctx, HttpStatus.UNAUTHORIZED, e.getMessage());
        });
    app.exception(
        ForbiddenException.class, (e, ctx) -> error(ctx, HttpStatus.FORBIDDEN, e.getMessage()));
    app.exception(
        InvalidInputException.class,
        (e, ctx) -> error(ctx, HttpStatus.BAD_REQUEST, e.getMessage()));
    app.exception(
        InvalidSubmissionException.class,
        (e, ctx) -> error(ctx, HttpStatus.BAD_REQUEST, e.getMessage()));
    app.exception(
        NotAcceptedException.class,
        (e, ctx) -> {
          LOG.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage());
          ctx.header("Retry-After", "5");
          error(
              ctx,
              HttpStatus.SERVICE_UNAVAILABLE,
              "Kafka did not acknowledge the request in time; the broker may still write it:"
                  + " send it again with the same Idempotency-Key to have it submitted once"
                  + " (without a key, a retry may submit it twice)");
        });
    app.exception(
        UnfinishedFlows.PartlySentException.class,
        (e, ctx) -> {
          LOG.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage());
          ctx.header("Retry-After", "5");
          error(ctx, HttpStatus.SERVICE_UNAVAILABLE, e.getMessage());
        });
    // A retention run that failed in some scopes applied the others (and recorded the run as its
    // retention.run action): the answer names the failed scopes, what was done and the action. Why
    // each scope failed stays in the log: the database's words may quote SQL values.
    app.exception(
        Retention.PartlyFailedException.class,
        (e, ctx) -> {
          LOG.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage());
          Map<String, Object> answer = new LinkedHashMap<>();
          answer.put("status", HttpStatus.INTERNAL_SERVER_ERROR.getCode());
          answer.put("error", e.summary() + "; the audit service log says why each failed");
          answer.put("failedScopes", e.failedScopes());
          answer.put("applied", e.run().batches());
          answer.put("biasReportsPruned", e.run().biasReports());
          // The retention.run action that recorded the run, as a successful run's answer names.
          answer.put("actionId", e.actionId());
          ctx.status(HttpStatus.INTERNAL_SERVER_ERROR).json(answer);
        });
    // A retention run applied whose retention.run action could not be recorded (Retention logged
    // what it did and why): the answer says what was done, with no action to name.
    app.exception(
        Retention.NotRecordedException.class,
        (e, ctx) -> {
          Map<String, Object> answer = new LinkedHashMap<>();
          answer.put("status", HttpStatus.INTERNAL_SERVER_ERROR.getCode());
          answer.put("error", e.getMessage() + "; the audit service log says why");
          answer.put("failedScopes", e.failedScopes());
          answer.put("applied", e.run().batches());
          answer.put("biasReportsPruned", e.run().biasReports());
          answer.put("actionId", null);
          ctx.status(HttpStatus.INTERNAL_SERVER_ERROR).json(answer);
        });
    app.exception(
        CheckUnavailableException.class,
        (e, ctx) -> {
          // The cause stays in the log: its text may quote SQL values.
          LOG.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage(), e.getCause());
          ctx.header("Retry-After", "5");
          error(ctx, HttpStatus.SERVICE_UNAVAILABLE, e.answer());
        });
    app.exception(
        RateLimitedException.class,
        (e, ctx) -> {
          ctx.header("Retry-After", Long.toString(e.retryAfterSeconds()));
          error(ctx, HttpStatus.TOO_MANY_REQUESTS, e.getMessage());
        });
    app.exception(
        QueryTimedOutException.class,
        (e, ctx) -> {
          queriesTimedOut.incrementAndGet();
          Caller caller = ctx.attribute(CALLER);
          // Method, path and the token's public id: never the query string, which may name a
          // data subject.
          LOG.warn(
              "{} {} by {}: {}",
              ctx.method(),
              ctx.path(),
              caller == null ? "-" : caller.tokenId(),
              e.getMessage());
          if (e.read() != null) {
            // A check the call needs (its token, its campaign), not a read the caller may narrow:
            // the same call succeeds once the database is less busy.
            ctx.header("Retry-After", "5");
          }
          error(
              ctx,
              HttpStatus.SERVICE_UNAVAILABLE,
              (e.read() == null ? "The query" : e.read())
                  + " took longer than the "
                  + e.limit().toMillis()
                  + " ms this service lets one read take (GENGUARD_AUDIT_QUERY_TIMEOUT_MS) and was"
                  + " stopped: "
                  + (e.advice() == null
                      ? "narrow it (a tenant, a shorter from/to window, a decision or outcome)"
                          + " or try again when the database is less busy"
                      : e.advice()));
        });
    app.exception(
        NotFoundException.class, (e, ctx) -> error(ctx, HttpStatus.NOT_FOUND, e.getMessage()));
    app.exception(
        ConflictException.class,
        (e, ctx) -> {
          if (e.tenants().isEmpty()) {
            error(ctx, HttpStatus.CONFLICT, e.getMessage());
          } else {
            // The tenants to choose among, as a list: a client offers them (the compliance UI).
            ctx.status(HttpStatus.CONFLICT)
                .json(
                    Map.of(
                        "status",
                        HttpStatus.CONFLICT.getCode(),
                        "error",
                        e.getMessage(),
                        "tenants",
                        e.tenants()));
          }
        });
    // Javalin's own refusals (413 for a body over the limit, 404 for an unknown route, 405): the
    // same JSON error shape as every other answer, so that a client needs one way to read errors.
    app.exception(
        HttpResponseException.class,
        (e, ctx) -> {
          HttpStatus status = HttpStatus.forStatus(e.getStatus());
          String message =
              status == HttpStatus.CONTENT_TOO_LARGE
                  ? "The body is over "
                      + services.limits().maxBodyBytes()
                      + " bytes, the limit (GENGUARD_AUDIT_MAX_BODY_BYTES)"
                  : e.getMessage();
          if (status == HttpStatus.METHOD_NOT_ALLOWED) {
            // Javalin's details hold one entry: the path's methods, comma-separated.
            String allowed = String.join(", ", e.getDetails().values());
            ctx.header("Allow", allowed);
            message = ctx.method() + " is not allowed on " + ctx.path() + "; use " + allowed;
          }
          error(ctx, status, message);
        });
    app.exception(
        com.fasterxml.jackson.core.JacksonException.class,
        (e, ctx) -> {
          String message = "Body is not valid JSON for this endpoint: " + e.getOriginalMessage();
          if (e instanceof UnrecognizedPropertyException unknown) {
            // Jackson's own text names a Java class and not the members the body may hold.
            String name = unknown.getPropertyName();
            message =
                "Unknown member '"
                    + (name.length() > 64 ? name.substring(0, 64) + "..." : name)
                    + "' in the body; it takes "
                    + new TreeSet<>(
                        unknown.getKnownPropertyIds().stream().map(String::valueOf).toList())
                    + ", see /api/v1/openapi.yaml";
          } else if (e instanceof MismatchedInputException mismatch
              && mismatch.getTargetType() != null
              && !mismatch.getPath().isEmpty()) {
            // Jackson's own text names Java types ("Cannot coerce ... to `java.lang.Integer`").
            message =
                "The member at "
                    + pointer(mismatch.getPath())
                    + " must be "
                    + plainType(mismatch.getTargetType())
                    + ", see /api/v1/openapi.yaml";
          } else if (e instanceof JsonMappingException mapping) {
            // The rest of Jackson's binding errors (a body that is not an object, which readBody
            // refuses first; a value it cannot construct or a type it cannot bind): its own text
            // names the Java record the body binds to.
            message =
                mapping.getPath().isEmpty()
                    ? "The body must be a JSON object with the members this call takes,"
                        + " see /api/v1/openapi.yaml"
                    : "The member at "
                        + pointer(mapping.getPath())
                        + " does not hold what this call takes, see /api/v1/openapi.yaml";
          }
          error(ctx, HttpStatus.BAD_REQUEST, message);
        });
    app.exception(
        Exception.class,
        (e, ctx) -> {
          // Method and path only; the exception's own text may quote SQL values, so it stays in the
          // log.
          LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
          error(ctx, HttpStatus.INTERNAL_SERVER_ERROR, "Internal error; see the audit service log");
        });
  }

  /** A JSON pointer to where a body failed to bind ("/attributes/team", "/validDays"). */
  private static String pointer(List<JsonMappingException.Reference> path) {
    StringBuilder pointer = new StringBuilder();
    for (var reference : path) {
      String name =
          reference.getFieldName() != null
              ? reference.getFieldName()
              : String.valueOf(reference.getIndex());
      pointer.append('/').append(name.length() > 64 ? name.substring(0, 64) + "..." : name);
    }
    return pointer.toString();
  }

  /** What a member must hold, in the words of the OpenAPI document rather than Java's. */
  private static String plainType(Class<?> type) {
    if (type == Integer.class
        || type == int.class
        || type == Long.class
        || type == long.class
        || type == Short.class
        || type == short.class) {
      return "a whole number";
    }
    if (type == Double.class
        || type == double.class
        || type == Float.class
        || type == float.class) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "a string";
    }
    if (Map.class.isAssignableFrom(type)) {
      return "an object";
    }
    if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    if (type.isEnum()) {
      return "one of " + List.of(type.getEnumConstants());
    }
    return "a JSON object";
  }

  private static void error(Context ctx, HttpStatus status, String message) {
    ctx.status(status).json(Map.of("status", status.getCode(), "error", message));
  }

  // ---- security ----------------------------------------------------------------------------

  private void authorize(Context ctx) throws SQLException {
    Set<RouteRole> admitted = ctx.routeRoles();
    if (admitted.isEmpty()) {
      return; // public: health, OpenAPI, UI
    }
    String header = ctx.header("Authorization");
    if (header == null || header.isBlank()) {
      throw new UnauthenticatedException(
          "No API token: send the header 'Authorization: Bearer <token>'."
              + " An admin creates tokens with ./genguard audit token create --role ROLE [--tenant TENANT] --name NAME");
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new UnauthenticatedException(
          "The Authorization header must use the Bearer scheme:"
              + " 'Authorization: Bearer <token>'");
    }
    // Fails closed, but 503, not 401, when the check times out or the database is unavailable:
    // the token was not found invalid, and a client told 401 would drop a valid one. No caller is
    // set and the route does not run.
    String token = header.substring(7).trim();
    Optional<Caller> found =
        runCheck(
            "the API token",
            "the token was neither accepted nor rejected and nothing was done; send the call again"
                + " with the same token",
            () -> services.tokens().authenticate(token));
    Caller caller =
        found.orElseThrow(
            () ->
                new UnauthenticatedException(
                    "The API token is not valid (unknown, revoked or expired); ask an admin for a new one"));
    if (!admitted.contains(caller.role()) && caller.role() != Role.ADMIN) {
      Set<String> names = new TreeSet<>();
      admitted.forEach(role -> names.add(role.toString()));
      names.add(Role.ADMIN.name());
      throw new ForbiddenException(
          "Role "
              + caller.role()
              + " may not call "
              + ctx.method()
              + " "
              + ctx.endpointHandlerPath()
              + "; it needs one of "
              + names);
    }
    ctx.attribute(CALLER, caller);
  }

  private static Caller caller(Context ctx) {
    Caller caller = ctx.attribute(CALLER);
    if (caller == null) {
      throw new IllegalStateException("Route " + ctx.path() + " has no roles but needs a caller");
    }
    return caller;
  }

  // ---- handlers ----------------------------------------------------------------------------

  private void openApi(Context ctx) throws IOException {
    try (InputStream in = AuditApi.class.getResourceAsStream("/openapi.yaml")) {
      if (in == null) {
        throw new IllegalStateException("openapi.yaml is missing from the classpath");
      }
      ctx.contentType("application/yaml")
          .result(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private void me(Context ctx) {
    Caller caller = caller(ctx);
    Map<String, Object> me = new LinkedHashMap<>();
    me.put("tokenId", caller.tokenId());
    me.put("name", caller.name());
    me.put("role", caller.role());
    me.put("tenantId", caller.tenantId());
    ctx.json(me);
  }

  private void submit(Context ctx) throws Exception {
    Caller caller = caller(ctx);
    String key =
        IdempotencyKeys.key(Collections.list(ctx.req().getHeaders(IdempotencyKeys.HEADER)));
    String body = body(ctx);
    if (body.isBlank()) {
      throw new InvalidSubmissionException("Body must be a JSON object with at least a prompt");
    }
    Submission asked = readBody(body, Submission.class);
    String tenant = asked.tenantId();
    if (caller.tenantId() != null) {
      if (tenant != null && !tenant.equals(caller.tenantId())) {
        throw new ForbiddenException(
            "This token submits for tenant '"
                + caller.tenantId()
                + "', not '"
                + tenant
                + "'; leave tenantId out or use a token of that tenant");
      }
      tenant = caller.tenantId();
    }
    Submission submission =
        new Submission(
            asked.prompt(),
            tenant,
            asked.backend(),
            asked.model(),
            asked.maxTokens(),
            asked.temperature(),
            asked.topK(),
            asked.topP(),
            asked.seed(),
            asked.attributes());
    GenerationRequest request = services.submitter().validate(submission);
    if (key == null) {
      checkCampaign(request);
      services.submitter().admit(request);
      recordSubmission(caller, request, null);
      submitted(ctx, request);
      return;
    }
    // The key is written before anything is sent: see IdempotencyKeys.
    IdempotencyKeys.Reservation reservation =
        idempotencyKeys.reserve(
            request.getTenantId(), key, IdempotencyKeys.fingerprint(submission), request);
    switch (reservation.outcome()) {
      case ACCEPTED -> {
        ctx.header(IdempotencyKeys.REPLAYED_HEADER, "true");
        submitted(ctx, reservation.applyTo(request));
      }
      case IN_PROGRESS -> {
        ctx.header(
            "Retry-After",
            Long.toString(reservation.retryAfterSeconds(services.clock().instant())));
        error(
            ctx,
            HttpStatus.CONFLICT,
            "Request "
                + reservation.requestId()
                + " of "
                + IdempotencyKeys.HEADER
                + " '"
                + key
                + "' is being submitted by another call right now; send this one again after"
                + " Retry-After to get its answer (nothing was submitted by this call)");
      }
      case OTHER_BODY ->
          error(
              ctx,
              HttpStatus.UNPROCESSABLE_CONTENT,
              IdempotencyKeys.HEADER
                  + " '"
                  + key
                  + "' of tenant '"
                  + request.getTenantId()
                  + "' was used for request "
                  + reservation.requestId()
                  + " with another body within the last "
                  + IdempotencyKeys.KEPT.toHours()
                  + " hours; send a new key for a new request, or the same body to get that"
                  + " request's answer (nothing was submitted)");
      case NEW, RESEND -> {
        GenerationRequest keyed = request;
        boolean checked = false;
        try {
          keyed = reservation.applyTo(request);
          checkCampaign(keyed);
          checked = true;
          services.submitter().admit(keyed);
        } catch (RuntimeException | Error e) {
          // Refused or failed before sending (the campaign check, timed out or not, the rate), or
          // Kafka's answer is unknown: either way a retry with the key may send it, and sends this
          // same request.
          boolean nothingSent = !checked || e instanceof RateLimitedException;
          try {
            idempotencyKeys.release(reservation, nothingSent);
          } catch (SQLException | RuntimeException releaseFailed) {
            // The hold runs out by itself; the client's answer is the first failure.
            e.addSuppressed(releaseFailed);
          }
          throw e;
        }
        recordSubmission(caller, keyed, reservation);
        submitted(ctx, keyed);
      }
    }
  }

  /**
   * Refuses a request that names a bias campaign it may not count toward ({@link
   * Campaigns#checkCampaignAttributes}); a check that times out, or fails on the database, is
   * answered 503 with nothing sent.
   */
  private void checkCampaign(GenerationRequest request) {
    runCheck(
        "the request's bias campaign",
        "nothing was submitted; send the request again (with the same Idempotency-Key, if it"
            + " had one)",
        () -> {
          services
              .campaigns()
              .checkCampaignAttributes(request.getTenantId(), request.getAttributes());
          return null;
        });
  }

  /** A check a call needs before it does anything: a read of the database that may fail. */
  @FunctionalInterface
  private interface Check<T> {
    T run() throws SQLException;
  }

  /**
   * Runs a check a call needs before it does anything ({@code what}: "the API token", "the
   * request's bias campaign"): one that times out is {@link QueryTimedOutException} told as
   * "Checking {@code what}", one that fails on the database {@link CheckUnavailableException} ("The
   * {@code what} could not be checked"), both answered 503 with Retry-After. {@code advice} says
   * what was done and what to send again; each answer adds when.
   */
  private static <T> T runCheck(String what, String advice, Check<T> check) {
    try {
      return check.run();
    } catch (QueryTimedOutException e) {
      throw e.as("Checking " + what, advice + " when the database is less busy");
    } catch (SQLException e) {
      // No connection, or it failed: the service is unavailable, not what was checked invalid.
      throw new CheckUnavailableException(
          Character.toUpperCase(what.charAt(0)) + what.substring(1) + " could not be checked",
          advice + " after Retry-After",
          e);
    }
  }

  /**
   * A check a call needs before it does anything (its token, a submission's campaign) failed on the
   * database for another reason than the read timeout (the pool had no connection to give, the
   * connection failed, the database is restarting): answered 503 with Retry-After, as the service
   * is unavailable, never 401 or 500, and nothing was done.
   */
  private static final class CheckUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String advice;

    CheckUnavailableException(String check, String advice, SQLException cause) {
      super(check, cause);
      this.advice = advice;
    }

    /** What the client is told: the check, that the database is unavailable, what to do. */
    String answer() {
      return getMessage()
          + ": the database is unavailable (no connection to it, or the connection failed); "
          + advice;
    }
  }

  /**
   * Records a submission Kafka acknowledged in the hash chain, and marks its idempotency key (if
   * any) as answered in the same transaction.
   */
  private void recordSubmission(
      Caller caller, GenerationRequest request, IdempotencyKeys.Reservation reservation)
      throws SQLException {
    Transactions.inTransaction(
        services.dataSource(),
        connection -> {
          if (reservation != null) {
            idempotencyKeys.accepted(connection, reservation);
          }
          ActionLog.Action action =
              ActionLog.Action.of(
                  "request.submit",
                  request.getTenantId(),
                  request.getRequestId(),
                  request.getRequestId());
          action
              .details()
              .put("eventId", request.getEventId())
              .put("promptChars", request.getPrompt().length());
          if (reservation != null && reservation.outcome() == IdempotencyKeys.Outcome.RESEND) {
            action.details().put("sentAgain", true);
          }
          return ActionLog.record(connection, caller, action, services.clock().instant());
        });
  }

  private static void submitted(Context ctx, GenerationRequest request) {
    ctx.status(HttpStatus.ACCEPTED)
        .json(
            Map.of(
                "requestId", request.getRequestId(),
                "tenantId", request.getTenantId(),
                "status", "SUBMITTED",
                "links", Map.of("self", "/api/v1/requests/" + request.getRequestId())));
  }

  private void story(Context ctx) throws SQLException {
    String requestId = requestId(ctx);
    ObjectNode story =
        services
            .queries()
            // A tenant's token reads its own tenant's story; one of no tenant names the tenant
            // where two use the request id (409 naming them otherwise), as the review endpoints do.
            .story(requestId, caller(ctx).scope(tenantParameter(ctx)))
            .orElseThrow(
                () ->
                    new NotFoundException(
                        "No request with id '"
                            + requestId
                            + "' that this token may see (it may still be on its way: retry in a moment)"));
    if (caller(ctx).role() == Role.SUBMITTER) {
      forSubmitter(story);
    }
    if (services.anchors() != null) {
      long anchoredThrough = services.anchors().anchoredSeq();
      story.put("anchoredThroughSeq", anchoredThrough);
      for (JsonNode record : story.path("auditRecords")) {
        ((ObjectNode) record).put("anchored", record.path("seq").asLong() <= anchoredThrough);
      }
    } else {
      story.putNull("anchoredThroughSeq");
    }
    ctx.json(story);
  }

  /**
   * Leaves out of a story what a submitter may not read. Explanations are for reviewers and
   * compliance (the explanation route refuses a submitter): their evidence words would show a
   * submitter how to get past the moderator. Who reviewed, claimed or otherwise acted on the
   * request for the operator (a reviewer, an admin), and a reviewer's note, are for the audit log:
   * the submitter sees what was done and when, not by whom or why.
   */
  private static void forSubmitter(ObjectNode story) {
    for (JsonNode action : story.withArray("actions")) {
      String name = action.path("action").asText();
      if (name.equals("requests.explain") || name.startsWith("review.")) {
        ((ObjectNode) action).remove("details");
      }
      if (!Role.SUBMITTER.name().equals(action.path("callerRole").asText())) {
        ((ObjectNode) action).remove(List.of("callerName", "callerTokenId"));
      }
    }
    for (JsonNode review : story.withArray("reviews")) {
      ((ObjectNode) review).remove(List.of("reviewer", "note"));
    }
    if (story.get("reviewItem") instanceof ObjectNode item) {
      item.remove(List.of("claimedBy", "claimedTokenId", "claimExpiresAt", "note", "decidedBy"));
    }
    for (JsonNode retraction : story.withArray("retractions")) {
      ((ObjectNode) retraction).remove("retractedBy");
    }
    for (JsonNode removal : story.withArray("removals")) {
      if (removal.get("removal") instanceof ObjectNode payload) {
        payload.remove("by"); // the erasing operator's name and token id
      }
    }
  }

  /**
   * The words the newest verdict of a request rests on, from its recorded output, judged again by
   * the moderation models at hand (one explanation at a time: each costs up to 64 scorings).
   */
  private void explanation(Context ctx) throws SQLException {
    String requestId = requestId(ctx);
    if (services.explanations() == null) {
      error(
          ctx,
          HttpStatus.NOT_IMPLEMENTED,
          "This audit service runs without the moderation models, so it cannot explain verdicts;"
              + " set GENGUARD_AUDIT_EXPLAIN_KEY_DIR (with the moderation job's keys) to turn"
              + " explanations on, or run ./genguard audit replay --request "
              + requestId
              + " --explain where the models are");
      return;
    }
    // One tenant's verdict: "tenant" names whose where two use the request id (as the story). It is
    // checked (400 malformed, 403 another tenant's) before a slot of the budget is taken, as the
    // evidence route does: before the fifty-first session such a call spent the caller's budget.
    String tenant = tenantParameter(ctx);
    caller(ctx).scope(tenant);
    if (tooOften(ctx, explanationBudget, "explanations")) {
      return;
    }
    Map<String, Object> body;
    try {
      body = services.explanations().explain(requestId, tenant, caller(ctx));
    } catch (NotFoundException | ConflictException e) {
      explanationBudget.giveBack(caller(ctx)); // nothing recorded
      throw e;
    }
    if (body == null) {
      explanationBudget.giveBack(caller(ctx)); // the slot was busy: nothing recorded
      ctx.header("Retry-After", "1");
      error(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          "Another explanation is being computed; try again in a second");
      return;
    }
    ctx.json(body);
  }

  /**
   * A request's evidence bundle ({@link EvidenceBundle}): its audit records with the digests and
   * the signed anchor line that prove them to someone without the database. The call is recorded in
   * the chain first, so the bundle holds its own issue, and the head is anchored before the bundle
   * is made, which shows the records up to that head: every one proven. A record of the request
   * appended meanwhile (its erasure notice read back from audit.erasures, a retraction) is in the
   * next bundle, not shown here as not anchored. One at a time; its reads (the request's owner,
   * then the bundle's records and digests) under the read timeout, each statement cancelled after
   * it (503, counted with the other reads; the issue, recorded before the bundle is made, stays
   * recorded).
   */
  private void evidence(Context ctx) throws SQLException, IOException {
    String requestId = requestId(ctx);
    Caller caller = caller(ctx);
    if (services.anchors() == null) {
      error(
          ctx,
          HttpStatus.NOT_IMPLEMENTED,
          "This audit service keeps no anchor file (GENGUARD_AUDIT_ANCHOR_FILE), so nothing"
              + " outside the database vouches for its records and a bundle would prove nothing");
      return;
    }
    // Whose records: a tenant's token its own tenant's; one of no tenant names the tenant where two
    // use the request id (409 naming them otherwise), as the story does.
    String tenant = caller.scope(tenantParameter(ctx));
    RequestOwner subject =
        EvidenceBundle.find(
                services.dataSource(), requestId, tenant, services.queries().readTimeout())
            .orElseThrow(
                () ->
                    new NotFoundException(
                        "No request with id '"
                            + requestId
                            + "' that this token may see (it may still be on its way: retry in a"
                            + " moment)"));
    if (tooOften(ctx, evidenceBudget, "evidence bundles")) {
      return;
    }
    if (!evidence.tryAcquire()) {
      evidenceBudget.giveBack(caller); // the slot was busy: nothing recorded
      ctx.header("Retry-After", "1");
      error(ctx, HttpStatus.TOO_MANY_REQUESTS, "Another evidence bundle is being made; try again");
      return;
    }
    try {
      Instant now = services.clock().instant();
      ActionLog.Action action =
          ActionLog.Action.of("requests.evidence", subject.tenantId(), requestId, null);
      action.details().put("format", EvidenceBundle.FORMAT);
      Transactions.inTransaction(
          services.dataSource(), connection -> ActionLog.record(connection, caller, action, now));
      AnchorLog.Published anchored = services.anchors().publish(services.dataSource());
      if (anchored.outcome() == AnchorLog.Outcome.CONFLICT) {
        error(
            ctx,
            HttpStatus.CONFLICT,
            "The audit chain no longer holds the head last anchored ("
                + anchored.detail()
                + "), so its records cannot be proven; run audit verify");
        return;
      }
      ObjectNode bundle;
      try {
        bundle =
            EvidenceBundle.build(
                    services.dataSource(),
                    new EvidenceBundle.Request(
                        requestId,
                        caller.scope(null),
                        tenant,
                        services.anchors().file(),
                        // Policy files hold every tenant's rules: global callers only.
                        caller.isGlobal() ? policyArchive : null,
                        caller.name() + " (" + caller.role() + ", token " + caller.tokenId() + ")",
                        EvidenceBundle.MAX_LINKS,
                        anchored.anchor() == null ? null : anchored.anchor().seq()),
                    now,
                    services.queries().readTimeout())
                .orElseThrow(() -> new NotFoundException("No request with id '" + requestId + "'"));
      } catch (EvidenceBundle.EvidenceException e) {
        error(ctx, HttpStatus.CONFLICT, e.getMessage());
        return;
      } catch (IllegalArgumentException | IOException e) {
        // The service's own file, edited or damaged since it was written: say so, prove nothing.
        LOG.error("Cannot make an evidence bundle from the anchor file: {}", e.getMessage());
        error(
            ctx,
            HttpStatus.INTERNAL_SERVER_ERROR,
            "The audit service's anchor file cannot be read, so nothing can be proven from it: "
                + e.getMessage());
        return;
      }
      ctx.header(
          "Content-Disposition",
          "attachment; filename=\"evidence-"
              + requestId.replaceAll("[^A-Za-z0-9._-]", "_")
              + ".json\"");
      ctx.json(bundle);
    } finally {
      evidence.release();
    }
  }

  private void search(Context ctx) throws SQLException {
    SearchFilter filter = filter(ctx);
    int limit = limit(ctx, 50, OutputSearch.MAX_PAGE);
    OutputSearch.Page page =
        services.search().search(filter, Cursor.decode("cursor", parameter(ctx, "cursor")), limit);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("items", page.items());
    result.put("nextCursor", page.nextCursor());
    ctx.json(result);
  }

  /**
   * The search as CSV or JSON, at most {@link Limits#maxExportRows} rows, written as they are read
   * a page at a time (so that a slow client holds no database connection); at most {@link
   * Limits#maxConcurrentExports} at once, another is answered 429 with Retry-After.
   */
  private void export(Context ctx) throws Exception {
    SearchFilter filter = filter(ctx);
    String format = parameter(ctx, "format");
    format = format == null ? "csv" : format.toLowerCase(java.util.Locale.ROOT);
    if (!format.equals("csv") && !format.equals("json")) {
      throw new InvalidInputException("format '" + format + "' is not one of csv, json");
    }
    Caller caller = caller(ctx);
    if (!tenantExports.tryTake(caller)) {
      ctx.header("Retry-After", "5");
      error(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          (caller.isGlobal()
                  ? "Global tokens already run "
                  : "Tenant '" + caller.tenantId() + "' already runs ")
              + exportShare()
              + " of the "
              + services.limits().maxConcurrentExports()
              + " exports this service runs at once (GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS), as"
              + " many as one tenant may; try again when one has finished");
      return;
    }
    if (!exports.tryAcquire()) {
      tenantExports.giveBack(caller);
      ctx.header("Retry-After", "5");
      error(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          services.limits().maxConcurrentExports()
              + " exports are running, as many as this service runs at once"
              + " (GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS); try again when one has finished");
      return;
    }
    try {
      int max = services.limits().maxExportRows();
      ObjectNode query = mapper.valueToTree(filter);
      // The export is recorded before any row leaves: who exported what.
      String exportFormat = format;
      Transactions.inTransaction(
          services.dataSource(),
          connection -> {
            ActionLog.Action action =
                ActionLog.Action.of("outputs.export", filter.tenant(), null, null);
            action.details().put("format", exportFormat).put("maxRows", max).set("filter", query);
            return ActionLog.record(connection, caller, action, services.clock().instant());
          });
      String stamp = Instant.now(services.clock()).toString().replace(":", "").replace("-", "");
      ctx.header(
          "Content-Disposition",
          "attachment; filename=\"genguard-outputs-" + stamp + "." + format + "\"");
      ctx.header("X-GenGuard-Export-Limit", Integer.toString(max));
      ctx.contentType(format.equals("csv") ? "text/csv; charset=utf-8" : "application/json");
      OutputExport.Writing writing =
          format.equals("csv")
              ? OutputExport.csv(ctx.outputStream())
              : OutputExport.json(ctx.outputStream(), mapper, query);
      try {
        long rows = services.search().export(filter, max, writing);
        writing.finish(rows, rows >= max);
      } catch (Exception e) {
        // A page after the first failed (its query timed out, the database went away) once rows
        // had gone out with 200: the 503 cannot be sent, and a CSV ended normally would look whole.
        // (An IOException is the client gone away: not counted.)
        if (ctx.res().isCommitted() && !(e instanceof IOException)) {
          exportsCutShort.incrementAndGet();
          if (e instanceof QueryTimedOutException) {
            queriesTimedOut.incrementAndGet();
          }
        }
        cutOrThrow(ctx, e);
      }
    } finally {
      exports.release();
      tenantExports.giveBack(caller);
    }
  }

  /**
   * A read a tenant's caller may start at will (a search, the totals, a page of bias reports or one
   * report (opening it, not writing its body), the bias metrics, the bias campaigns or one
   * campaign, the unfinished flows), run in one of the caller's tenant's {@link #tenantQueries}
   * slots; when the tenant already runs its share, answered 429 with Retry-After instead.
   */
  private Handler tenantRead(Handler read) {
    return ctx -> tenantRead(ctx, read);
  }

  private void tenantRead(Context ctx, Handler read) throws Exception {
    inTenantSlot(
        ctx,
        tenantQueries,
        "run",
        "reads at once (searches, totals, bias reports and metrics, bias campaigns, unfinished"
            + " flows)",
        read);
  }

  /**
   * Runs {@code work} in one of the caller's tenant's {@code slots}; when the tenant already holds
   * its share, answers 429 with Retry-After instead ("Tenant 'acme' already {@code verb}s 2 {@code
   * what}"), counted with the refused reads.
   */
  private void inTenantSlot(Context ctx, TenantSlots slots, String verb, String what, Handler work)
      throws Exception {
    Caller caller = caller(ctx);
    if (!slots.tryTake(caller)) {
      queriesRefusedForTenant.incrementAndGet();
      ctx.header("Retry-After", "2");
      error(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          (caller.isGlobal()
                  ? "Global tokens already " + verb + " "
                  : "Tenant '" + caller.tenantId() + "' already " + verb + "s ")
              + slots.share()
              + " "
              + what
              + ", as many as one tenant may"
              + " (GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES); try again when one has finished");
      return;
    }
    try {
      work.handle(ctx);
    } finally {
      slots.giveBack(caller);
    }
  }

  /** Reads refused (429) because their tenant already ran its share ({@link #tenantRead}). */
  public long queriesRefusedForTenant() {
    return queriesRefusedForTenant.get();
  }

  /**
   * Reads PostgreSQL cancelled after the read timeout: searches, stories, totals, export pages, the
   * review queue, bias reports and metrics, bias campaigns, token lists, unfinished flows, evidence
   * bundles.
   */
  public long queriesTimedOut() {
    return queriesTimedOut.get();
  }

  /** Exports that failed after their first rows went out with 200; their connection was cut. */
  public long exportsCutShort() {
    return exportsCutShort.get();
  }

  /**
   * The export slots one tenant (or the global tokens together) may hold at once: all but one,
   * where there is more than one, so that no tenant holds them all.
   */
  private int exportShare() {
    return Math.max(1, services.limits().maxConcurrentExports() - 1);
  }

  /**
   * Takes a call from the caller's tenant's {@code budget}; when it is spent, answers 429 with
   * Retry-After and returns true.
   */
  private boolean tooOften(Context ctx, TenantBudget budget, String what) {
    Caller caller = caller(ctx);
    long wait = budget.take(caller);
    if (wait == 0) {
      return false;
    }
    ctx.header("Retry-After", Long.toString(wait));
    error(
        ctx,
        HttpStatus.TOO_MANY_REQUESTS,
        (caller.isGlobal() ? "Global tokens have" : "Tenant '" + caller.tenantId() + "' has")
            + " asked for "
            + budget.burst()
            + " "
            + what
            + " in a short while, and each is recorded in the audit chain; this service gives each"
            + " tenant one more every "
            + budget.every().toSeconds()
            + " s: try again in "
            + wait
            + " s");
    return true;
  }

  private SearchFilter filter(Context ctx) {
    SearchFilter filter =
        SearchFilter.parse(
            parameter(ctx, "tenant"),
            parameter(ctx, "decision"),
            parameter(ctx, "outcome"),
            parameter(ctx, "category"),
            parameter(ctx, "minScore"),
            parameter(ctx, "group"),
            parameter(ctx, "from"),
            parameter(ctx, "to"),
            parameter(ctx, "attribute"),
            parameter(ctx, "eventIdConflict"));
    return filter.withTenant(caller(ctx).scope(filter.tenant()));
  }

  private void reviewQueue(Context ctx) throws SQLException {
    String state = parameter(ctx, "state");
    state = state == null ? "PENDING" : state.toUpperCase(java.util.Locale.ROOT);
    String tenant = caller(ctx).scope(tenantParameter(ctx));
    ReviewQueue.Page page =
        services
            .reviews()
            .list(
                state,
                tenant,
                Cursor.decodeWithTenant("cursor", parameter(ctx, "cursor")),
                limit(ctx, 50, ReviewQueue.MAX_PAGE));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("items", page.items());
    result.put("nextCursor", page.nextCursor());
    ctx.json(result);
  }

  /**
   * Body of approve and reject: an optional note, and the item's verdictId as the client read it
   * ('' when it had none; required to approve an output ever held for want of a verdict).
   */
  record DecisionBody(String note, String verdictId) {}

  /** The tenant a review item call names ("tenant"), checked; null when it names none. */
  private static String itemTenant(Context ctx) {
    return InvalidInputException.tenantOrNull("tenant", parameter(ctx, "tenant"));
  }

  private void decide(Context ctx, ReviewAction action) throws Exception {
    String requestId = requestId(ctx);
    String body = body(ctx);
    DecisionBody decision = body.isBlank() ? null : readBody(body, DecisionBody.class);
    ReviewQueue.Decided decided =
        services
            .reviews()
            .decide(
                requestId,
                itemTenant(ctx),
                action,
                decision == null ? null : decision.note(),
                decision == null ? null : decision.verdictId(),
                caller(ctx));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("reviewId", decided.reviewId());
    result.put("requestId", decided.requestId());
    result.put("outputId", decided.outputId());
    result.put("action", decided.action().name());
    result.put("reviewer", decided.reviewer());
    result.put("decidedAt", decided.decidedAt());
    result.put("state", "DECIDED");
    // Asked, not done: a verdict that reaches the gate first (an output held because none came in
    // time) decides instead.
    result.put(
        "next",
        "The release gate is asked to "
            + (action == ReviewAction.APPROVE ? "release" : "quarantine")
            + " the output; a verdict that reached it first decides instead"
            + (action == ReviewAction.APPROVE
                ? " (a BLOCK quarantines it; a REVIEW keeps it held, and the item is PENDING again"
                    + " to be decided under that verdict)"
                : " (a release is then taken down, and the item reads RETRACTED)")
            + ". GET /api/v1/requests/"
            + requestId
            + " shows what it did");
    ctx.status(HttpStatus.ACCEPTED).json(result);
  }

  private void biasReports(Context ctx) throws SQLException {
    String campaign = parameter(ctx, "campaignId");
    if (campaign != null && !ID.matcher(campaign).matches()) {
      throw new InvalidInputException("campaignId '" + campaign + "' is not a valid id");
    }
    BiasReports.Page page =
        services
            .biasReports()
            .list(
                caller(ctx).scope(tenantParameter(ctx)),
                campaign,
                Cursor.decode("cursor", parameter(ctx, "cursor")),
                limit(ctx, 20, BiasReports.MAX_PAGE));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("items", page.items());
    result.put("nextCursor", page.nextCursor());
    ctx.json(result);
  }

  /**
   * A bias report: without a format its metadata and JSON body, otherwise one stored body. Either
   * is written as it is read from the database, a piece at a time ({@link BiasReports.Body}), so
   * that a report of 64 MiB does not sit whole in the heap while a client reads it.
   */
  private void biasReport(Context ctx) throws Exception {
    Caller caller = caller(ctx);
    // Opening it reads the database, in a read slot; its body is written after, as the client
    // reads it, in a download slot only (a piece at a time, each on a connection given back before
    // it is written), so that a slow client does not hold a slot its tenant's searches need.
    inTenantSlot(
        ctx,
        tenantReportBodies,
        "download",
        "bias reports at once",
        downloading -> {
          AtomicReference<AnswerWriting> body = new AtomicReference<>();
          tenantRead(downloading, opening -> body.set(openBiasReport(opening, caller)));
          if (body.get() != null) {
            stream(downloading, body.get());
          }
        });
  }

  /** Reads what {@link #biasReport} answers but its body, and sets the answer's headers. */
  private AnswerWriting openBiasReport(Context ctx, Caller caller) throws Exception {
    String reportId = id(ctx, "reportId");
    String format = parameter(ctx, "format");
    if (format == null) {
      ObjectNode metadata = services.biasReports().metadata(reportId, caller);
      BiasReports.Body body =
          services.biasReports().open(reportId, BiasReports.Format.JSON, caller);
      // The metadata's object, then the stored body (canonical JSON) as its report.
      String fields = mapper.writeValueAsString(metadata);
      ctx.contentType("application/json");
      return out -> {
        out.write(fields, 0, fields.length() - 1);
        out.write(",\"report\":");
        body.writeTo(out);
        out.write('}');
      };
    }
    BiasReports.Format parsed = BiasReports.Format.parse(format);
    BiasReports.Body body = services.biasReports().open(reportId, parsed, caller);
    switch (parsed) {
      case JSON -> ctx.contentType("application/json");
      case CSV ->
          ctx.contentType("text/csv; charset=utf-8")
              .header(
                  "Content-Disposition",
                  "attachment; filename=\"bias-report-" + reportId + ".csv\"");
      case HTML -> {
        // Stored HTML is shown with scripts, plugins and same-origin access disabled.
        ctx.header("Content-Security-Policy", SecurityHeaders.REPORT_CSP);
        ctx.header("X-Frame-Options", "SAMEORIGIN");
        ctx.contentType("text/html; charset=utf-8");
      }
      default -> throw new IllegalStateException("Unknown format " + parsed);
    }
    return body::writeTo;
  }

  /** Writes part of an answer. */
  @FunctionalInterface
  private interface AnswerWriting {
    void write(java.io.Writer out) throws Exception;
  }

  /**
   * Writes an answer as UTF-8 while it is produced. A failure before anything was sent answers with
   * the error as usual; one after the first bytes went out cuts the connection, so that the client
   * never takes a cut answer for a whole one (a chunked answer ended normally would look whole).
   */
  private void stream(Context ctx, AnswerWriting writing) throws Exception {
    java.io.Writer out = new java.io.OutputStreamWriter(ctx.outputStream(), StandardCharsets.UTF_8);
    try {
      writing.write(out);
      out.flush();
    } catch (Exception e) {
      // A piece read after the head went out timed out: cut below, not answered 503, so counted
      // here (before, the 503's handler counts it).
      if (e instanceof QueryTimedOutException && ctx.res().isCommitted()) {
        queriesTimedOut.incrementAndGet();
      }
      cutOrThrow(ctx, e);
    }
  }

  /**
   * What a streamed answer does when it fails: before anything was sent, rethrows (the error is
   * answered as usual, nothing of the cut answer with it); once the head went out, cuts the
   * connection (no terminating chunk), so that the client sees a broken transfer.
   */
  private static void cutOrThrow(Context ctx, Exception e) throws Exception {
    if (!ctx.res().isCommitted()) {
      ctx.res().resetBuffer();
      throw e;
    }
    if (e instanceof IOException) {
      // The client went away (or stopped reading until the write timed out).
      LOG.debug("{} {}: the client stopped reading: {}", ctx.method(), ctx.path(), e.toString());
    } else {
      LOG.warn(
          "{} {} failed after its answer began; cutting the connection",
          ctx.method(),
          ctx.path(),
          e);
    }
    org.eclipse.jetty.server.Request.getBaseRequest(ctx.req()).getHttpChannel().abort(e);
  }

  private void biasMetrics(Context ctx) throws SQLException {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "Bias metrics aggregate all tenants; a token bound to tenant '"
              + caller(ctx).tenantId()
              + "' may read its tenant's bias reports instead");
    }
    String campaign = parameter(ctx, "campaignId");
    String model = parameter(ctx, "model");
    for (String[] value :
        List.of(new String[] {"campaignId", campaign}, new String[] {"model", model})) {
      if (value[1] != null && !ID.matcher(value[1]).matches()) {
        throw new InvalidInputException(
            value[0] + " '" + value[1] + "' is not valid: letters, digits, . _ : -");
      }
    }
    String scope = BiasReports.scope(parameter(ctx, "scope"));
    Instant from = instant(ctx, "from");
    Instant to = instant(ctx, "to");
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("groups", services.biasReports().groupMetrics(scope, campaign, model, from, to));
    if (scope.equals("CAMPAIGN")) {
      // Verdicts of another tenant than the campaign's that named its id: not in its figures.
      result.put(
          "otherTenants", services.biasReports().otherTenantFigures(campaign, model, from, to));
    }
    ctx.json(result);
  }

  private void verify(Context ctx) throws SQLException {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "The audit chain spans all tenants; verification needs a global compliance"
              + " or admin token");
    }
    ChainVerifier.Anchor anchor = head(ctx, "anchorSeq", "anchorHash");
    // A head an earlier verification reported: only the records from it on are walked.
    ChainVerifier.Anchor from = head(ctx, "fromSeq", "fromHash");
    if (!verification.tryAcquire()) {
      error(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          "A verification is already running; try again when it finished");
      return;
    }
    try {
      // Heads to check the chain against: the one given, the file's, the witness's. Each source
      // is kept compactly (AnchorIndex), as a year of anchors is half a million lines.
      List<AnchorIndex> heads = new ArrayList<>();
      if (anchor != null) {
        heads.add(AnchorIndex.of(anchor));
      }
      AnchorLog.SignatureCheck signatures = null;
      // No file yet (nothing anchored): a witness that holds lines says they were removed.
      AnchorIndex file = new AnchorIndex();
      if (services.anchors() != null && Files.exists(services.anchors().file())) {
        try {
          AnchorLog.Indexed read =
              AnchorLog.index(
                  services.anchors().file(), services.anchors().verificationKeys().orElse(null));
          file = read.lines();
          signatures = read.signatures();
        } catch (IllegalArgumentException | IOException e) {
          // The service's own file, edited or damaged since it was written: say so, verify nothing.
          LOG.error("Cannot verify against the anchor file: {}", e.getMessage());
          error(
              ctx,
              HttpStatus.INTERNAL_SERVER_ERROR,
              "The audit service's anchor file cannot be read, so the chain cannot be checked"
                  + " against it: "
                  + e.getMessage());
          return;
        }
      }
      heads.add(file);
      AnchorWitness.WitnessCheck witnessed = null;
      if (services.witness() != null) {
        AnchorWitness.WitnessLines lines;
        try {
          lines = services.witness().readAll();
        } catch (RuntimeException e) {
          LOG.warn("Cannot read the anchor witness: {}", e.toString());
          error(
              ctx,
              HttpStatus.SERVICE_UNAVAILABLE,
              "The anchor witness topic "
                  + services.witness().topic()
                  + " cannot be read, so the anchor file cannot be compared with it: "
                  + e.getMessage());
          return;
        }
        witnessed = AnchorWitness.check(services.witness().topic(), file, lines);
        heads.add(lines.lines());
      }
      List<ChainVerifier.Anchor> anchors = AnchorIndex.merged(heads);
      ChainVerifier.Verification result =
          from == null
              ? ChainVerifier.verify(services.dataSource(), anchors)
              : ChainVerifier.verifyFrom(services.dataSource(), from, anchors);
      Map<String, Object> body = new LinkedHashMap<>();
      boolean signed = signatures == null || signatures.valid();
      boolean agrees = witnessed == null || witnessed.valid();
      List<String> anchorProblems = new ArrayList<>();
      if (!signed) {
        anchorProblems.add(
            "the anchor file's signatures do not hold: "
                + String.join("; ", signatures.problems()));
      }
      if (!agrees) {
        anchorProblems.add(
            "the anchor file does not agree with its witness: "
                + String.join("; ", witnessed.problems()));
      }
      body.put("valid", result.valid() && signed && agrees);
      body.put(
          "summary",
          anchorProblems.isEmpty()
              ? result.summary()
              : result.summary() + "; " + String.join("; ", anchorProblems));
      body.put("records", result.records());
      body.put("tombstones", result.tombstones());
      body.put("neverAuditedRanges", result.neverAuditedRanges());
      body.put("neverAuditedRecords", result.neverAuditedRecords());
      body.put("headSeq", result.headSeq());
      body.put("headHash", result.headHash());
      body.put("fromSeq", result.fromSeq());
      body.put(
          "anchorsChecked",
          from == null
              ? anchors.size()
              : anchors.stream().filter(one -> one.seq() >= from.seq()).count());
      body.put("anchorsMatched", result.anchorsMatched());
      body.put("firstBreak", result.firstBreak());
      if (signatures != null) {
        body.put("anchorSignatures", signatures);
      }
      if (witnessed != null) {
        body.put("anchorWitness", witnessed);
      }
      body.put("millis", result.millis());
      Instant verifiedAt = services.clock().instant();
      body.put("verifiedAt", verifiedAt);
      // Recorded after the walk (so it is not part of what was walked): who verified, from where,
      // what the chain held and what was found. A compliance team shows its checks from the chain.
      ActionLog.Action action = ActionLog.Action.of("audit.verify", null, null, null);
      action
          .details()
          .put("valid", (Boolean) body.get("valid"))
          .put("fromSeq", result.fromSeq())
          .put("records", result.records())
          .put("headSeq", result.headSeq())
          .put("headHash", result.headHash())
          .put("anchorsMatched", result.anchorsMatched())
          .put("neverAuditedRecords", result.neverAuditedRecords())
          .put("problem", result.firstBreak() == null ? null : result.firstBreak().problem().name())
          .put("breakSeq", result.firstBreak() == null ? null : result.firstBreak().seq());
      Caller caller = caller(ctx);
      Transactions.inTransaction(
          services.dataSource(),
          connection -> ActionLog.record(connection, caller, action, verifiedAt));
      ctx.json(body);
    } finally {
      verification.release();
    }
  }

  /** A head (seq and hash) from two query parameters, or null when neither is given. */
  private static ChainVerifier.Anchor head(Context ctx, String seqName, String hashName) {
    try {
      return ChainVerifier.Anchor.given(
          seqName, parameter(ctx, seqName), hashName, parameter(ctx, hashName));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(e.getMessage());
    }
  }

  private void head(Context ctx) throws SQLException {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "The audit chain spans all tenants; its head needs a global compliance or admin token");
    }
    try (Connection connection = services.dataSource().getConnection()) {
      ChainAppender.Tail tail = ChainAppender.tail(connection);
      ctx.json(
          Map.of(
              "seq",
              tail.seq(),
              "hash",
              io.genguard.audit.persistence.AuditChain.hex(tail.hash())));
    }
  }

  /**
   * The public halves of the keys that sign the anchor file's lines ({@code id:base64} lines, what
   * {@code ./genguard audit verify --anchor-keys} reads): fetch them once and keep them, since a
   * later copy from the same service proves only what the service says.
   */
  private void anchorKeys(Context ctx) {
    Optional<VerificationKeyRing> keys =
        services.anchors() == null ? Optional.empty() : services.anchors().verificationKeys();
    if (keys.isEmpty()) {
      throw new NotFoundException(
          "This audit service does not sign its anchors (set GENGUARD_AUDIT_ANCHOR_FILE and"
              + " GENGUARD_AUDIT_ANCHOR_SIGNING_KEY_FILE)");
    }
    ctx.contentType("text/plain; charset=utf-8");
    ctx.result(keys.get().toConfigEntries());
  }

  /**
   * The service's anchor file as it is, to keep a copy elsewhere and check the chain against it
   * later ({@code ./genguard audit verify --anchors FILE}).
   */
  private void anchors(Context ctx) throws IOException {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "The anchor file covers the chain of all tenants; it needs a global compliance or"
              + " admin token");
    }
    if (services.anchors() == null) {
      throw new NotFoundException(
          "This audit service keeps no anchor file (set GENGUARD_AUDIT_ANCHOR_FILE)");
    }
    ctx.contentType("application/x-ndjson");
    ctx.header("Content-Disposition", "attachment; filename=\"audit-anchors.jsonl\"");
    Path file = services.anchors().file();
    // No head anchored yet: an empty file. A line being appended meanwhile may come out cut;
    // readers leave out an incomplete last line. Streamed: a year of anchors is about 100 MB.
    if (Files.exists(file)) {
      ctx.result(Files.newInputStream(file));
    } else {
      ctx.result(new byte[0]);
    }
  }

  private void actions(Context ctx) throws SQLException {
    String tenant = caller(ctx).scope(tenantParameter(ctx));
    int limit = limit(ctx, 50, 200);
    Cursor after = Cursor.decode("cursor", parameter(ctx, "cursor"));
    StringBuilder sql =
        new StringBuilder(
            "select action_id, action, caller_name, caller_role, caller_token_id,"
                + " caller_tenant, tenant_id, request_id, target, details, acted_at from api_action where true");
    if (tenant != null) {
      sql.append(" and tenant_id = ?");
    }
    if (after != null) {
      sql.append(" and (acted_at, action_id) < (?, ?)");
    }
    sql.append(" order by acted_at desc, action_id desc limit ?");
    try (Connection connection = services.dataSource().getConnection();
        PreparedStatement statement = connection.prepareStatement(sql.toString())) {
      int parameter = 1;
      if (tenant != null) {
        statement.setString(parameter++, tenant);
      }
      if (after != null) {
        statement.setObject(parameter++, after.timeColumn());
        statement.setString(parameter++, after.id());
      }
      statement.setInt(parameter, limit + 1);
      try (ResultSet rs = statement.executeQuery()) {
        var items = JsonRows.all(rs);
        String next = null;
        if (items.size() > limit) {
          items.remove(limit);
          JsonNode last = items.get(limit - 1);
          next =
              new Cursor(Instant.parse(last.get("actedAt").asText()), last.get("actionId").asText())
                  .encode();
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("items", items);
        result.put("nextCursor", next);
        ctx.json(result);
      }
    }
  }

  /** The tokens the caller may see, a page at a time, newest first. */
  private void tokens(Context ctx) throws SQLException {
    ApiTokens.Page page =
        services
            .tokens()
            .list(
                caller(ctx),
                Cursor.decode("cursor", parameter(ctx, "cursor")),
                limit(ctx, 50, ApiTokens.MAX_PAGE));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("items", page.items());
    result.put("nextCursor", page.nextCursor());
    ctx.json(result);
  }

  /** Body of POST /api/v1/tokens. */
  record TokenRequest(String role, String tenantId, String name, Integer validDays) {}

  private void createToken(Context ctx) throws Exception {
    TokenRequest request = readBody(requireBody(ctx), TokenRequest.class);
    Role role;
    try {
      role = Role.parse(request.role());
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(e.getMessage());
    }
    Duration validity = null;
    if (request.validDays() != null) {
      if (request.validDays() < 1 || request.validDays() > ApiTokens.MAX_VALID_DAYS) {
        throw new InvalidInputException(
            "validDays must be between 1 and "
                + ApiTokens.MAX_VALID_DAYS
                + ", was "
                + request.validDays());
      }
      validity = Duration.ofDays(request.validDays());
    }
    ApiTokens.IssuedToken issued =
        services.tokens().create(role, request.tenantId(), request.name(), validity, caller(ctx));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("token", issued.token());
    result.put("info", issued.info());
    result.put("note", "Store the token now: it is not shown again and only its hash is kept");
    ctx.status(HttpStatus.CREATED).json(result);
  }

  private void retentionPolicies(Context ctx) throws SQLException {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("defaultDays", services.retention().defaultDays());
    result.put("policies", services.retention().policies(caller(ctx)));
    ctx.json(result);
  }

  private void runRetention(Context ctx) throws SQLException {
    noBody(
        ctx,
        "it applies every retention policy the token may see, of every tenant for a global token");
    // Recorded as a retention.run action also when some scopes failed (then answered 500 with the
    // failed scopes and what the others did, by the PartlyFailedException handler): the other
    // scopes' batches were applied.
    Retention.RecordedRun recorded = services.retention().runRecorded(caller(ctx));
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("applied", recorded.run().batches());
    answer.put("biasReportsPruned", recorded.run().biasReports());
    answer.put("actionId", recorded.actionId());
    ctx.json(answer);
  }

  /**
   * The submission rates, for a global admin: one tenant's admin may not change its own tenant's
   * rate, nor read what the others are allowed.
   */
  private SubmitRates submitRates(Context ctx, String what) {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "Submission rates are set for every tenant by the operator; to "
              + what
              + " use a global admin token");
    }
    if (submitRates == null) {
      throw new IllegalStateException("This API runs without a request submitter");
    }
    return submitRates;
  }

  private void rates(Context ctx) throws SQLException {
    ctx.json(submitRates(ctx, "read them").rates());
  }

  /** Body of PUT /api/v1/rates/{tenantId}. */
  record RateRequest(Integer perSecond, Integer burst) {}

  private void setRate(Context ctx) throws Exception {
    SubmitRates rates = submitRates(ctx, "set a tenant's submission rate");
    RateRequest request = readBody(requireBody(ctx), RateRequest.class);
    ctx.json(rates.set(id(ctx, "tenantId"), request.perSecond(), request.burst(), caller(ctx)));
  }

  private void requireGlobalForPolicies(Context ctx) {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "A policy file holds every tenant's rules; reading policies needs a global token");
    }
  }

  private void policies(Context ctx) throws SQLException {
    requireGlobalForPolicies(ctx);
    ctx.json(Map.of("items", policyArchive.list(limit(ctx, 100, 1000))));
  }

  private void policiesInUse(Context ctx) throws SQLException {
    requireGlobalForPolicies(ctx);
    ctx.json(
        Map.of(
            "items",
            policyArchive.inUse(limit(ctx, 100, 1000)),
            "unarchived",
            policyArchive.unarchived()));
  }

  private void policy(Context ctx) throws SQLException {
    requireGlobalForPolicies(ctx);
    ctx.json(policyArchive.get(ctx.pathParam("sha256")));
  }

  /** Body of POST /api/v1/policies. */
  record PolicyFileRequest(String yaml) {}

  /** Body of POST /api/v1/policies/what-if. */
  record WhatIfRequest(
      String yaml, Integer limit, String tenantId, String since, String until, Boolean spread) {}

  /**
   * What a candidate policy file would decide on the newest recorded outputs, against what was
   * decided; recorded as an action, nothing else written. Needs the moderation models, as
   * explanations do, and takes turns with them.
   */
  private void whatIf(Context ctx) throws Exception {
    requireGlobalForPolicies(ctx);
    if (services.explanations() == null) {
      error(
          ctx,
          HttpStatus.NOT_IMPLEMENTED,
          "This audit service runs without the moderation models, so it cannot judge outputs"
              + " again; set GENGUARD_AUDIT_EXPLAIN_KEY_DIR (with the moderation job's keys), or"
              + " run ./genguard audit what-if --policy FILE where the models are");
      return;
    }
    WhatIfRequest request = readBody(requireBody(ctx), WhatIfRequest.class);
    if (request.yaml() == null || request.yaml().isBlank()) {
      throw new InvalidInputException(
          "yaml is required: the candidate policy file's whole text, e.g. {\"yaml\":"
              + " \"policyId: ...\", \"limit\": 100}");
    }
    RecordedVerdicts.Selection selection =
        new RecordedVerdicts.Selection(
            List.of(),
            request.tenantId(),
            utcInstant("since", request.since()),
            utcInstant("until", request.until()),
            Boolean.TRUE.equals(request.spread()),
            request.limit() == null ? 100 : request.limit());
    Map<String, Object> body;
    try {
      body = services.explanations().whatIf(request.yaml(), selection, caller(ctx));
    } catch (UnsupportedOperationException e) {
      error(
          ctx,
          HttpStatus.NOT_IMPLEMENTED,
          e.getMessage() + "; run ./genguard audit what-if --policy FILE where the models are");
      return;
    }
    if (body == null) {
      ctx.header("Retry-After", "5");
      error(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          "An explanation or another what-if is being computed; try again in a few seconds");
      return;
    }
    ctx.json(body);
  }

  private void recordPolicy(Context ctx) throws Exception {
    if (!caller(ctx).isGlobal()) {
      throw new ForbiddenException(
          "A policy file holds every tenant's rules; recording one needs a global admin token");
    }
    PolicyFileRequest request = readBody(requireBody(ctx), PolicyFileRequest.class);
    if (request.yaml() == null || request.yaml().isBlank()) {
      throw new InvalidInputException(
          "yaml is required: the policy file's whole text, e.g. {\"yaml\": \"policyId: ...\"}");
    }
    PolicyArchive.Recorded recorded =
        policyArchive.record(request.yaml(), "the policy in the body", caller(ctx));
    ctx.status(recorded.recordedBefore() ? HttpStatus.OK : HttpStatus.CREATED).json(recorded);
  }

  /** Body of POST /api/v1/requests/{requestId}/erase. */
  record EraseRequest(String reason) {}

  private void erase(Context ctx) throws Exception {
    EraseRequest request = readBody(requireBody(ctx), EraseRequest.class);
    ctx.json(services.retention().erase(requestId(ctx), request.reason(), caller(ctx)));
  }

  /**
   * Body of POST /api/v1/requests/{requestId}/retract.
   *
   * @param tenantId whose release comes down, when two tenants released under the request id
   *     (optional)
   */
  record RetractRequest(String reason, String tenantId) {}

  /** Takes a released output down: a notice on content.retractions for whoever published it. */
  private void retract(Context ctx) throws Exception {
    RetractRequest request = readBody(requireBody(ctx), RetractRequest.class);
    ctx.status(HttpStatus.CREATED)
        .json(
            retractions.retract(
                requestId(ctx),
                InvalidInputException.tenantOrNull("tenantId", request.tenantId()),
                request.reason(),
                caller(ctx)));
  }

  /** Body of POST /api/v1/retractions. */
  record BulkRetractRequest(
      String reason,
      String tenantId,
      String decidedFrom,
      String decidedBefore,
      String policySha256,
      Boolean includeReviewed,
      List<String> requestIds,
      List<Retractions.Selected> releases,
      Boolean dryRun) {}

  /**
   * Takes down every released output of a selection (released in a window, of a tenant, under a
   * policy file), or of the requests named, each with its own action; a dry run lists them.
   */
  private void retractAll(Context ctx) throws Exception {
    BulkRetractRequest request = readBody(requireBody(ctx), BulkRetractRequest.class);
    boolean dryRun = Boolean.TRUE.equals(request.dryRun());
    if (request.requestIds() != null || request.releases() != null) {
      if (request.requestIds() != null && request.releases() != null) {
        throw new InvalidInputException(
            "name the requests either by requestIds or by releases ({requestId, tenantId}), not"
                + " both");
      }
      String field = request.requestIds() != null ? "requestIds" : "releases";
      if (request.decidedFrom() != null
          || request.decidedBefore() != null
          || request.tenantId() != null
          || request.policySha256() != null
          || request.includeReviewed() != null) {
        throw new InvalidInputException(
            field
                + " names the requests itself: leave out decidedFrom, decidedBefore, tenantId,"
                + " policySha256 and includeReviewed, which select by release instead");
      }
      ctx.json(
          request.requestIds() != null
              ? retractions.retractEach(request.requestIds(), request.reason(), dryRun, caller(ctx))
              : retractions.retractReleases(
                  request.releases(), request.reason(), dryRun, caller(ctx)));
      return;
    }
    Retractions.Bulk bulk =
        retractions.retractAll(
            new Retractions.Selection(
                InvalidInputException.tenantOrNull("tenantId", request.tenantId()),
                utcInstant("decidedFrom", request.decidedFrom()),
                utcInstant("decidedBefore", request.decidedBefore()),
                request.policySha256(),
                Boolean.TRUE.equals(request.includeReviewed())),
            request.reason(),
            dryRun,
            caller(ctx));
    ctx.json(bulk);
  }

  /**
   * Requests without an answer and outputs without a gate outcome past their deadline ({@link
   * UnfinishedFlows}), oldest first, with how many are open of each kind.
   */
  private void unfinished(Context ctx) throws SQLException {
    String state = parameter(ctx, "state");
    UnfinishedFlows flows = unfinishedFlows();
    ObjectNode answer =
        flows.list(
            caller(ctx).scope(tenantParameter(ctx)),
            UnfinishedFlows.kindOrNull(parameter(ctx, "kind")),
            state == null ? UnfinishedFlows.State.OPEN : UnfinishedFlows.State.parse(state),
            Cursor.decode("cursor", parameter(ctx, "cursor")),
            limit(ctx, 100, 1000));
    // 0: that kind is not checked.
    answer.put("answerDeadlineSeconds", flows.deadlines().answer().toSeconds());
    answer.put("gateDeadlineSeconds", flows.deadlines().gate().toSeconds());
    ctx.json(answer);
  }

  /** Body of POST /api/v1/audit/unfinished/{requestId}/dismiss. */
  record DismissRequest(String kind, String reason) {}

  private void dismissUnfinished(Context ctx) throws Exception {
    DismissRequest request = readBody(requireBody(ctx), DismissRequest.class);
    if (request.kind() == null || request.kind().isBlank()) {
      throw new InvalidInputException(
          "kind is required: NO_ANSWER or NO_GATE_OUTCOME, e.g. {\"kind\": \"NO_ANSWER\","
              + " \"reason\": \"...\"}");
    }
    String requestId = requestId(ctx);
    UnfinishedFlows.Kind kind = UnfinishedFlows.Kind.parse(request.kind());
    String actionId = unfinishedFlows().dismiss(requestId, kind, request.reason(), caller(ctx));
    ctx.json(
        Map.of(
            "requestId",
            requestId,
            "kind",
            kind.name(),
            "state",
            "DISMISSED",
            "actionId",
            actionId));
  }

  /** Body of POST /api/v1/audit/unfinished/{requestId}/resend; none: the one open flow. */
  record ResendRequest(String kind) {}

  private void resendUnfinished(Context ctx) throws Exception {
    String requestId = requestId(ctx);
    String body = body(ctx);
    String kind = body.isBlank() ? null : readBody(body, ResendRequest.class).kind();
    if (services.resender() == null) {
      throw new IllegalStateException("This audit API runs without a producer to send again");
    }
    UnfinishedFlows.Resent resent =
        unfinishedFlows()
            .resend(
                requestId,
                kind == null || kind.isBlank() ? null : UnfinishedFlows.Kind.parse(kind),
                caller(ctx),
                services.resender());
    ctx.json(
        Map.of(
            "requestId",
            requestId,
            "kind",
            resent.kind().name(),
            "eventId",
            resent.eventId(),
            "actionId",
            resent.actionId(),
            "state",
            "SENT_AGAIN"));
  }

  /** Body of POST /api/v1/audit/unfinished/dismiss. */
  record DismissAllRequest(String kind, String tenantId, String recordedBefore, String reason) {}

  private void dismissAllUnfinished(Context ctx) throws Exception {
    DismissAllRequest request = readBody(requireBody(ctx), DismissAllRequest.class);
    Instant before =
        selection(
            request.kind(),
            request.recordedBefore(),
            "is dismissed, e.g. {\"kind\": \"NO_ANSWER\", \"recordedBefore\":"
                + " \"2026-12-01T12:00:00Z\", \"tenantId\": \"acme\", \"reason\": \"...\"}");
    Caller caller = caller(ctx);
    UnfinishedFlows.Dismissed dismissed =
        unfinishedFlows()
            .dismissAll(
                UnfinishedFlows.Kind.parse(request.kind()),
                caller.scope(InvalidInputException.tenantOrNull("tenantId", request.tenantId())),
                before,
                request.reason(),
                caller);
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("dismissed", dismissed.flows());
    answer.put("actionId", dismissed.actionId());
    ctx.json(answer);
  }

  /** Body of POST /api/v1/audit/unfinished/resend. */
  record ResendAllRequest(
      String kind, String tenantId, String recordedBefore, Boolean includeResent) {}

  private void resendAllUnfinished(Context ctx) throws Exception {
    ResendAllRequest request = readBody(requireBody(ctx), ResendAllRequest.class);
    Instant before =
        selection(
            request.kind(),
            request.recordedBefore(),
            "is sent again, e.g. {\"kind\": \"NO_ANSWER\", \"recordedBefore\":"
                + " \"2026-12-01T12:00:00Z\", \"tenantId\": \"acme\"}");
    if (services.resender() == null) {
      throw new IllegalStateException("This audit API runs without a producer to send again");
    }
    Caller caller = caller(ctx);
    UnfinishedFlows.Resends resends =
        unfinishedFlows()
            .resendAll(
                UnfinishedFlows.Kind.parse(request.kind()),
                caller.scope(InvalidInputException.tenantOrNull("tenantId", request.tenantId())),
                before,
                Boolean.TRUE.equals(request.includeResent()),
                caller,
                services.resender());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("sent", resends.sent());
    answer.put("skippedContentRemoved", resends.contentRemoved());
    answer.put("skippedErased", resends.erased());
    answer.put("skippedSentBefore", resends.sentBefore());
    answer.put("skippedForgottenByGate", resends.forgottenByGate());
    answer.put("actionId", resends.actionId());
    ctx.json(answer);
  }

  /**
   * The instant of a bulk call on unfinished flows (every open flow of {@code kind} recorded before
   * it); both are required.
   */
  private static Instant selection(String kind, String recordedBefore, String example) {
    if (kind == null || kind.isBlank() || recordedBefore == null || recordedBefore.isBlank()) {
      throw new InvalidInputException(
          "kind and recordedBefore are required: every open flow of that kind recorded before that"
              + " instant "
              + example);
    }
    try {
      return Cursor.inRange("recordedBefore", Instant.parse(recordedBefore.trim()));
    } catch (DateTimeParseException e) {
      throw new InvalidInputException(
          "recordedBefore '"
              + (recordedBefore.length() > 40
                  ? recordedBefore.substring(0, 40) + "..."
                  : recordedBefore)
              + "' is not a UTC instant such as 2026-12-01T12:00:00Z");
    }
  }

  private UnfinishedFlows unfinishedFlows() {
    if (services.unfinished() == null) {
      throw new IllegalStateException("This audit API runs without the unfinished-flow watch");
    }
    return services.unfinished();
  }

  /**
   * Body of POST /api/v1/erasures: one tenant's requests whose attribute {@code key} is value, or
   * the one request {@code requestId} names (as POST /api/v1/requests/{requestId}/erase does, for
   * an id a path cannot carry).
   */
  record SubjectErasureRequest(
      String tenantId, String key, String value, String reason, String requestId) {}

  private void eraseSubject(Context ctx) throws Exception {
    SubjectErasureRequest request = readBody(requireBody(ctx), SubjectErasureRequest.class);
    Caller caller = caller(ctx);
    if (request.requestId() != null) {
      if (request.tenantId() != null || request.key() != null || request.value() != null) {
        throw new InvalidInputException(
            "requestId names the request itself: leave out tenantId, key and value, which name a"
                + " data subject instead");
      }
      ctx.json(
          services
              .retention()
              .erase(
                  RequestIds.require("requestId", request.requestId()), request.reason(), caller));
      return;
    }
    String tenant = request.tenantId() != null ? request.tenantId() : caller.tenantId();
    if (tenant == null) {
      throw new InvalidInputException(
          "tenantId is required: a data subject's requests are found within one tenant");
    }
    ctx.json(
        services
            .retention()
            .eraseSubject(tenant, request.key(), request.value(), request.reason(), caller));
  }

  /** Body of PUT /api/v1/retention/{tenantId}. */
  record RetentionRequest(Integer retentionDays) {}

  private void setRetention(Context ctx) throws Exception {
    RetentionRequest request = readBody(requireBody(ctx), RetentionRequest.class);
    if (request.retentionDays() == null) {
      throw new InvalidInputException("retentionDays is required, e.g. {\"retentionDays\": 365}");
    }
    ctx.json(services.retention().set(id(ctx, "tenantId"), request.retentionDays(), caller(ctx)));
  }

  // ---- parameters --------------------------------------------------------------------------

  /**
   * The request body as UTF-8, strictly: a body that is not valid UTF-8 is refused rather than read
   * with replacement characters (a prompt or note would silently change).
   */
  private String body(Context ctx) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(boundedBody(ctx, services.limits().maxBodyBytes())))
          .toString();
    } catch (CharacterCodingException e) {
      throw new InvalidInputException("Body is not valid UTF-8; send JSON encoded as UTF-8");
    }
  }

  /**
   * The body's bytes, at most {@code max}: a declared length over it is refused before reading, and
   * a chunked body (no declared length, which Javalin's own check lets through) is read only up to
   * one byte past it (413 either way).
   */
  private static byte[] boundedBody(Context ctx, long max) {
    if (ctx.req().getContentLengthLong() > max) {
      throw new ContentTooLargeResponse();
    }
    byte[] bytes;
    try {
      bytes = ctx.req().getInputStream().readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE));
    } catch (IOException e) {
      throw new InvalidInputException("The body could not be read: " + e.getMessage());
    }
    if (bytes.length > max) {
      throw new ContentTooLargeResponse();
    }
    return bytes;
  }

  /**
   * A JSON body of the given type (every body is a JSON object); another JSON value ({@code null},
   * an array, a string, a number, a boolean) and trailing content are refused, in words that name
   * no Java type.
   */
  private <T> T readBody(String body, Class<T> type) throws IOException {
    wellFormedObject(body);
    T value =
        mapper.readerFor(type).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readValue(body);
    if (value == null) {
      throw new InvalidInputException(
          "The body is JSON null; this call needs a JSON object, see /api/v1/openapi.yaml");
    }
    return value;
  }

  /**
   * Refuses a body that is not one JSON object (Jackson's own words for it name the Java record it
   * binds to), and a string or member name holding a lone surrogate (an escape of U+D800 to U+DFFF
   * without its pair): it has no UTF-8 form, and the Kafka and PostgreSQL encoders would store '?'
   * in its place, another text than the one sent.
   */
  private void wellFormedObject(String body) throws IOException {
    try (JsonParser parser = mapper.createParser(body)) {
      JsonToken first = parser.nextToken();
      if (first == JsonToken.VALUE_NULL) {
        throw new InvalidInputException(
            "The body is JSON null; this call needs a JSON object, see /api/v1/openapi.yaml");
      }
      if (first != null && first != JsonToken.START_OBJECT) {
        throw new InvalidInputException(
            "The body is "
                + jsonKind(first)
                + "; this call needs a JSON object, see /api/v1/openapi.yaml");
      }
      for (JsonToken token = first; token != null; token = parser.nextToken()) {
        if (token == JsonToken.END_OBJECT && parser.getParsingContext().inRoot()) {
          if (parser.nextToken() != null) {
            throw new InvalidInputException(
                "Body is not valid JSON for this endpoint: it holds more than one JSON value;"
                    + " send one JSON object, see /api/v1/openapi.yaml");
          }
          return;
        }
        if (token != JsonToken.VALUE_STRING && token != JsonToken.FIELD_NAME) {
          continue;
        }
        String text = parser.getText();
        int i = LoneSurrogates.first(text);
        if (i >= 0) {
          // A bad member name is not echoed: the path up to its object says where it is.
          String where =
              token == JsonToken.FIELD_NAME
                  ? "A member name in the object at "
                      + pointer(parser.getParsingContext().getParent())
                  : "The string at " + pointer(parser.getParsingContext());
          throw new InvalidInputException(
              where
                  + " holds the unpaired surrogate \\u"
                  + String.format("%04x", (int) text.charAt(i))
                  + " at index "
                  + i
                  + ", which is not text; send well-formed Unicode");
        }
      }
    }
  }

  /** What a JSON value other than an object is, in the words of the JSON spec. */
  private static String jsonKind(JsonToken token) {
    return switch (token) {
      case START_ARRAY -> "a JSON array";
      case VALUE_STRING -> "a JSON string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a JSON number";
      case VALUE_TRUE, VALUE_FALSE -> "JSON " + token.asString();
      default -> "not a JSON object";
    };
  }

  private static String pointer(JsonStreamContext context) {
    String pointer = context == null ? "" : context.pathAsPointer().toString();
    return pointer.isEmpty() ? "/" : pointer;
  }

  private String requireBody(Context ctx) {
    String body = body(ctx);
    if (body.isBlank()) {
      throw new InvalidInputException("This call needs a JSON body; see /api/v1/openapi.yaml");
    }
    return body;
  }

  /**
   * Refuses a body on a call that reads none, rather than ignore what it asks for (a tenantId sent
   * to a call that acts on every tenant); none, blank or {} is fine.
   */
  private void noBody(Context ctx, String why) {
    String body = body(ctx);
    if (!body.isBlank() && !body.strip().equals("{}")) {
      throw new InvalidInputException("This call takes no body: " + why + "; send none");
    }
  }

  /** A path parameter that must be an id: 1-128 letters, digits, '.', '_', ':' or '-'. */
  static String id(Context ctx, String name) {
    String value = ctx.pathParam(name);
    if (!ID.matcher(value).matches()) {
      throw new InvalidInputException(
          name
              + " '"
              + (value.length() > 64 ? value.substring(0, 64) + "..." : value)
              + "' is not valid: 1-128 letters, digits, '.', '_', ':' or '-'");
    }
    return value;
  }

  /**
   * The request id a path names: any id the audit store can hold ({@link RequestIds}), its
   * characters percent-encoded as UTF-8 where a path cannot carry them, e.g. {@code a%20b} for "a
   * b", {@code a%2Fb} for "a/b", {@code caf%C3%A9} for "café". The segment is decoded here,
   * strictly and once: the router's own decoding reads "%2B" as '+' twice over and malformed UTF-8
   * as U+FFFD, naming another request. The body routes take any id too: {@code POST
   * /api/v1/retractions} ({@code requestIds}) and {@code POST /api/v1/erasures} ({@code
   * requestId}).
   */
  static String requestId(Context ctx) {
    // Split as the router does: on '/', an encoded one (%2F) staying in its segment.
    String[] route = ctx.endpointHandlerPath().split("/");
    String[] raw = ctx.req().getRequestURI().split("/");
    int at = Arrays.asList(route).indexOf("{requestId}");
    if (at < 0) {
      throw new IllegalStateException("Route " + ctx.endpointHandlerPath() + " names no requestId");
    }
    if (raw.length != route.length) {
      throw new InvalidInputException(
          "The path's segments do not match "
              + ctx.endpointHandlerPath()
              + "; percent-encode the"
              + " request id's '/' as %2F");
    }
    return RequestIds.require(
        "requestId", QueryParameters.percentDecoded("requestId in the path", raw[at], false));
  }

  /** A query parameter, null when absent or blank; rejects overlong values and repeats. */
  static String parameter(Context ctx, String name) {
    QueryParameters parameters = ctx.attribute(QUERY);
    if (parameters == null) {
      throw new IllegalStateException("Route " + ctx.path() + " declares no query parameters");
    }
    List<String> values = parameters.all(name);
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw new InvalidInputException(
          "Query parameter " + name + " is given " + values.size() + " times; give it once");
    }
    String value = values.get(0);
    // key:value, each as long as a submission's (128 and 256 characters) and the colon.
    // A cursor: the review queue's holds a request id of up to 1,024 bytes.
    int max =
        name.equals("attribute")
            ? MAX_ATTRIBUTE_PARAMETER_CHARS
            : name.equals("cursor") ? Cursor.MAX_ENCODED : MAX_PARAMETER_CHARS;
    if (value.length() > max) {
      throw new InvalidInputException(
          "Query parameter "
              + name
              + " has "
              + value.length()
              + " characters; the limit is "
              + max);
    }
    return value.isBlank() ? null : value;
  }

  private static String tenantParameter(Context ctx) {
    String tenant = parameter(ctx, "tenant");
    return SearchFilter.parse(tenant, null, null, null, null, null, null, null).tenant();
  }

  private static int limit(Context ctx, int fallback, int max) {
    String value = parameter(ctx, "limit");
    if (value == null) {
      return fallback;
    }
    try {
      int limit = Integer.parseInt(value.trim());
      if (limit >= 1 && limit <= max) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidInputException(
        "limit '" + value + "' must be a whole number from 1 to " + max);
  }

  private static Instant instant(Context ctx, String name) {
    return utcInstant(name, parameter(ctx, name));
  }

  /** An ISO-8601 UTC instant named {@code name}, from a query parameter or a body member. */
  private static Instant utcInstant(String name, String value) {
    if (value == null) {
      return null;
    }
    try {
      return Cursor.inRange(name, Instant.parse(value.trim()));
    } catch (DateTimeParseException e) {
      throw new InvalidInputException(
          name
              + " '"
              + value
              + "' is not an ISO-8601 UTC instant such as"
              + " 2026-01-31T00:00:00Z");
    }
  }

  public AuditApi start(String host, int port) {
    app.start(host, port);
    return this;
  }

  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
  }
}
