package io.genguard.deploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.genguard.deploy.RepositoryFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code genguard} wrapper rebuilds exactly when the classpath it would run is not this
 * checkout's current build. Runs the real script in a copy of the repository's layout, with a
 * {@code mvn} that records that it was called (and writes the classpath a reactor build writes) and
 * a {@code java} that does nothing.
 */
class GenGuardScriptTest {
  private static final Instant BUILT = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path checkout;
  @TempDir Path tools;
  private Path mvnCalls;
  private Path classpathFile;
  private Path moduleJar;
  private Path source;

  @BeforeEach
  void layout() throws IOException {
    Files.copy(RepositoryFiles.resolve("genguard"), checkout.resolve("genguard"));
    executable(checkout.resolve("genguard"));
    Path target = Files.createDirectories(checkout.resolve("local-stack/target"));
    Files.writeString(target.resolve("local-stack-0.1.0-SNAPSHOT.jar"), "jar");
    moduleJar =
        Files.createDirectories(checkout.resolve("schemas/target"))
            .resolve("schemas-0.1.0-SNAPSHOT.jar");
    Files.writeString(moduleJar, "jar");
    source = Files.createDirectories(checkout.resolve("schemas/src/main/java")).resolve("A.java");
    Files.writeString(source, "class A {}");
    Files.writeString(checkout.resolve("pom.xml"), "<project/>");
    classpathFile = target.resolve("classpath.txt");
    String reactorClasspath = moduleJar + ":/repo/org/slf4j/slf4j-api.jar";
    Files.writeString(classpathFile, reactorClasspath);
    mvnCalls = tools.resolve("mvn-calls");
    Files.writeString(
        tools.resolve("mvn"),
        "#!/usr/bin/env bash\necho called >> '"
            + mvnCalls
            + "'\nprintf '%s' '"
            + reactorClasspath
            + "' > '"
            + classpathFile
            + "'\n");
    Files.writeString(tools.resolve("java"), "#!/usr/bin/env bash\nexit 0\n");
    executable(tools.resolve("mvn"));
    executable(tools.resolve("java"));
    for (Path built : List.of(moduleJar, classpathFile, source, checkout.resolve("pom.xml"))) {
      Files.setLastModifiedTime(built, FileTime.from(BUILT));
    }
    Files.setLastModifiedTime(
        target.resolve("local-stack-0.1.0-SNAPSHOT.jar"), FileTime.from(BUILT));
  }

  @Test
  void upToDateBuildRunsWithoutBuilding() throws Exception {
    run();
    assertThat(builds()).isZero();
  }

  @Test
  void classpathNamingInstalledCopiesOfTheProjectsJarsIsRebuilt() throws Exception {
    Files.writeString(
        classpathFile,
        "/home/u/.m2/repository/io/genguard/schemas/0.1.0-SNAPSHOT/schemas-0.1.0-SNAPSHOT.jar");
    Files.setLastModifiedTime(classpathFile, FileTime.from(BUILT.plusSeconds(60)));

    run();
    assertThat(builds()).isEqualTo(1);
    run();
    assertThat(builds()).as("the rebuilt classpath names this checkout's jars").isEqualTo(1);
  }

  @Test
  void changedSourceIsRebuiltOnceEvenWhenMavenLeavesTheClasspathFileAsItWas() throws Exception {
    Files.setLastModifiedTime(source, FileTime.from(BUILT.plusSeconds(60)));
    // A Maven that finds the classpath unchanged does not rewrite it.
    Files.writeString(
        tools.resolve("mvn"), "#!/usr/bin/env bash\necho called >> '" + mvnCalls + "'\n");

    run();
    assertThat(builds()).isEqualTo(1);
    run();
    assertThat(builds()).isEqualTo(1);
  }

  @Test
  void missingModuleJarIsRebuilt() throws Exception {
    Files.delete(moduleJar);
    run();
    assertThat(builds()).isEqualTo(1);
  }

  /**
   * Under the C locale Java decodes the arguments as ASCII: submit's prompt "crétin" reached the
   * API as "cr\uFFFD\uFFFDtin". The script runs Java under a UTF-8 locale instead.
   */
  @Test
  void javaRunsUnderAUtf8LocaleWhenTheShellIsAscii() throws Exception {
    assumeTrue(
        charmap(Map.of("LC_ALL", "C.UTF-8")).equals("UTF-8")
            || charmap(Map.of("LC_ALL", "en_US.UTF-8")).equals("UTF-8"),
        "this machine has a UTF-8 locale");
    assertThat(charmap(Map.of("LC_ALL", "C"))).isNotEqualTo("UTF-8");
    Path seen = tools.resolve("java-saw");
    Files.writeString(
        tools.resolve("java"),
        "#!/usr/bin/env bash\n{ locale charmap; printf '%s\\n' \"$@\"; } > '" + seen + "'\n");
    String prompt = "Tu es un crétin, 你好";

    run(Map.of("LC_ALL", "C"), "submit", prompt);

    List<String> lines = Files.readAllLines(seen, StandardCharsets.UTF_8);
    assertThat(lines.get(0)).as("the locale java runs under").isEqualTo("UTF-8");
    assertThat(lines).contains(prompt);
  }

  /**
   * A build replaced the jars in place under a running ./genguard (its next class load failed with
   * NoClassDefFoundError): while one runs, a run that would build refuses, naming the way out, and
   * GENGUARD_NO_BUILD=1 runs the jars as they are. Once it stops, the build goes ahead.
   */
  @Test
  void changedSourceIsNotBuiltWhileAnotherRunUsesTheJars() throws Exception {
    assumeTrue(onPath("flock"), "flock(1) is installed");
    Path started = tools.resolve("started");
    Path stop = tools.resolve("stop");
    // A java that, for "demo", runs until told to stop.
    Files.writeString(
        tools.resolve("java"),
        "#!/usr/bin/env bash\nfor arg; do if [[ $arg == demo ]]; then touch '"
            + started
            + "'; while [[ ! -e '"
            + stop
            + "' ]]; do sleep 0.1; done; fi; done\nexit 0\n");
    Process running = start(Map.of(), "demo");
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!Files.exists(started) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(started).exists();
      Files.setLastModifiedTime(source, FileTime.from(BUILT.plusSeconds(60)));

      Result refused = result(Map.of(), "--help");
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.output())
          .contains("another ./genguard runs from this checkout's jars")
          .contains("GENGUARD_NO_BUILD=1");
      assertThat(builds()).as("no build under the running one").isZero();

      assertThat(result(Map.of("GENGUARD_NO_BUILD", "1"), "--help").exit()).isZero();
      assertThat(builds()).isZero();
    } finally {
      Files.writeString(stop, "");
      assertThat(running.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(running.exitValue()).isZero();

    run();
    assertThat(builds()).as("built once the other run stopped").isEqualTo(1);
  }

  private void run() throws Exception {
    run(Map.of(), "--help");
  }

  private void run(Map<String, String> variables, String... args) throws Exception {
    Result result = result(variables, args);
    assertThat(result.exit()).as(result.output()).isZero();
  }

  private record Result(int exit, String output) {}

  private Result result(Map<String, String> variables, String... args) throws Exception {
    Process process = start(variables, args);
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(process.exitValue(), output);
  }

  private Process start(Map<String, String> variables, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("bash", checkout.resolve("genguard").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("PATH", tools + ":" + System.getenv("PATH"));
    if (variables.containsKey("LC_ALL")) {
      builder.environment().remove("LANG");
    }
    builder.environment().putAll(variables);
    return builder.start();
  }

  private static boolean onPath(String program) {
    return Stream.of(System.getenv("PATH").split(":"))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
  }

  /** The charset of a locale on this machine, as {@code locale charmap} names it. */
  private static String charmap(Map<String, String> variables) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder("locale", "charmap").redirectError(ProcessBuilder.Redirect.DISCARD);
    builder.environment().remove("LANG");
    builder.environment().putAll(variables);
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return out.trim();
  }

  private long builds() throws IOException {
    return Files.exists(mvnCalls) ? Files.readAllLines(mvnCalls).size() : 0;
  }

  private static void executable(Path file) throws IOException {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
