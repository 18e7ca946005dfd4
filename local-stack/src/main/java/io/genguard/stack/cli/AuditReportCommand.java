package io.genguard.stack.cli;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.BiasReportStore;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportFormat;
import io.genguard.schemas.ReplacingFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code genguard audit report ID --format html|json|csv --out FILE}: for a campaign id, computes
 * its report from what the audit store holds now, stores it (in bias_audit and in the audit
 * service's report store, so the API and UI show it) and exports it; for a report id, exports the
 * stored report. The JSON export is the stored document byte for byte (it hashes to its {@code
 * document_sha256}). Exits 3 when the report was stored in bias_audit and written, but the audit
 * service's store refused it: then the chain has none of its digests and the API and UI do not show
 * it.
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = "Write a bias campaign's report (HTML, JSON or CSV).")
final class AuditReportCommand implements Callable<Integer> {
  /** Exit status of a report stored and written, but refused by the audit service's store. */
  static final int NOT_PUBLISHED = 3;

  @Parameters(index = "0", paramLabel = "ID", description = "Campaign id (or a stored report id).")
  String id;

  @Option(
      names = "--format",
      defaultValue = "html",
      description = "html, json or csv (default ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write it.")
  Path out;

  @Mixin AuditStoreOptions store;

  @Override
  public Integer call() throws Exception {
    ReportFormat reportFormat = ReportFormat.parse(format);
    // Checked before the report is built, stored and published: a write refused after that lost the
    // report id, and running the command again built a second report of the campaign.
    if (Files.isDirectory(out)) {
      throw new IllegalArgumentException("--out " + out + " is a directory; name a file in it");
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    // Neither schema is migrated here: the audit service and the bias-aggregation job do that,
    // in the upgrade order of docs/OPERATIONS.md.
    try (AuditDatabase db = store.connectCurrent("genguard audit report")) {
      BiasAuditDatabase.requireCurrentSchema(db.dataSource(), "genguard audit report");
      BiasReportStore reports =
          new BiasReportStore(
              db.dataSource(),
              AnalysisSettings.fromEnvironment(System.getenv()),
              Clock.systemUTC());
      Optional<CampaignRecord> campaign = reports.campaign(id);
      BiasReport report;
      String notPublished = null;
      if (campaign.isPresent()) {
        report = reports.generate(id);
        try {
          new AuditStorePublisher(db.dataSource(), "genguard audit report")
              .publish(campaign.get(), report);
        } catch (Exception e) {
          notPublished = e.getMessage();
        }
      } else {
        report =
            reports
                .get(id)
                .orElseThrow(
                    () ->
                        new IllegalArgumentException(
                            "No campaign or report with id '" + id + "' in " + store.jdbcUrl));
      }
      // As stored: the JSON is the text whose SHA-256 is the report's document_sha256. Written
      // beside it, then moved into place: a failed write leaves no half report at --out.
      byte[] exported =
          reports
              .export(report.reportId(), reportFormat)
              .orElseThrow(() -> new IllegalStateException("Report " + id + " was not stored"));
      try {
        ReplacingFiles.write(
            out,
            ReplacingFiles.OnStop.REMOVE,
            line -> Progress.say("audit report: " + line),
            stream -> stream.write(exported));
      } catch (java.io.IOException e) {
        throw new java.io.IOException(
            "report "
                + report.reportId()
                + " is stored, but could not be written to "
                + out
                + " ("
                + e
                + "); export it with ./genguard audit report "
                + report.reportId()
                + " --out FILE",
            e);
      }
      System.out.println(report.reportId());
      Progress.say(
          report.status()
              + " report "
              + report.reportId()
              + " ("
              + report.sampleSizes().analysed()
              + " of "
              + report.sampleSizes().planned()
              + " samples): "
              + report.headline().summary());
      Progress.say("written to " + out.toAbsolutePath());
      if (notPublished != null) {
        Progress.say(
            "NOT PUBLISHED: report "
                + report.reportId()
                + " is stored in bias_audit.report and written, but the audit service's report"
                + " store refused it, so the audit chain has none of its digests, the API and UI"
                + " do not show it and the campaign was not marked completed: "
                + notPublished
                + ". Fix the cause and run ./genguard audit report "
                + id
                + " again.");
        return NOT_PUBLISHED;
      }
      return 0;
    }
  }
}
