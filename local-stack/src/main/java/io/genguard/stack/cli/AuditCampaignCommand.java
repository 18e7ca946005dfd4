package io.genguard.stack.cli;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.bias.campaign.CampaignLimits;
import io.genguard.bias.campaign.CampaignResolver;
import io.genguard.bias.campaign.CampaignSpec;
import io.genguard.bias.campaign.CampaignSpecParser;
import io.genguard.bias.campaign.InvalidCampaignException;
import io.genguard.bias.campaign.ModelCatalog;
import io.genguard.bias.campaign.ResolvedCampaign;
import io.genguard.bias.campaign.UnreadableSharedDataException;
import io.genguard.bias.persistence.AuditStoreReader;
import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.CampaignRepository;
import io.genguard.bias.submit.CampaignProgress;
import io.genguard.bias.submit.CampaignRunner;
import io.genguard.bias.submit.CampaignRunner.CampaignInterruptedException;
import io.genguard.bias.submit.HttpApiSubmitter;
import io.genguard.bias.submit.SubmissionException;
import io.genguard.moderation.train.DataDirectory;
import java.net.URI;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit campaign --file CAMPAIGN.yaml}: validates a bias campaign (nothing is sent
 * if it is invalid), stores its plan, submits its requests through the running stack's API and
 * prints its id; {@code --resume ID} continues an interrupted one.
 */
@Command(
    name = "campaign",
    mixinStandardHelpOptions = true,
    description =
        "Start a bias audit campaign on a running GenGuard (prints its id), or resume one.")
final class AuditCampaignCommand implements Callable<Integer> {
  @ArgGroup(multiplicity = "1")
  Which which;

  static final class Which {
    @Option(names = "--file", paramLabel = "CAMPAIGN.yaml", description = "The campaign to start.")
    Path file;

    @Option(names = "--resume", paramLabel = "ID", description = "Resume an interrupted campaign.")
    String resume;
  }

  @Option(
      names = "--resubmit-pending",
      description =
          "With --resume: also re-submit samples whose request never got a verdict (lost when a"
              + " stack without --data-dir was restarted).")
  boolean resubmitPending;

  @Option(
      names = "--resubmit-unscored",
      description =
          "With --resume: also re-submit samples judged without scores (the scorer failed or"
              + " timed out, and the verdict held them); the first scored verdict of a sample"
              + " counts.")
  boolean resubmitUnscored;

  @Option(
      names = "--wait",
      paramLabel = "SECONDS",
      defaultValue = "0",
      description = "Wait up to this long for every sample to be judged (default: do not wait).")
  int waitSeconds;

  @Option(
      names = "--api",
      defaultValue = "${env:GENGUARD_API:-http://127.0.0.1:8080}",
      description = "API of the running stack (default ${DEFAULT-VALUE}, or GENGUARD_API).")
  String api;

  @Option(
      names = "--token",
      defaultValue = "${env:GENGUARD_API_TOKEN}",
      paramLabel = "TOKEN",
      description =
          "API token of a submitter of the campaign's tenant, or an admin (default:"
              + " GENGUARD_API_TOKEN).")
  String token;

  /** The flag that names the shared data folder here ({@code train}'s is {@code --data-dir}). */
  private static final String SHARED_DATA = "--shared-data";

  @Option(
      names = SHARED_DATA,
      paramLabel = "DIR",
      description =
          "Folder holding bold/ and holistic_bias/ (default: GENGUARD_DATA_DIR, else"
              + " ../shared/data next to the repository).")
  String sharedData;

  @Option(
      names = "--max-samples",
      paramLabel = "N",
      description = "Largest campaign allowed (default: GENGUARD_BIAS_MAX_SAMPLES or 20000).")
  Integer maxSamples;

  @Option(
      names = "--backends",
      paramLabel = "LIST",
      description =
          "Backends and models the stack serves, backend[:model|model],... (default:"
              + " GENGUARD_BIAS_BACKENDS or "
              + ModelCatalog.DEFAULT
              + ").")
  String backends;

  @Mixin AuditStoreOptions store;

  @Override
  public Integer call() throws Exception {
    // A new campaign submits every sample once: the flags would silently do nothing.
    if (which.file != null && (resubmitPending || resubmitUnscored)) {
      throw new IllegalArgumentException(
          (resubmitPending ? "--resubmit-pending" : "--resubmit-unscored")
              + " goes with --resume ID (a campaign already started); --file starts a new one,"
              + " which submits every sample once");
    }
    // Before the file is read or anything is submitted: a negative wait would silently not wait.
    if (waitSeconds < 0) {
      throw new IllegalArgumentException(
          "--wait "
              + waitSeconds
              + " is negative; give the seconds to wait for every sample's verdict, or 0 (the"
              + " default) not to wait");
    }
    CampaignLimits limits = CampaignLimits.fromEnvironment(System.getenv());
    if (maxSamples != null) {
      limits = limits.withMaxSamples(maxSamples);
    }
    if (backends != null) {
      limits = limits.withCatalog(ModelCatalog.parse(backends));
    }
    CampaignSpec spec = null;
    ResolvedCampaign resolved = null;
    String source = null;
    CampaignResolver resolver =
        new CampaignResolver(() -> DataDirectory.resolve(sharedData, SHARED_DATA));
    if (sharedData != null && !sharedData.isBlank()) {
      // The folder the user named, refused as the flag it is even where the campaign reads no
      // shared data (before, a missing one failed the run, exit 1, naming --data-dir).
      try {
        DataDirectory.resolve(sharedData, SHARED_DATA);
      } catch (DataDirectory.UnusableDataDirectoryException e) {
        return unusable(e);
      }
    }
    if (which.file != null) {
      // Parse and resolve before connecting anywhere: a bad file (missing, a folder or unreadable
      // too, as the template file it names), or one the shared data refuse, is refused even with
      // no stack running, and a shared data file that cannot be read or is not JSON fails the run
      // (exit 1) before anything else is tried.
      try {
        // Read once: the text kept with the campaign is the text that was parsed.
        source = CampaignSpecParser.text(which.file);
        spec = CampaignSpecParser.parse(which.file, source);
        resolved = resolver.resolve(spec, limits);
      } catch (InvalidCampaignException e) {
        return refused(e);
      } catch (DataDirectory.UnusableDataDirectoryException e) {
        return unusable(e);
      } catch (UnreadableSharedDataException e) {
        Progress.say("campaign not started, nothing was submitted: " + e.getMessage());
        return CommandLine.ExitCode.SOFTWARE;
      }
    }
    try (AuditDatabase db = store.connect(false)) {
      BiasAuditDatabase.migrate(db.dataSource());
      HttpApiSubmitter submitter =
          new HttpApiSubmitter(URI.create(api), Optional.ofNullable(token));
      CampaignRepository campaigns = new CampaignRepository(db.dataSource());
      CampaignRunner runner =
          new CampaignRunner(
              campaigns,
              new AuditStoreReader(db.dataSource()),
              submitter,
              resolver,
              limits,
              Clock.systemUTC(),
              new CampaignRunner.Listener() {
                @Override
                public void submitted(String campaignId, int done, int total) {
                  progress(campaignId, done, total);
                }

                @Override
                public void beforeSubmitting(String campaignId) {
                  register(db, campaigns, campaignId);
                }
              });
      if (spec != null && spec.id() != null) {
        // Before the plan is stored: an id the audit service lists under another tenant would
        // take the id for a campaign whose requests the API refuses.
        try {
          new AuditStorePublisher(db.dataSource(), "genguard audit campaign")
              .listedFor(spec.id(), spec.target().tenant());
        } catch (IllegalStateException e) {
          Progress.say("campaign refused, nothing was submitted: " + e.getMessage());
          return 1;
        }
      }
      CampaignRunner.Submitted submitted;
      try {
        submitted =
            resolved != null
                ? runner.start(resolved, source)
                : runner.resume(which.resume, resubmitPending, resubmitUnscored);
      } catch (CampaignInterruptedException e) {
        System.out.println(e.campaignId());
        Progress.say(e.getMessage());
        return 3;
      }
      System.out.println(submitted.campaignId());
      Progress.say(
          "campaign "
              + submitted.campaignId()
              + ": "
              + submitted.planned()
              + " samples planned, "
              + submitted.submittedNow()
              + " submitted now"
              + (submitted.reconciled() > 0
                  ? ", " + submitted.reconciled() + " recovered from the audit store"
                  : "")
              + ". Report: ./genguard audit report "
              + submitted.campaignId()
              + " --format html --out report.html");
      if (waitSeconds > 0) {
        return await(runner, submitted.campaignId());
      }
      return 0;
    } catch (InvalidCampaignException e) {
      return refused(e);
    } catch (SubmissionException e) {
      Progress.say("nothing more was submitted: " + e.getMessage());
      return 2;
    }
  }

  /**
   * A campaign the file or its resolution refuses (the campaign or template file missing, a folder
   * or unreadable, its form, keys, values, groups, size, backend, shared data files it names that
   * the folder does not have): bad input, so a usage error (exit 2) as for every command's file
   * (verify-evidence's {@code --in}, a {@code --policy}), with the message naming the file and the
   * place in it. Nothing was submitted. A shared data file that is there but cannot be read or is
   * not JSON is not the user's input: exit 1.
   */
  private static int refused(InvalidCampaignException e) {
    Progress.say("campaign refused, nothing was submitted: " + e.getMessage());
    return CommandLine.ExitCode.USAGE;
  }

  /**
   * The shared data folder ({@code --shared-data}, {@code GENGUARD_DATA_DIR} or the default) is
   * missing, not a folder or cannot be read: a usage error (exit 2) in one line naming where it
   * came from, as {@code quality}'s and {@code train}'s {@code --data-dir}. Nothing was submitted.
   */
  private static int unusable(DataDirectory.UnusableDataDirectoryException e) {
    Progress.say("campaign refused, nothing was submitted: " + e.getMessage());
    return CommandLine.ExitCode.USAGE;
  }

  /**
   * Registers the campaign with the audit service before its requests are submitted: the API
   * accepts campaign attributes only for a campaign of the request's tenant that it lists.
   */
  private static void register(AuditDatabase db, CampaignRepository campaigns, String id) {
    try {
      new AuditStorePublisher(db.dataSource(), "genguard audit campaign")
          .openForSubmitting(campaigns.find(id).orElseThrow());
    } catch (SQLException e) {
      throw new IllegalStateException(
          "the audit service's store could not register the campaign (" + e.getMessage() + ")", e);
    }
  }

  private int await(CampaignRunner runner, String campaignId) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
    CampaignProgress progress = runner.progress(campaignId);
    while (!progress.settled() && System.nanoTime() < deadline) {
      Thread.sleep(2000);
      progress = runner.progress(campaignId);
    }
    Progress.say(
        "campaign "
            + campaignId
            + ": "
            + progress.judged()
            + " of "
            + progress.planned()
            + " judged"
            + (progress.missing().isEmpty()
                ? ""
                : "; missing: ./genguard audit status " + campaignId));
    return progress.complete() ? 0 : 4;
  }

  private static void progress(String campaignId, int done, int total) {
    if (done == total || done % Math.max(1, total / 10) == 0) {
      Progress.say("campaign " + campaignId + ": submitted " + done + " of " + total);
    }
  }
}
