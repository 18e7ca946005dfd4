package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** A command that fails ends with exit code 1 and one line, whatever it threw. */
class GenGuardCliTest {
  @Command(name = "fails")
  static final class Fails implements Runnable {
    private final Throwable error;

    Fails(Throwable error) {
      this.error = error;
    }

    @Override
    public void run() {
      if (error instanceof Error e) {
        throw e;
      }
      throw (RuntimeException) error;
    }
  }

  /**
   * picocli throws an Error on instead of handing it to the exception handler: main then never
   * reached System.exit, and a JVM with a stack's threads running stayed up.
   */
  @Test
  void anErrorEndsWithExitCodeOneAndOneLine() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine commandLine = new CommandLine(new Fails(new NoClassDefFoundError("io/genguard/X")));
    commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));

    int code = GenGuardCli.execute(commandLine, new String[0]);

    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("genguard: NoClassDefFoundError: io/genguard/X\n");
  }

  @Test
  void anExceptionEndsWithExitCodeOneAndOneLine() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine commandLine = new CommandLine(new Fails(new IllegalStateException("no broker")));
    commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));

    assertThat(GenGuardCli.execute(commandLine, new String[0])).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("genguard: no broker\n");
  }
}
