package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.security.Caller;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.campaign.CampaignLimits;
import io.genguard.bias.campaign.PlannedSample;
import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.persistence.CampaignRepository;
import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.JudgedOutput;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportBuilder;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ./genguard audit report against a real database: the JSON it writes is the stored document byte
 * for byte, a report the audit service's store refuses makes it exit non-zero, and a report of the
 * largest campaign the command line allows is published and recorded in the audit chain.
 */
class AuditReportCommandITCase {
  private static IntegrationInfrastructure infra;
  private static String jdbcUrl;
  private static AuditDatabase database;

  @BeforeAll
  static void databases() {
    infra = IntegrationInfrastructure.get();
    jdbcUrl = infra.createDatabase("audit_report_command_it");
    database = AuditDatabase.connect(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword(), 2);
    BiasAuditDatabase.migrate(database.dataSource());
  }

  @AfterAll
  static void close() {
    database.close();
  }

  private static CampaignRecord campaign(String id, String name, int perGroup) {
    return new CampaignRecord(
        id,
        name,
        "COUNTERFACTUAL",
        "acme",
        "echo",
        null,
        perGroup,
        List.of("control", "target"),
        1,
        2 * perGroup,
        "{\"id\":\"" + id + "\",\"templates\":[\"{group} moved in.\"]}",
        "0".repeat(64),
        "[]",
        Instant.now());
  }

  /** Stores the plan of a campaign of two groups of two samples, none submitted. */
  private static CampaignRecord planned(String id, String name) {
    CampaignRecord record = campaign(id, name, 2);
    List<PlannedSample> samples = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String group = i % 2 == 0 ? "control" : "target";
      samples.add(
          new PlannedSample(
              i, group, i / 2, 0, "{group} moved in.", "the " + group, group + " moved in.", 7L));
    }
    new CampaignRepository(database.dataSource()).insertPlan(record, samples);
    return record;
  }

  /** A run of the command with what it said on stderr ({@link Progress} writes there). */
  private static CommandRun run(String... args) {
    PrintStream original = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      CommandRun run =
          CommandRun.of(new AuditReportCommand(), CommandRun.withDatabase(infra, jdbcUrl, args));
      return new CommandRun(
          run.code(), run.out(), run.err() + err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(original);
    }
  }

  private static String sql(String query) throws Exception {
    try (var connection = database.dataSource().getConnection();
        var statement = connection.createStatement();
        var result = statement.executeQuery(query)) {
      result.next();
      return result.getString(1);
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /**
   * An emoji in the report (here the campaign's name): the command wrote the JSON through Jackson's
   * UTF-8 writer, which escapes it, so the file did not hash to the stored document's digest.
   */
  @Test
  void shouldWriteTheStoredJsonByteForByteSoThatItHashesToItsDigest(@TempDir Path dir)
      throws Exception {
    planned("emoji-it", "Faith \uD83D\uDE4F pilot");

    CommandRun generated = run("emoji-it", "--format", "json", "--out", dir + "/new.json");
    assertThat(generated.code()).as(generated.err()).isZero();
    String reportId = generated.out().strip();
    byte[] written = Files.readAllBytes(dir.resolve("new.json"));
    assertThat(new String(written, StandardCharsets.UTF_8)).contains("Faith \uD83D\uDE4F pilot");
    String stored =
        sql("select document_sha256 from bias_audit.report where report_id = '" + reportId + "'");
    assertThat(sha256(written)).isEqualTo(stored);
    // Lists show the published report's status (no sample was judged: PARTIAL).
    assertThat(
            new BiasReports(database.dataSource(), Clock.systemUTC())
                .list(null, "emoji-it", null, 10)
                .items())
        .singleElement()
        .satisfies(
            item -> assertThat(item.path("summary").path("status").asText()).isEqualTo("PARTIAL"));

    CommandRun exported = run(reportId, "--format", "json", "--out", dir + "/again.json");
    assertThat(exported.code()).as(exported.err()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("again.json"))).isEqualTo(written);
  }

  @Test
  void shouldExitNonZeroWhenTheAuditServiceRefusesTheReport(@TempDir Path dir) throws Exception {
    planned("refused-it", "Refused");
    // The audit service lists a campaign of that id under another tenant: publishing is refused.
    new Campaigns(database.dataSource(), Clock.systemUTC())
        .create(
            new Campaigns.NewCampaign(
                "refused-it",
                "globex",
                "Someone else's",
                "RUNNING",
                new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()),
            Caller.system("it"));

    CommandRun run = run("refused-it", "--format", "html", "--out", dir + "/r.html");

    assertThat(run.code()).as(run.err()).isEqualTo(AuditReportCommand.NOT_PUBLISHED);
    assertThat(run.err())
        .contains("NOT PUBLISHED: report " + run.out().strip())
        .contains("the audit chain has none of its digests")
        .contains("lists a campaign 'refused-it' of tenant 'globex'")
        .contains("run ./genguard audit report refused-it again");
    assertThat(dir.resolve("r.html")).isNotEmptyFile();
    assertThat(
            TestSql.count(
                database.dataSource(),
                "select count(*) from bias_report where report_id = '" + run.out().strip() + "'"))
        .isZero();
  }

  /**
   * The largest campaign the command line allows: every sample judged, 36-character ids and outputs
   * longer than a row keeps. Its report exceeded the audit service's 8 MiB body limit (at 20,000
   * samples, the default maximum, already): it never reached the API, UI or chain.
   */
  @Test
  void shouldPublishTheReportOfTheLargestCampaignAllowedAndRecordItsDigests() throws Exception {
    int perGroup = CampaignLimits.CEILING / 2;
    CampaignRecord record = campaign("largest-it", "Largest", perGroup);
    Random random = new Random(7);
    String text = "An output that goes on & on <about> the neighbours. ".repeat(10);
    List<SampleOutcome> outcomes = new ArrayList<>();
    Supplier<String> ids = () -> UUID.randomUUID().toString();
    for (int i = 0; i < CampaignLimits.CEILING; i++) {
      String group = i % 2 == 0 ? "control" : "target";
      boolean unsafe = random.nextDouble() < 0.1;
      String requestId = ids.get();
      outcomes.add(
          new SampleOutcome(
              new PlannedSample(i, group, i / 2, 0, "{group} moved in.", "the " + group, "p", 7L),
              List.of(requestId),
              Optional.of(
                  new JudgedOutput(
                      requestId,
                      ids.get(),
                      unsafe ? "BLOCK" : random.nextDouble() < 0.1 ? "REVIEW" : "RELEASE",
                      unsafe ? 0.5 + random.nextDouble() / 2 : random.nextDouble() / 2,
                      Map.of("hate", unsafe ? 0.9 : 0.1, "violence", random.nextDouble() / 2),
                      List.of(),
                      text,
                      "echo/echo@1",
                      Instant.now())),
              Optional.empty()));
    }
    BiasReport report =
        ReportBuilder.build(
            "report-" + ids.get(),
            record,
            outcomes,
            Map.of(),
            AnalysisSettings.defaults(),
            Instant.now());
    outcomes.clear();

    new AuditStorePublisher(database.dataSource(), "it").publish(record, report);

    BiasReports reports = new BiasReports(database.dataSource(), Clock.systemUTC());
    assertThat(reports.list(null, "largest-it", null, 10).items())
        .extracting(item -> item.path("reportId").asText())
        .containsExactly(report.reportId());
    for (BiasReports.Format format : BiasReports.Format.values()) {
      StringWriter written = new StringWriter();
      reports.open(report.reportId(), format, Caller.system("it")).writeTo(written);
      String body = written.toString();
      String digest = format.name().toLowerCase(java.util.Locale.ROOT) + "Sha256";
      assertThat(
              TestSql.count(
                  database.dataSource(),
                  "select count(*) from api_action where action = 'bias_report.create' and target"
                      + " = '"
                      + report.reportId()
                      + "' and details ->> '"
                      + digest
                      + "' = '"
                      + sha256(body.getBytes(StandardCharsets.UTF_8))
                      + "'"))
          .as("the chain records the %s body's digest", format)
          .isEqualTo(1);
    }
    assertThat(
            new Campaigns(database.dataSource(), Clock.systemUTC())
                .get("largest-it", Caller.system("it"))
                .path("status")
                .asText())
        .isEqualTo("COMPLETED");
  }
}
