package io.genguard.stack.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code genguard audit ...}: audit commands (bias campaigns and reports; more join here). */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description =
        "Audit a running GenGuard: bias campaigns, their reports and progress; verify the audit"
            + " hash chain; API tokens; the audit store benchmark.",
    subcommands = {
      AuditCampaignCommand.class,
      AuditReportCommand.class,
      AuditReplayCommand.class,
      AuditWhatIfCommand.class,
      AuditRetractCommand.class,
      AuditStatusCommand.class,
      AuditUnfinishedCommand.class,
      AuditVerifyCommand.class,
      AuditEvidenceCommand.class,
      AuditVerifyEvidenceCommand.class,
      AuditRecoverCommand.class,
      AuditTokenCommand.class,
      AuditBenchCommand.class
    })
final class AuditCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(), "Name an audit subcommand; see ./genguard audit --help");
  }
}
