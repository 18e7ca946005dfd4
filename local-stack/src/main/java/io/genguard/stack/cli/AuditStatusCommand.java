package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.BiasReportStore;
import io.genguard.bias.submit.CampaignProgress;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code genguard audit status ID}: how far a campaign got, and exactly which samples have no
 * verdict (never submitted, pending or failed), as JSON.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Show a bias campaign's progress and exactly which samples are missing.")
final class AuditStatusCommand implements Callable<Integer> {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Parameters(index = "0", paramLabel = "ID", description = "Campaign id.")
  String id;

  @Mixin AuditStoreOptions store;

  @Override
  public Integer call() throws Exception {
    // Neither schema is migrated here: the audit service and the bias-aggregation job do that,
    // in the upgrade order of docs/OPERATIONS.md.
    try (AuditDatabase db = store.connectCurrent("genguard audit status")) {
      BiasAuditDatabase.requireCurrentSchema(db.dataSource(), "genguard audit status");
      CampaignProgress progress =
          new BiasReportStore(db.dataSource(), AnalysisSettings.defaults(), Clock.systemUTC())
              .progress(id);
      System.out.println(JSON.writeValueAsString(progress));
      return progress.complete() ? 0 : 4;
    }
  }
}
