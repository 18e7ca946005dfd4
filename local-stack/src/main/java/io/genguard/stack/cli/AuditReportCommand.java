package io.genguard.stack.cli;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.BiasReportStore;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportExporter;
import io.genguard.bias.report.ReportFormat;
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
 * stored report.
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = "Write a bias campaign's report (HTML, JSON or CSV).")
final class AuditReportCommand implements Callable<Integer> {
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
      if (campaign.isPresent()) {
        report = reports.generate(id);
        try {
          new AuditStorePublisher(db.dataSource(), "genguard audit report")
              .publish(campaign.get(), report);
        } catch (Exception e) {
          Progress.say(
              "report stored, but the audit API/UI could not receive it: " + e.getMessage());
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
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.write(out, ReportExporter.toBytes(report, reportFormat));
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
      return 0;
    }
  }
}
