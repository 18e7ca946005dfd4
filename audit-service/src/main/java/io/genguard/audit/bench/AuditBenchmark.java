package io.genguard.audit.bench;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.explain.HeldVerdictSearch;
import io.genguard.audit.explain.RecordedExplanations;
import io.genguard.audit.http.AuditApi;
import io.genguard.audit.ingest.AuditIngestor;
import io.genguard.audit.persistence.AuditChain;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.query.OutputSearch;
import io.genguard.audit.security.ApiTokens;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The audit service's two benchmarks (run by {@code ./genguard audit bench}, never as a timed
 * test):
 *
 * <ul>
 *   <li>Ingestion: events already on Kafka (requests, outputs, verdicts, gate outcomes of about 100
 *       tokens each, 10% held for review) persisted by one {@link AuditIngestor} into PostgreSQL,
 *       hash chain and projections included: events per second from start to the last commit.
 *   <li>Lookup: GET /api/v1/requests/{id} (token check and the full story) with the store filled
 *       with N audited requests, each with an output, a verdict and a gate outcome; latency
 *       percentiles over random ids, one client after a warm-up.
 *   <li>Verification: the chain the ingestion benchmark wrote, recomputed end to end.
 * </ul>
 */
public final class AuditBenchmark {
  private static final String TEXT =
      String.join(
          " ",
          java.util.Collections.nCopies(
              10, "the committee discussed the budget for the coming year and agreed on"));

  private AuditBenchmark() {}

  /** Where the servers are. */
  public record Servers(
      Map<String, Object> kafkaProperties, String jdbcUrl, String jdbcUser, String jdbcPassword) {}

  /** Result of the ingestion benchmark. */
  public record IngestResult(int events, double seconds, double eventsPerSecond) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"benchmark\":\"audit-ingest\",\"events\":%d,\"seconds\":%.2f,"
              + "\"events_per_second\":%.0f}",
          events,
          seconds,
          eventsPerSecond);
    }
  }

  /** Records the incremental verification walks: the newest, from a head this many back. */
  static final long INCREMENTAL_RECORDS = 10_000;

  /**
   * Result of verifying the chain the ingestion benchmark wrote: the whole walk, then the walk from
   * the head {@value #INCREMENTAL_RECORDS} records before the end ({@link
   * ChainVerifier#verifyFrom}), as a nightly check after the previous night's would.
   */
  public record VerifyResult(
      long records,
      boolean valid,
      double seconds,
      long fromHeadRecords,
      boolean fromHeadValid,
      double fromHeadSeconds) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"benchmark\":\"audit-verify\",\"records\":%d,\"valid\":%s,"
              + "\"seconds\":%.2f,\"records_per_second\":%.0f,"
              + "\"from_head_records\":%d,\"from_head_valid\":%s,\"from_head_seconds\":%.3f}",
          records,
          valid,
          seconds,
          records / seconds,
          fromHeadRecords,
          fromHeadValid,
          fromHeadSeconds);
    }
  }

  /**
   * Recomputes the whole chain (as ./genguard audit verify does) and times it, then the walk from a
   * head near the end (as {@code --from-seq} does).
   */
  public static VerifyResult verify(Servers servers) throws SQLException {
    try (AuditDatabase database =
        AuditDatabase.connect(
            servers.jdbcUrl(), servers.jdbcUser(), servers.jdbcPassword(), 2, false)) {
      long started = System.nanoTime();
      ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
      double seconds = (System.nanoTime() - started) / 1e9;
      long headSeq = Math.max(1, verification.headSeq() - INCREMENTAL_RECORDS + 1);
      ChainVerifier.Anchor head;
      try (Connection connection = database.dataSource().getConnection();
          PreparedStatement query =
              connection.prepareStatement("select hash from audit_log where seq = ?")) {
        query.setLong(1, headSeq);
        try (ResultSet rs = query.executeQuery()) {
          head =
              rs.next() ? new ChainVerifier.Anchor(headSeq, AuditChain.hex(rs.getBytes(1))) : null;
        }
      }
      if (head == null) {
        return new VerifyResult(verification.records(), verification.valid(), seconds, 0, false, 0);
      }
      started = System.nanoTime();
      ChainVerifier.Verification since =
          ChainVerifier.verifyFrom(database.dataSource(), head, java.util.List.of());
      return new VerifyResult(
          verification.records(),
          verification.valid(),
          seconds,
          since.records(),
          since.valid(),
          (System.nanoTime() - started) / 1e9);
    }
  }

  /** Result of the lookup benchmark. */
  public record LookupResult(
      long requestsInStore,
      int lookups,
      double fillSeconds,
      double p50Millis,
      double p95Millis,
      double p99Millis,
      double maxMillis,
      int subjectLookups,
      double subjectP50Millis,
      double subjectP99Millis,
      double subjectIndexedMillis,
      double subjectScanMillis) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"benchmark\":\"audit-lookup\",\"requests_in_store\":%d,\"lookups\":%d,"
              + "\"fill_seconds\":%.1f,\"p50_ms\":%.2f,\"p95_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
              + "\"subject_lookups\":%d,\"subject_p50_ms\":%.2f,\"subject_p99_ms\":%.2f,"
              + "\"subject_requests_indexed_ms\":%.2f,\"subject_requests_scan_ms\":%.2f}",
          requestsInStore,
          lookups,
          fillSeconds,
          p50Millis,
          p95Millis,
          p99Millis,
          maxMillis,
          subjectLookups,
          subjectP50Millis,
          subjectP99Millis,
          subjectIndexedMillis,
          subjectScanMillis);
    }
  }

  /**
   * Data subjects of the filled store: request n is submitted with {@code userId} {@code u-(n mod
   * SUBJECTS)}, so with 1,000,000 requests each subject has 10.
   */
  static final int SUBJECTS = 100_000;

  /** Most access requests (a subject's outputs by attribute) one lookup run times. */
  static final int MAX_SUBJECT_LOOKUPS = 1_000;

  /**
   * Puts {@code events} events on Kafka, then measures how fast a fresh ingestor persists them into
   * the (migrated, empty or not) database.
   */
  public static IngestResult ingest(Servers servers, int events, String runId) throws Exception {
    produce(servers.kafkaProperties(), events, runId);
    try (AuditDatabase database =
        AuditDatabase.connect(servers.jdbcUrl(), servers.jdbcUser(), servers.jdbcPassword(), 4)) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
      AuditIngestor ingestor =
          new AuditIngestor(
              servers.kafkaProperties(), "audit-bench-" + runId, writer, Clock.systemUTC());
      long started = System.nanoTime();
      ingestor.start();
      try {
        long deadline = started + Duration.ofMinutes(30).toNanos();
        while (ingestor.persistedCount() < events) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "Ingestion did not finish: " + ingestor.persistedCount() + " of " + events);
          }
          Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        return new IngestResult(events, seconds, events / seconds);
      } finally {
        ingestor.close();
      }
    }
  }

  private static void produce(Map<String, Object> kafkaProperties, int events, String runId)
      throws Exception {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // A loader, not part of what is measured: duplicates from retries would be deduplicated by
    // event
    // id anyway, and without idempotence a fresh broker's leader moves cannot wedge the sequence.
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    Instant now = Instant.now();
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      // Start once every partition has a leader (a fresh broker elects them just after creation).
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      for (Topic<String, ?> topic :
          List.of(
              Topics.GENERATION_REQUESTS,
              Topics.GENERATION_OUTPUTS,
              Topics.MODERATION_VERDICTS,
              Topics.REVIEW_PENDING,
              Topics.CONTENT_RELEASED)) {
        while (producer.partitionsFor(topic.name()).stream()
            .anyMatch(p -> p.leader() == null || p.leader().isEmpty())) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "Topic " + topic.name() + " has partitions without a leader after 60 s");
          }
          Thread.sleep(100);
        }
      }
      for (int i = 0; i < events; i++) {
        String requestId = runId + "-" + (i / 4);
        Decision decision = (i / 4) % 10 == 0 ? Decision.REVIEW : Decision.RELEASE;
        switch (i % 4) {
          case 0 -> send(producer, Topics.GENERATION_REQUESTS, requestId, request(requestId, now));
          case 1 -> send(producer, Topics.GENERATION_OUTPUTS, requestId, output(requestId, now));
          case 2 ->
              send(
                  producer,
                  Topics.MODERATION_VERDICTS,
                  requestId,
                  verdict(requestId, decision, now));
          default ->
              send(
                  producer,
                  decision == Decision.REVIEW ? Topics.REVIEW_PENDING : Topics.CONTENT_RELEASED,
                  requestId,
                  outcome(requestId, decision, now));
        }
      }
      producer.flush();
    }
  }

  private static <V extends SpecificRecord> void send(
      KafkaProducer<String, byte[]> producer, Topic<String, V> topic, String key, V event) {
    producer.send(new ProducerRecord<>(topic.name(), key, topic.codec().encode(event)));
  }

  static GenerationRequest request(String requestId, Instant at) {
    return GenerationRequest.newBuilder()
        .setEventId(EventIds.nameBased("bench-request", requestId))
        .setRequestId(requestId)
        .setTenantId("bench")
        .setPrompt("Write a short note about the budget meeting.")
        .setParameters(parameters())
        .setAttributes(Map.of("source", "bench"))
        .setSubmittedAt(at)
        .build();
  }

  static GenerationOutput output(String requestId, Instant at) {
    return GenerationOutput.newBuilder()
        .setEventId(EventIds.nameBased("bench-output", requestId))
        .setOutputId(EventIds.nameBased("bench-output-id", requestId))
        .setRequestId(requestId)
        .setTenantId("bench")
        .setText(TEXT)
        .setModel(
            ModelRef.newBuilder().setName("bench").setVersion("1").setBackend("builtin").build())
        .setParameters(parameters())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(9)
                .setOutputTokens(100)
                .setComputeMillis(40)
                .setDevice("cpu")
                .setEnergyJoules(0.5)
                .build())
        .setAttributes(Map.of())
        .setGeneratedAt(at)
        .build();
  }

  static ModerationVerdict verdict(String requestId, Decision decision, Instant at) {
    return ModerationVerdict.newBuilder()
        .setEventId(EventIds.nameBased("bench-verdict", requestId))
        .setVerdictId(EventIds.nameBased("bench-verdict-id", requestId))
        .setOutputId(EventIds.nameBased("bench-output-id", requestId))
        .setRequestId(requestId)
        .setTenantId("bench")
        .setOutputSha256(ContentHash.sha256Hex(TEXT))
        .setDecision(decision)
        .setReasons(
            List.of(
                Reason.newBuilder()
                    .setCode(decision == Decision.REVIEW ? "category.review" : "policy.clear")
                    .setDecision(decision)
                    .setCategory("hate")
                    .setScore(decision == Decision.REVIEW ? 0.6 : 0.02)
                    .setThreshold(0.5)
                    .setMessage("hate score against the REVIEW threshold 0.5")
                    .build()))
        .setUnsafeScore(decision == Decision.REVIEW ? 0.6 : 0.02)
        .setCategoryScores(
            Map.of(
                "hate",
                decision == Decision.REVIEW ? 0.6 : 0.02,
                "violence",
                0.01,
                "harassment",
                0.03,
                "sexual",
                0.01,
                "self_harm",
                0.0,
                "illicit",
                0.01,
                "sexual_minors",
                0.0))
        .setGroups(List.of("religion:muslim"))
        .setPolicyId("default")
        .setPolicyVersion("bench")
        .setScorerVersions(Map.of("trivial", "1"))
        .setAttributes(Map.of())
        .setDecidedAt(at)
        .build();
  }

  static ReleaseGateOutcome outcome(String requestId, Decision decision, Instant at) {
    GateOutcome outcome =
        decision == Decision.REVIEW ? GateOutcome.HELD_FOR_REVIEW : GateOutcome.RELEASED;
    return ReleaseGateOutcome.newBuilder()
        .setEventId(
            EventIds.nameBased("gate", requestId, outcome.name(), GateBasis.VERDICT.name(), ""))
        .setRequestId(requestId)
        .setOutputId(EventIds.nameBased("bench-output-id", requestId))
        .setTenantId("bench")
        .setOutcome(outcome)
        .setBasis(GateBasis.VERDICT)
        .setVerdictId(EventIds.nameBased("bench-verdict-id", requestId))
        .setDecision(decision)
        .setText(TEXT)
        .setOutputSha256(ContentHash.sha256Hex(TEXT))
        .setPolicyVersion("bench")
        .setReasons(List.of("clear"))
        .setAttributes(Map.of())
        .setDecidedAt(at)
        .build();
  }

  private static SamplingParameters parameters() {
    return SamplingParameters.newBuilder()
        .setMaxTokens(100)
        .setTemperature(0.8)
        .setTopK(40)
        .setTopP(0.95)
        .setSeed(1L)
        .build();
  }

  /**
   * Fills the store with {@code requests} synthetic audited requests (audit records, request,
   * output, verdict and gate outcome rows, set-based in SQL: fast, but their hash chain is not a
   * real one), then measures request-by-id lookups through the running API.
   */
  public static LookupResult lookups(Servers servers, long requests, int lookups) throws Exception {
    // The API alone on the store (no ingestor, no Kafka): the lookup path is all that runs.
    try (AuditDatabase database =
        AuditDatabase.connect(servers.jdbcUrl(), servers.jdbcUser(), servers.jdbcPassword(), 4)) {
      long fillStarted = System.nanoTime();
      long existing =
          count(
              database, "select count(*) from generation_request where request_id like 'lookup-%'");
      if (existing < requests) {
        fill(database, existing, requests);
      }
      double fillSeconds = (System.nanoTime() - fillStarted) / 1e9;
      Clock clock = Clock.systemUTC();
      ApiTokens tokens = new ApiTokens(database.dataSource(), clock);
      AuditApi api =
          new AuditApi(
                  new AuditApi.Services(
                      database.dataSource(),
                      new AuditQueries(database.dataSource()),
                      null,
                      tokens,
                      null,
                      new OutputSearch(database.dataSource()),
                      null,
                      null,
                      null,
                      clock,
                      AuditApi.Limits.defaults(),
                      null,
                      null,
                      null,
                      null,
                      null))
              .start("127.0.0.1", 0);
      try {
        String token =
            tokens
                .create(Role.COMPLIANCE, null, "benchmark", null, Caller.system("benchmark"))
                .token();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String base = "http://127.0.0.1:" + api.port() + "/api/v1/requests/lookup-";
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < Math.min(2_000, lookups); i++) {
          get(http, base + random.nextLong(requests), token);
        }
        double[] millis = new double[lookups];
        for (int i = 0; i < lookups; i++) {
          long started = System.nanoTime();
          get(http, base + random.nextLong(requests), token);
          millis[i] = (System.nanoTime() - started) / 1e6;
        }
        Arrays.sort(millis);
        // A data subject's access request: their outputs, found by the attribute their requests
        // were submitted with (the search the erasure of a subject also runs).
        int subjectLookups = (int) Math.min(MAX_SUBJECT_LOOKUPS, lookups);
        int subjects = (int) Math.min(SUBJECTS, requests);
        String search = "http://127.0.0.1:" + api.port() + "/api/v1/outputs?limit=200&attribute=";
        if (subjectLookups > 0
            && !get(http, search + "userId:u-" + random.nextInt(subjects), token)
                .contains("lookup-")) {
          throw new IllegalStateException(
              "A data subject's search found no outputs: this store was filled before requests"
                  + " carried a userId; fill a fresh one (another --data-dir)");
        }
        double[] subjectMillis = new double[subjectLookups];
        for (int i = 0; i < subjectLookups; i++) {
          long started = System.nanoTime();
          get(http, search + "userId:u-" + random.nextInt(subjects), token);
          subjectMillis[i] = (System.nanoTime() - started) / 1e6;
        }
        Arrays.sort(subjectMillis);
        return new LookupResult(
            requests,
            lookups,
            fillSeconds,
            percentile(millis, 0.50),
            percentile(millis, 0.95),
            percentile(millis, 0.99),
            millis[millis.length - 1],
            subjectLookups,
            subjectLookups == 0 ? 0 : percentile(subjectMillis, 0.50),
            subjectLookups == 0 ? 0 : percentile(subjectMillis, 0.99),
            subjectMedianMillis(database, subjects, random, true),
            subjectMedianMillis(database, subjects, random, false));
      } finally {
        api.close();
      }
    }
  }

  /**
   * Result of the unfinished-flow watch benchmark: the catch-up over a whole store checked for the
   * first time (an upgrade), rounds run back to back, then a round with nothing new.
   */
  public record WatchResult(
      long chainRecords, int rounds, int found, double seconds, double idleRoundMillis) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"benchmark\":\"audit-unfinished-watch\",\"chain_records\":%d,\"rounds\":%d,"
              + "\"found\":%d,\"seconds\":%.2f,\"records_per_second\":%.0f,"
              + "\"idle_round_ms\":%.2f}",
          chainRecords,
          rounds,
          found,
          seconds,
          chainRecords / seconds,
          idleRoundMillis);
    }
  }

  /**
   * The unfinished-flow watch ({@link UnfinishedFlows}) on the store the lookup benchmark filled:
   * both kinds' watermarks set back to the start and every record past its deadline (a clock a day
   * ahead), rounds run back to back until the whole chain is checked; then the median of 5 rounds
   * with nothing new, as a running service's rounds between its records are.
   */
  public static WatchResult unfinishedWatch(Servers servers) throws SQLException {
    try (AuditDatabase database =
        AuditDatabase.connect(servers.jdbcUrl(), servers.jdbcUser(), servers.jdbcPassword(), 2)) {
      try (Connection connection = database.dataSource().getConnection();
          Statement statement = connection.createStatement()) {
        statement.execute("update unfinished_flow_watch set checked_seq = 0");
      }
      long records = count(database, "select count(*) from audit_log");
      UnfinishedFlows flows =
          new UnfinishedFlows(
              database.dataSource(),
              Clock.offset(Clock.systemUTC(), Duration.ofDays(1)),
              UnfinishedFlows.Deadlines.DEFAULTS);
      int rounds = 0;
      int found = 0;
      long started = System.nanoTime();
      while (true) {
        UnfinishedFlows.Round round = flows.check();
        rounds++;
        found += round.found().size();
        if (round.checked().values().stream().allMatch(checked -> checked == 0)) {
          break;
        }
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      double[] idle = new double[5];
      for (int i = 0; i < idle.length; i++) {
        long roundStarted = System.nanoTime();
        flows.check();
        idle[i] = (System.nanoTime() - roundStarted) / 1e6;
      }
      Arrays.sort(idle);
      return new WatchResult(records, rounds, found, seconds, idle[idle.length / 2]);
    }
  }

  /** Result of the background explainer's search benchmark. */
  public record HeldSearchResult(
      long verdicts,
      long held,
      long explained,
      double firstRoundMillis,
      int newRecords,
      double newRecordsMillis) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"benchmark\":\"explain-held-search\",\"verdicts\":%d,\"held\":%d,"
              + "\"explained\":%d,\"first_round_ms\":%.1f,\"new_records\":%d,"
              + "\"new_records_ms\":%.1f}",
          verdicts,
          held,
          explained,
          firstRoundMillis,
          newRecords,
          newRecordsMillis);
    }
  }

  /**
   * The background explainer's search ({@link HeldVerdictSearch}) on the store the lookup benchmark
   * filled: every tenth verdict is made REVIEW and all held verdicts but the 20 newest get a
   * recorded explanation (the steady state of a service that has explained in the background for a
   * long time). Times, as medians of 5, the search of a first round after a start (the whole chain)
   * and the search of a later round over the newest {@code newRecords} chain records.
   */
  public static HeldSearchResult heldSearch(Servers servers, int newRecords) throws SQLException {
    try (AuditDatabase database =
        AuditDatabase.connect(servers.jdbcUrl(), servers.jdbcUser(), servers.jdbcPassword(), 2)) {
      try (Connection connection = database.dataSource().getConnection();
          Statement statement = connection.createStatement()) {
        connection.setAutoCommit(false);
        statement.execute(
            "update moderation_verdict set decision = 'REVIEW' where verdict_id like 'lookup-verdict-%'"
                + " and decision = 'RELEASE' and substring(verdict_id from 16)::bigint % 10 = 0");
        // Recorded explanations of all held verdicts but the 20 newest, their chain records placed
        // below the filled ones, so the newest records are verdicts as in a running service.
        statement.execute(
            "create temporary table explained on commit drop as select verdict_id, request_id,"
                + " 500000000 + row_number() over (order by verdict_id) as seq from ("
                + " select verdict_id, request_id from moderation_verdict"
                + " where verdict_id like 'lookup-verdict-%' and decision <> 'RELEASE'"
                + " order by decided_at desc offset 20) held");
        statement.execute(
            "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
                + " source_partition, source_offset, payload, recorded_at, chain_version, entry_digest,"
                + " prev_hash, hash) select seq, 'explain-' || verdict_id, 'ApiAction', 'bench',"
                + " request_id, 'api', 0, 0, '{}', now(), 2, sha256(int8send(seq)),"
                + " sha256(int8send(seq - 1)), sha256(int8send(seq + 1)) from explained"
                + " on conflict do nothing");
        statement.execute(
            "insert into api_action (action_id, event_id, action, caller_name, caller_role,"
                + " tenant_id, request_id, target, details, acted_at) select 'explain-' || verdict_id,"
                + " 'explain-' || verdict_id, '"
                + RecordedExplanations.ACTION
                + "', 'explain-held', 'ADMIN', 'bench', request_id, verdict_id,"
                + " '{\"status\":\"EXPLAINED\"}', now() from explained on conflict do nothing");
        connection.commit();
        statement.execute("analyze");
      }
      long verdicts = count(database, "select count(*) from moderation_verdict");
      long held =
          count(database, "select count(*) from moderation_verdict where decision <> 'RELEASE'");
      long explained =
          count(
              database,
              "select count(*) from api_action where action = '"
                  + RecordedExplanations.ACTION
                  + "'");
      long head = count(database, "select max(seq) from audit_log");
      double first = medianMillis(database, 0);
      double later = medianMillis(database, head - newRecords);
      return new HeldSearchResult(verdicts, held, explained, first, newRecords, later);
    }
  }

  /**
   * Median time of a subject erasure's lookup (a tenant's requests with one attribute), through the
   * attribute index as the service asks, or as the same question asked without it (the index cannot
   * answer {@code ->>}): what the index saves.
   */
  private static double subjectMedianMillis(
      AuditDatabase database, int subjects, SplittableRandom random, boolean indexed)
      throws SQLException {
    String sql =
        "select count(*) from generation_request where tenant_id = 'bench' and "
            + (indexed
                ? "attributes @> jsonb_build_object('userId', ?::text)"
                : "attributes ->> 'userId' = ?");
    double[] millis = new double[9];
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement query = connection.prepareStatement(sql)) {
      for (int i = 0; i < millis.length; i++) {
        query.setString(1, "u-" + random.nextInt(subjects));
        long started = System.nanoTime();
        try (var rs = query.executeQuery()) {
          rs.next();
        }
        millis[i] = (System.nanoTime() - started) / 1e6;
      }
    }
    Arrays.sort(millis);
    return millis[millis.length / 2];
  }

  private static double medianMillis(AuditDatabase database, long after) throws SQLException {
    double[] millis = new double[5];
    for (int i = 0; i < millis.length; i++) {
      long started = System.nanoTime();
      HeldVerdictSearch.after(database.dataSource(), after, AuditConfig.EXPLAIN_HELD_BATCH);
      millis[i] = (System.nanoTime() - started) / 1e6;
    }
    Arrays.sort(millis);
    return millis[millis.length / 2];
  }

  private static String get(HttpClient http, String url, String token) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "Lookup " + url + " answered " + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  private static double percentile(double[] sorted, double q) {
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static long count(AuditDatabase database, String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        var rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Set-based fill in chunks of 100,000 requests (four audit records each). */
  private static void fill(AuditDatabase database, long from, long to) throws SQLException {
    String text = TEXT.replace("'", "''");
    List<String> chunk = new ArrayList<>();
    for (long start = from; start < to; start += 100_000) {
      long end = Math.min(to, start + 100_000) - 1;
      String series = "generate_series(" + start + ", " + end + ") as n";
      chunk.clear();
      chunk.add(
          "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
              + " source_partition, source_offset, payload, recorded_at, chain_version, entry_digest, prev_hash, hash)"
              + " select 1000000000 + n * 4 + k, 'lookup-' || n || '-' || k,"
              + " (array['GenerationRequest','GenerationOutput','ModerationVerdict','ReleaseGateOutcome'])[k + 1],"
              + " 'bench', 'lookup-' || n, 'bench', 0, n * 4 + k, '{\"text\":\""
              + text
              + "\"}', now(), 2,"
              + " sha256(int8send(n * 4 + k)), sha256(int8send(n * 4 + k - 1)), sha256(int8send(n * 4 + k + 1))"
              + " from "
              + series
              + ", generate_series(0, 3) as k");
      chunk.add(
          "insert into generation_request (request_id, event_id, tenant_id, prompt, parameters, attributes,"
              + " submitted_at) select 'lookup-' || n, 'lookup-' || n || '-0', 'bench', 'Write a short note.',"
              + " '{\"maxTokens\":100}', jsonb_build_object('userId', 'u-' || (n % "
              + SUBJECTS
              + ")), now() from "
              + series);
      chunk.add(
          "insert into generation_output (output_id, event_id, request_id, tenant_id, text, model_name,"
              + " model_version, backend, cost, attributes, generated_at) select 'lookup-out-' || n,"
              + " 'lookup-' || n || '-1', 'lookup-' || n, 'bench', '"
              + text
              + "', 'bench', '1', 'builtin',"
              + " '{\"outputTokens\":100}', '{}', now() from "
              + series);
      chunk.add(
          "insert into moderation_verdict (verdict_id, event_id, output_id, request_id, tenant_id,"
              + " output_sha256, decision, unsafe_score, category_scores, reasons, groups, text_truncated, policy_id,"
              + " policy_version, scorer_versions, attributes, decided_at) select 'lookup-verdict-' || n,"
              + " 'lookup-' || n || '-2', 'lookup-out-' || n, 'lookup-' || n, 'bench', 'x', 'RELEASE', 0.02,"
              + " '{\"hate\":0.02,\"violence\":0.01}', '[{\"code\":\"policy.clear\",\"decision\":\"RELEASE\"}]',"
              + " array['religion:muslim'], false, 'default', 'bench', '{\"trivial\":\"1\"}', '{}',"
              + " now() - (n || ' seconds')::interval from "
              + series);
      chunk.add(
          "insert into gate_outcome (event_id, request_id, output_id, tenant_id, outcome, basis, verdict_id,"
              + " decision, output_sha256, policy_version, reasons, decided_at) select 'lookup-' || n || '-3',"
              + " 'lookup-' || n, 'lookup-out-' || n, 'bench', 'RELEASED', 'VERDICT', 'lookup-verdict-' || n,"
              + " 'RELEASE', 'x', 'bench', '[]', now() from "
              + series);
      try (Connection connection = database.dataSource().getConnection();
          Statement statement = connection.createStatement()) {
        connection.setAutoCommit(false);
        for (String sql : chunk) {
          statement.execute(sql);
        }
        connection.commit();
      }
    }
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("analyze");
    }
  }
}
