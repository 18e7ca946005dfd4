package io.genguard.bias.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.campaign.CampaignLimits;
import io.genguard.bias.campaign.CampaignResolver;
import io.genguard.bias.campaign.CampaignSpec;
import io.genguard.bias.campaign.CampaignSpecParser;
import io.genguard.bias.persistence.SampleOutcome.State;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportExporter;
import io.genguard.bias.report.ReportFormat;
import io.genguard.bias.submit.CampaignProgress;
import io.genguard.bias.submit.CampaignRunner;
import io.genguard.bias.submit.CampaignRunner.CampaignInterruptedException;
import io.genguard.bias.submit.SubmissionRequest;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.schemas.EventIds;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A campaign's life on real PostgreSQL with the audit service's own schema: the plan is stored
 * before anything is sent; an interruption leaves exactly the unsent samples missing; a request
 * whose answer was lost is reconciled from the audit store instead of being sent twice, while
 * another tenant's requests naming the campaign are neither reconciled nor counted; the report is
 * generated, persisted, listed and exported.
 */
class CampaignLifecycleITCase {
  private static final String CAMPAIGN =
      """
      id: lifecycle-it
      name: Lifecycle
      target: {backend: echo}
      samplesPerGroup: 20
      templates:
        inline: ["{group} moved in next door."]
      groups:
        - name: control
          terms: [the teachers]
        - name: target
          terms: [the bakers, the bastards]
      """;

  private static AuditDatabase audit;
  private static BiasAuditDatabase bias;

  @BeforeAll
  static void databases() {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("bias_lifecycle_it");
    audit = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    bias = BiasAuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  @AfterAll
  static void close() {
    bias.close();
    audit.close();
  }

  private static CampaignRunner runner(FakePipeline pipeline) {
    return new CampaignRunner(
        new CampaignRepository(bias.dataSource()),
        new AuditStoreReader(bias.dataSource()),
        pipeline,
        new CampaignResolver(() -> Path.of("unused")),
        CampaignLimits.defaults(),
        Clock.systemUTC(),
        CampaignRunner.Listener.silent());
  }

  @Test
  void shouldSubmitNothingWhenTheCampaignCannotBeRegisteredFirst() throws Exception {
    FakePipeline pipeline = new FakePipeline(audit.dataSource());
    AtomicInteger registered = new AtomicInteger();
    AtomicBoolean storeDown = new AtomicBoolean(true);
    CampaignRunner runner =
        new CampaignRunner(
            new CampaignRepository(bias.dataSource()),
            new AuditStoreReader(bias.dataSource()),
            pipeline,
            new CampaignResolver(() -> Path.of("unused")),
            CampaignLimits.defaults(),
            Clock.systemUTC(),
            new CampaignRunner.Listener() {
              @Override
              public void submitted(String campaignId, int done, int total) {
                assertThat(registered.get()).as("registered before the first request").isOne();
              }

              @Override
              public void beforeSubmitting(String campaignId) {
                if (storeDown.get()) {
                  throw new IllegalStateException("the audit store is down");
                }
                registered.incrementAndGet();
              }
            });
    String yaml =
        CAMPAIGN
            .replace("id: lifecycle-it", "id: register-it")
            .replace("samplesPerGroup: 20", "samplesPerGroup: 2");

    assertThatThrownBy(
            () -> runner.start(CampaignSpecParser.parse(yaml, "register.yaml", Path.of(".")), yaml))
        .isInstanceOf(CampaignInterruptedException.class)
        .hasMessageContaining("stopped after submitting 0 of 4 samples: the audit store is down")
        .hasMessageContaining("--resume register-it");
    assertThat(pipeline.accepted.get()).isZero();

    storeDown.set(false);
    assertThat(runner.resume("register-it", false).submittedNow()).isEqualTo(4);
    assertThat(registered.get()).isOne();
  }

  @Test
  void shouldSubmitEachSampleOnceWhenATryIsAcceptedButItsAnswerNeverComes() throws Exception {
    FakePipeline pipeline = new FakePipeline(audit.dataSource());
    CampaignRunner runner = runner(pipeline);
    String yaml =
        CAMPAIGN
            .replace("id: lifecycle-it", "id: timeout-it")
            .replace("samplesPerGroup: 20", "samplesPerGroup: 2");
    // The API accepts the first sample, but the client gives up before its answer: the campaign
    // sends it again under the same Idempotency-Key and is answered with the same request.
    pipeline.timeOutNext = true;

    CampaignRunner.Submitted submitted =
        runner.start(CampaignSpecParser.parse(yaml, "timeout.yaml", Path.of(".")), yaml);

    assertThat(submitted.submittedNow()).isEqualTo(4);
    assertThat(pipeline.accepted.get()).as("one request per sample").isEqualTo(4);
    assertThat(pipeline.requestsByKey)
        .containsOnlyKeys("timeout-it:0:0", "timeout-it:1:0", "timeout-it:2:0", "timeout-it:3:0");
    assertThat(
            count(
                "select count(distinct request_id) from bias_audit.campaign_submission"
                    + " where campaign_id = 'timeout-it'"))
        .isEqualTo(4);
    assertThat(runner.progress("timeout-it").complete()).isTrue();
  }

  @Test
  void shouldListASampleJudgedWithoutScoresApartFromTheJudgedOnes() throws Exception {
    FakePipeline pipeline = new FakePipeline(audit.dataSource());
    CampaignRunner runner = runner(pipeline);
    String yaml =
        CAMPAIGN
            .replace("id: lifecycle-it", "id: unscored-it")
            .replace("samplesPerGroup: 20", "samplesPerGroup: 2");
    pipeline.scorerFailsNext = true; // the first sample's verdict: the scorer failed

    runner.start(CampaignSpecParser.parse(yaml, "unscored.yaml", Path.of(".")), yaml);

    CampaignProgress progress = runner.progress("unscored-it");
    assertThat(progress.counts()).containsEntry(State.JUDGED, 3).containsEntry(State.UNSCORED, 1);
    assertThat(progress.settled()).isTrue();
    assertThat(progress.complete()).isFalse();
    assertThat(progress.missing())
        .singleElement()
        .satisfies(
            missing -> {
              assertThat(missing.sampleIndex()).isZero();
              assertThat(missing.reason())
                  .isEqualTo(
                      "judged without scores (scorer.error: the scorer failed (test)): the policy"
                          + " held it; left out of the rates");
            });

    // Submitted again once the scorer works: the sample's scored verdict counts, the unscored not.
    // A new submission of the sample, so a new Idempotency-Key: a new request.
    assertThat(runner.resume("unscored-it", false, true).submittedNow()).isEqualTo(1);
    assertThat(pipeline.requestsByKey).containsKeys("unscored-it:0:0", "unscored-it:0:1");
    CampaignProgress resumed = runner.progress("unscored-it");
    assertThat(resumed.counts()).containsEntry(State.JUDGED, 4).containsEntry(State.UNSCORED, 0);
    assertThat(resumed.complete()).isTrue();
  }

  @Test
  void shouldStorePlanReportMissingSamplesResumeWithoutDuplicatesAndReport() throws Exception {
    FakePipeline pipeline = new FakePipeline(audit.dataSource());
    CampaignRunner runner = runner(pipeline);
    CampaignSpec spec = CampaignSpecParser.parse(CAMPAIGN, "lifecycle.yaml", Path.of("."));

    // The stack goes away after 7 requests.
    pipeline.failAfter = 7;
    assertThatThrownBy(() -> runner.start(spec, CAMPAIGN))
        .isInstanceOfSatisfying(
            CampaignInterruptedException.class,
            e -> assertThat(e.campaignId()).isEqualTo("lifecycle-it"))
        .hasMessageContaining("stopped after submitting 7 of 40")
        .hasMessageContaining("audit campaign --resume lifecycle-it");
    CampaignProgress interrupted = runner.progress("lifecycle-it");
    assertThat(interrupted.planned()).isEqualTo(40);
    assertThat(interrupted.counts())
        .containsEntry(State.JUDGED, 7)
        .containsEntry(State.NOT_SUBMITTED, 33);
    assertThat(interrupted.missing())
        .extracting(CampaignProgress.MissingSample::sampleIndex)
        .containsExactlyElementsOf(IntStream.range(7, 40).boxed().toList());

    // Starting it again under the same id is refused: resume it instead.
    pipeline.failAfter = -1;
    assertThatThrownBy(() -> runner.start(spec, CAMPAIGN)).hasMessageContaining("already exists");

    // Sample 7 reaches the pipeline but its answer is lost; resume stops there again.
    pipeline.loseNextAnswer = true;
    assertThatThrownBy(() -> runner.resume("lifecycle-it", false))
        .isInstanceOf(CampaignInterruptedException.class);
    assertThat(pipeline.accepted.get()).isEqualTo(8);

    // Another tenant names the campaign's id for two control samples still unsent (34, 36), with
    // text the campaign would count as unsafe, and the job's totals of its verdicts are larger.
    for (int sample : new int[] {34, 36}) {
      pipeline.submit(
          new SubmissionRequest(
              "the bastards moved in next door.",
              "intruder",
              "echo",
              null,
              spec.sampling(),
              1L,
              Map.of(
                  "campaign.id",
                  "lifecycle-it",
                  "campaign.group",
                  "control",
                  "campaign.sample",
                  Integer.toString(sample))));
    }
    pipeline.recordMetric(metric("bias-audit", 20, 0));
    pipeline.recordMetric(metric("intruder", 25, 25));

    // The next resume finds sample 7's request in the audit store and does not send it again. The
    // API paces it for the tenant's rate (429) more times than a failure is retried: it waits.
    pipeline.throttleNext = 6;
    CampaignRunner.Submitted resumed = runner.resume("lifecycle-it", false);
    assertThat(pipeline.throttled.get()).isEqualTo(6);
    assertThat(resumed.reconciled()).as("not the other tenant's requests").isEqualTo(1);
    assertThat(resumed.submittedNow()).isEqualTo(32);
    assertThat(pipeline.accepted.get())
        .as("every sample reached the pipeline once, besides the other tenant's two")
        .isEqualTo(42);
    CampaignProgress done = runner.progress("lifecycle-it");
    assertThat(done.complete()).isTrue();
    assertThat(done.missing()).isEmpty();
    assertThat(
            count(
                "select count(*) from bias_audit.campaign_submission"
                    + " where campaign_id = 'lifecycle-it' and source = 'reconciled'"))
        .isEqualTo(1);

    BiasReportStore store =
        new BiasReportStore(bias.dataSource(), AnalysisSettings.defaults(), Clock.systemUTC());
    BiasReport report = store.generate("lifecycle-it");
    assertThat(report.status()).isEqualTo("COMPLETE");
    assertThat(report.sampleSizes().perGroup())
        .containsEntry("control", 20L)
        .containsEntry("target", 20L);
    // Target alternates between its two terms: 10 of 20 carry the planted word.
    assertThat(report.groups().get(1).unsafeRate()).isEqualTo(0.5);
    assertThat(report.groups().get(0).unsafeRate()).isEqualTo(0.0);
    assertThat(report.headline().disparityDetected()).isTrue();
    assertThat(report.streamCheck())
        .as("the job's totals of the campaign's tenant, not the other tenant's larger ones")
        .filteredOn(check -> check.group().equals("control"))
        .singleElement()
        .satisfies(check -> assertThat(check.agrees()).isTrue());
    assertThat(report.limits())
        .anyMatch(l -> l.startsWith("2 requests of other tenants named this campaign's id"));
    assertThat(report.rows()).hasSize(40).allMatch(r -> r.model().equals("echo/echo@1"));

    assertThat(store.list(10))
        .extracting(BiasReportStore.ReportSummary::reportId)
        .contains(report.reportId());
    assertThat(store.latest("lifecycle-it")).contains(report);
    String html =
        new String(
            store.export(report.reportId(), ReportFormat.HTML).orElseThrow(),
            StandardCharsets.UTF_8);
    assertThat(html).contains("Disparity detected", "<svg");
    assertThat(store.export("no-such-report", ReportFormat.JSON)).isEmpty();
    assertThat(count("select count(*) from bias_audit.report where campaign_id = 'lifecycle-it'"))
        .isEqualTo(1);
    assertThat(store.campaigns()).extracting(CampaignRecord::campaignId).contains("lifecycle-it");
    assertThat(List.of(store.progress("lifecycle-it").judged())).containsExactly(40);
  }

  @Test
  void shouldSkipRequestsNamingNoSampleOfThePlanAndKeepResuming() throws Exception {
    FakePipeline pipeline = new FakePipeline(audit.dataSource());
    CampaignRunner runner = runner(pipeline);
    String yaml =
        CAMPAIGN
            .replace("id: lifecycle-it", "id: claims-it")
            .replace("samplesPerGroup: 20", "samplesPerGroup: 2");
    CampaignSpec spec = CampaignSpecParser.parse(yaml, "claims.yaml", Path.of("."));
    pipeline.failAfter = 2;
    assertThatThrownBy(() -> runner.start(spec, yaml))
        .isInstanceOf(CampaignInterruptedException.class);
    pipeline.failAfter = -1;

    // Requests of the campaign's own tenant naming the campaign, whose campaign.sample the API
    // does not check: out of the plan, not a number, not as the campaign writes it, or absent.
    // Recording "999999" broke the reference to the plan and failed every later resume.
    for (String sample : new String[] {"999999", "x1", "-1", "01", null}) {
      pipeline.submit(claim(spec, sample, "the teachers moved in next door."));
    }
    // And a second request for planned sample 0 (a control sample, already judged safe), later and
    // unsafe: recorded, but the sample counts once, with its first verdict.
    String second = pipeline.submit(claim(spec, "0", "the bastards moved in next door."));

    CampaignRunner.Submitted resumed = runner.resume("claims-it", false);
    assertThat(resumed.reconciled()).isEqualTo(1);
    assertThat(resumed.skipped()).isEqualTo(5);
    assertThat(resumed.submittedNow()).isEqualTo(2);
    CampaignRunner.Submitted again = runner.resume("claims-it", false);
    assertThat(again.reconciled()).isZero();
    assertThat(again.skipped()).isEqualTo(5);
    assertThat(again.submittedNow()).isZero();
    assertThat(runner.progress("claims-it").complete()).isTrue();
    assertThat(
            count(
                "select count(*) from bias_audit.campaign_submission"
                    + " where campaign_id = 'claims-it'"))
        .as("4 samples sent by the campaign and the second request for sample 0")
        .isEqualTo(5);

    BiasReport report =
        new BiasReportStore(bias.dataSource(), AnalysisSettings.defaults(), Clock.systemUTC())
            .generate("claims-it");
    assertThat(report.sampleSizes().perGroup())
        .containsEntry("control", 2L)
        .containsEntry("target", 2L);
    assertThat(report.rows())
        .filteredOn(row -> row.sampleIndex() == 0)
        .singleElement()
        .satisfies(row -> assertThat(row.requestId()).isNotEqualTo(second));
    assertThat(report.groups().get(0).unsafeRate()).isEqualTo(0.0);
  }

  @Test
  void shouldExportAStoredReportWhoseSha256IsTheStoredOne() throws Exception {
    FakePipeline pipeline = new FakePipeline(audit.dataSource());
    String yaml =
        CAMPAIGN
            .replace("id: lifecycle-it", "id: digest-it")
            // Beyond the BMP: Jackson's UTF-8 writer escaped it, so the export did not hash.
            .replace("name: Lifecycle", "name: Lifecycle \uD83D\uDE4F")
            .replace("samplesPerGroup: 20", "samplesPerGroup: 3");
    runner(pipeline).start(CampaignSpecParser.parse(yaml, "digest.yaml", Path.of(".")), yaml);
    BiasReportStore store =
        new BiasReportStore(bias.dataSource(), AnalysisSettings.defaults(), Clock.systemUTC());
    BiasReport report = store.generate("digest-it");
    String stored = storedSha256(report.reportId());

    // The JSON export (the API's and the command line's) hashes to the stored digest: the
    // document was hashed pretty-printed but kept only as jsonb, which drops the whitespace and
    // reorders keys (perGroup: "target" before "control"), so no export reproduced it.
    byte[] exported = store.export(report.reportId(), ReportFormat.JSON).orElseThrow();
    assertThat(sha256(exported)).isEqualTo(stored);
    assertThat(
            ReportExporter.toBytes(store.get(report.reportId()).orElseThrow(), ReportFormat.JSON))
        .as("a report read back and written again, as `audit report <reportId>` does")
        .isEqualTo(exported);
    assertThat(store.get(report.reportId())).contains(report);
    assertThat(
            count(
                "select count(*) from bias_audit.report where report_id = '"
                    + report.reportId()
                    + "' and encode(sha256(convert_to(document_text, 'UTF8')), 'hex')"
                    + " = document_sha256"))
        .isOne();

    // A report stored before the exact text was kept: still read (from jsonb) and exported.
    BiasReport older = store.generate("digest-it");
    try (var connection = bias.dataSource().getConnection();
        var forget =
            connection.prepareStatement(
                "update bias_audit.report set document_text = null where report_id = ?")) {
      forget.setString(1, older.reportId());
      assertThat(forget.executeUpdate()).isOne();
    }
    assertThat(store.get(older.reportId())).contains(older);
    assertThat(store.latest("digest-it")).isPresent();
    assertThat(
            ReportExporter.fromJson(
                new String(
                    store.export(older.reportId(), ReportFormat.JSON).orElseThrow(),
                    StandardCharsets.UTF_8)))
        .isEqualTo(older);
  }

  private static SubmissionRequest claim(CampaignSpec spec, String sample, String prompt) {
    Map<String, String> attributes = new java.util.HashMap<>();
    attributes.put("campaign.id", spec.id());
    attributes.put("campaign.group", "control");
    if (sample != null) {
      attributes.put("campaign.sample", sample);
    }
    return new SubmissionRequest(
        prompt, "bias-audit", "echo", null, spec.sampling(), 1L, attributes);
  }

  private static String storedSha256(String reportId) throws Exception {
    try (var connection = bias.dataSource().getConnection();
        var select =
            connection.prepareStatement(
                "select document_sha256 from bias_audit.report where report_id = ?")) {
      select.setString(1, reportId);
      try (var rows = select.executeQuery()) {
        assertThat(rows.next()).isTrue();
        return rows.getString(1);
      }
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /** The aggregation job's totals of group control of the campaign, counted for {@code tenant}. */
  private static BiasMetric metric(String tenant, long count, long unsafe) {
    Instant now = Instant.now();
    return BiasMetric.newBuilder()
        .setEventId(EventIds.random())
        .setScope(BiasScope.CAMPAIGN)
        .setCampaignId("lifecycle-it")
        .setTenantId(tenant)
        .setModel("echo/echo@1")
        .setGroup("control")
        .setWindowStart(now)
        .setWindowEnd(now)
        .setCount(count)
        .setUnsafeCount(unsafe)
        .setUnsafeScoreSum(unsafe)
        .setBlockCount(unsafe)
        .setReviewCount(0)
        .setReleaseCount(count - unsafe)
        .setCategoryCounts(Map.of())
        .setComputedAt(now)
        .build();
  }

  private static long count(String sql) throws Exception {
    return TestSql.count(bias.dataSource(), sql);
  }
}
