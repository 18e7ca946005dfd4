package io.genguard.stack.cli;

import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** A CLI command run as {@code ./genguard} runs it: exit code, stdout and stderr. */
record CommandRun(int code, String out, String err) {
  /**
   * Runs {@code command} with {@code args} through the CLI's own {@link GenGuardCli#execute}: a
   * usage error, whether picocli finds it or the command's own checks (an
   * IllegalArgumentException), exits 2; any other failure of the command is one line on stderr and
   * exits 1, as {@code ./genguard} does.
   */
  static CommandRun of(Object command, String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      CommandLine commandLine = new CommandLine(command);
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
      int code = GenGuardCli.execute(commandLine, args);
      return new CommandRun(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
  }

  /** {@code more} after the flags that name the test database. */
  static String[] withDatabase(IntegrationInfrastructure infra, String jdbcUrl, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--jdbc-url",
                jdbcUrl,
                "--jdbc-user",
                infra.jdbcUser(),
                "--jdbc-password=" + infra.jdbcPassword()));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }
}
