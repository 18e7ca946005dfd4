package io.genguard.audit;

import io.genguard.audit.http.AuditApi;
import io.genguard.audit.ingest.AuditIngestor;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.submit.RequestSubmitter;
import java.time.Clock;
import java.util.Map;

/**
 * The audit service: persists every event from Kafka into PostgreSQL and serves the HTTP API.
 * Start order: database (migrations), ingestor, API; close in reverse, API first (stop intake).
 */
public final class AuditService implements AutoCloseable {
  private final AuditDatabase database;
  private final AuditIngestor ingestor;
  private final RequestSubmitter submitter;
  private final AuditQueries queries;
  private final AuditApi api;
  private boolean intakeStopped;

  public AuditService(AuditConfig config, Map<String, Object> kafkaProperties, Clock clock) {
    this.database = AuditDatabase.connect(config.jdbcUrl(), config.jdbcUser(), config.jdbcPassword(),
        config.poolSize());
    this.ingestor = new AuditIngestor(kafkaProperties, config.consumerGroup(),
        new AuditWriter(database.dataSource(), clock), clock);
    this.submitter = new RequestSubmitter(kafkaProperties, RequestSubmitter.SubmissionLimits.defaults(), clock);
    this.queries = new AuditQueries(database.dataSource());
    this.api = new AuditApi(queries, submitter);
    ingestor.start();
    api.start(config.httpHost(), config.httpPort());
  }

  public int httpPort() {
    return api.port();
  }

  public AuditQueries queries() {
    return queries;
  }

  public RequestSubmitter submitter() {
    return submitter;
  }

  public AuditDatabase database() {
    return database;
  }

  /** Stops accepting requests over HTTP; persisting goes on until {@link #close()}. */
  public synchronized void stopIntake() {
    if (!intakeStopped) {
      intakeStopped = true;
      api.close();
      submitter.close();
    }
  }

  /** Stops intake (API), then drains the ingestor, then closes the database. */
  @Override
  public void close() {
    stopIntake();
    ingestor.close();
    database.close();
  }
}
