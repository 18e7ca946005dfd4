package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code ./genguard} refuses a misspelt GENGUARD_* variable before any command runs. */
class GenGuardCliSettingsTest {
  @Test
  void aMisspeltVariableStopsEveryCommandWithTheNameItMeant() throws Exception {
    Result result = run(Map.of("GENGUARD_HTTP_PROT", "9090"), "--version");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.output())
        .contains(
            "genguard: GENGUARD_HTTP_PROT is not a GenGuard setting"
                + " (did you mean GENGUARD_HTTP_PORT?)")
        .doesNotContain("9090")
        .doesNotContain("GenGuard 0.1.0");
  }

  @Test
  void warnModeReportsItAndRunsTheCommand() throws Exception {
    Result result =
        run(Map.of("GENGUARD_HTTP_PROT", "9090", "GENGUARD_UNKNOWN_SETTINGS", "warn"), "--version");

    assertThat(result.exitCode()).isZero();
    assertThat(result.output())
        .contains("genguard: GENGUARD_HTTP_PROT is not a GenGuard setting")
        .contains("GenGuard 0.1.0");
  }

  private record Result(int exitCode, String output) {}

  private static Result run(Map<String, String> variables, String... args)
      throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty(
                    "surefire.test.class.path", System.getProperty("java.class.path")),
                GenGuardCli.class.getName())
            .redirectErrorStream(true);
    builder.command().addAll(List.of(args));
    builder.environment().keySet().removeIf(name -> name.startsWith("GENGUARD_"));
    builder.environment().putAll(variables);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
    return new Result(process.exitValue(), output);
  }
}
