package io.genguard.audit.http;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.submit.RequestSubmitter;
import io.genguard.audit.submit.RequestSubmitter.InvalidSubmissionException;
import io.genguard.audit.submit.RequestSubmitter.Submission;
import io.genguard.events.v1.GenerationRequest;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.json.JavalinJackson;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The audit service's HTTP API (JSON): submit requests, read a request's story, totals. */
public final class AuditApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditApi.class);
  /** Largest request body accepted; a prompt is limited far below this anyway. */
  public static final long MAX_BODY_BYTES = 64 * 1024;

  private final Javalin app;

  public AuditApi(AuditQueries queries, RequestSubmitter submitter) {
    ObjectMapper mapper = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .build();
    this.app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.http.maxRequestSize = MAX_BODY_BYTES;
      config.jsonMapper(new JavalinJackson(mapper, false));
    });
    app.get("/api/v1/health", ctx -> ctx.json(Map.of("status", "UP")));
    app.post("/api/v1/requests", ctx -> submit(ctx, submitter, mapper));
    app.get("/api/v1/requests/{requestId}", ctx -> {
      String id = ctx.pathParam("requestId");
      if (id.length() > 128) {
        throw new InvalidSubmissionException("requestId is at most 128 characters");
      }
      queries.story(id).ifPresentOrElse(ctx::json, () -> ctx.status(HttpStatus.NOT_FOUND)
          .json(Map.of("error", "No request with id " + id)));
    });
    app.get("/api/v1/summary", ctx -> ctx.json(queries.summary()));
    app.exception(InvalidSubmissionException.class, (e, ctx) ->
        ctx.status(HttpStatus.BAD_REQUEST).json(Map.of("error", e.getMessage())));
    app.exception(com.fasterxml.jackson.core.JacksonException.class, (e, ctx) ->
        ctx.status(HttpStatus.BAD_REQUEST).json(Map.of("error", "Body is not valid JSON for this endpoint: "
            + e.getOriginalMessage())));
    app.exception(Exception.class, (e, ctx) -> {
      LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
      ctx.status(HttpStatus.INTERNAL_SERVER_ERROR).json(Map.of("error", "Internal error; see the server log"));
    });
  }

  private static void submit(Context ctx, RequestSubmitter submitter, ObjectMapper mapper) throws Exception {
    if (ctx.body().isBlank()) {
      throw new InvalidSubmissionException("Body must be a JSON object with at least a prompt");
    }
    Submission submission = mapper.readValue(ctx.body(), Submission.class);
    GenerationRequest request = submitter.submit(submission);
    ctx.status(HttpStatus.ACCEPTED).json(Map.of(
        "requestId", request.getRequestId(),
        "tenantId", request.getTenantId(),
        "status", "SUBMITTED",
        "links", Map.of("self", "/api/v1/requests/" + request.getRequestId())));
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
