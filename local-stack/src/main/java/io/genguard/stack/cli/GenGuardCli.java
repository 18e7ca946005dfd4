package io.genguard.stack.cli;

import io.genguard.schemas.ErrorMessages;
import io.genguard.settings.KnownSettings;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code genguard} command line. */
@Command(
    name = "genguard",
    mixinStandardHelpOptions = true,
    version = "GenGuard 0.1.0",
    description =
        "Gate generative-AI output: generation on Kafka, moderation in Flink, a release gate,"
            + " audit in PostgreSQL.",
    subcommands = {
      DemoCommand.class,
      RunCommand.class,
      SubmitCommand.class,
      BenchCommand.class,
      AuditCommand.class,
      DlqCommand.class,
      PublishCommand.class,
      PassThroughCommands.Score.class,
      PassThroughCommands.Train.class,
      PassThroughCommands.Quality.class
    })
public final class GenGuardCli {
  private GenGuardCli() {}

  public static void main(String[] args) {
    // Every command reads GENGUARD_* keys (the stack commands those of all the services they run):
    // a misspelt one is refused before anything starts, or only reported with
    // GENGUARD_UNKNOWN_SETTINGS=warn.
    try {
      KnownSettings.check(System.getenv()).forEach(w -> System.err.println("genguard: " + w));
    } catch (IllegalArgumentException e) {
      System.err.println("genguard: " + e.getMessage());
      System.exit(CommandLine.ExitCode.USAGE);
    }
    configureLogging();
    System.exit(execute(new CommandLine(new GenGuardCli()), args));
  }

  /**
   * Runs a command; a failure is one line on stderr and exit code 1, or 2 (usage) where the command
   * refused what it was given (an IllegalArgumentException: its own checks of options, files and
   * settings), as for the errors picocli finds itself. That holds for an Error too
   * (OutOfMemoryError, NoClassDefFoundError), which picocli does not give to its exception handler
   * but throws: main must still reach System.exit, or the JVM stays up on the threads of a stack
   * the command started, and the stack's exit hook never stops it.
   */
  static int execute(CommandLine commandLine, String[] args) {
    commandLine.setExecutionExceptionHandler(
        (error, cmd, parsed) -> {
          cmd.getErr().println("genguard: " + ErrorMessages.oneLine(error));
          return error instanceof IllegalArgumentException
              ? CommandLine.ExitCode.USAGE
              : CommandLine.ExitCode.SOFTWARE;
        });
    try {
      return commandLine.execute(args);
    } catch (Throwable error) {
      // Named: "genguard: io/genguard/X" alone would not say that a class is missing.
      String line = ErrorMessages.oneLine(error);
      String name = error.getClass().getSimpleName();
      commandLine
          .getErr()
          .println("genguard: " + (line.startsWith(name) ? line : name + ": " + line));
      return 1;
    }
  }

  /**
   * Logs go to a file under ./target or GENGUARD_LOG_DIR; the console shows warnings and progress.
   */
  private static void configureLogging() {
    if (System.getProperty("genguard.log.dir") == null) {
      String dir =
          System.getenv()
              .getOrDefault(
                  "GENGUARD_LOG_DIR",
                  Path.of(System.getProperty("java.io.tmpdir"), "genguard-logs").toString());
      System.setProperty("genguard.log.dir", dir);
    }
  }
}
