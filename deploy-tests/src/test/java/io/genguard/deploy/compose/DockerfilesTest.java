package io.genguard.deploy.compose;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The images docker-compose.yml builds: every Dockerfile and target it names exists, builds in
 * stages (the JDK and Maven stay out of the runtime image), pins its base images and runs as an
 * unprivileged user. The builds themselves run only where Docker exists (ComposeSmokeITCase).
 */
class DockerfilesTest {
  private final ComposeFile compose = ComposeFile.read();

  @Test
  void shouldBuildEveryComposeImageFromADockerfileAndTargetThatExist() throws IOException {
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      JsonNode build = compose.services().path(name).path("build");
      if (build.isMissingNode()) {
        continue;
      }
      Path dockerfile =
          RepositoryFiles.root()
              .resolve(build.path("context").asText("."))
              .resolve(build.path("dockerfile").asText("Dockerfile"));
      if (!Files.isRegularFile(dockerfile)) {
        problems.add(name + ": " + dockerfile + " does not exist");
        continue;
      }
      String target = build.path("target").asText("");
      if (!target.isEmpty()
          && !Files.readString(dockerfile)
              .toLowerCase(Locale.ROOT)
              .contains(" as " + target + "\n")) {
        problems.add(name + ": " + dockerfile.getFileName() + " has no stage '" + target + "'");
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void shouldBuildInStagesFromPinnedImagesAndRunUnprivileged() throws IOException {
    for (String file : List.of("docker/services.Dockerfile", "docker/flink-jobs.Dockerfile")) {
      List<String> lines =
          Files.readAllLines(RepositoryFiles.resolve(file)).stream()
              .map(String::trim)
              .filter(line -> !line.startsWith("#"))
              .toList();
      List<String> froms = lines.stream().filter(line -> line.startsWith("FROM ")).toList();
      assertThat(froms).as(file + " is multi-stage").hasSizeGreaterThanOrEqualTo(2);
      for (String from : froms) {
        String image = from.split("\\s+")[1];
        boolean stage = lines.stream().anyMatch(line -> line.matches("FROM \\S+ AS " + image));
        assertThat(stage || (image.contains(":") && !image.endsWith(":latest")))
            .as(file + ": " + from + " names a pinned image or an earlier stage")
            .isTrue();
      }
      String lastUser =
          lines.stream()
              .filter(line -> line.startsWith("USER "))
              .reduce((a, b) -> b)
              .orElse("USER root");
      assertThat(lastUser)
          .as(file + " runs unprivileged")
          .isNotIn("USER root", "USER 0", "USER 0:0");
      assertThat(lines)
          .as(file + " fetches nothing unverified at build time")
          .noneMatch(line -> line.startsWith("ADD http"));
    }
  }

  @Test
  void shouldShipTheSubmitScriptTheFlinkJobsServiceRuns() throws IOException {
    String command = compose.services().path("flink-jobs").path("command").get(0).asText();
    assertThat(command).isEqualTo("/opt/genguard/submit-jobs.sh");
    assertThat(Files.readString(RepositoryFiles.resolve("docker/flink-jobs.Dockerfile")))
        .contains("docker/flink/submit-jobs.sh /opt/genguard/submit-jobs.sh");
    String script = Files.readString(RepositoryFiles.resolve("docker/flink/submit-jobs.sh"));
    assertThat(script)
        .contains("io.genguard.jobs.ModerationJobMain")
        .contains("io.genguard.bias.job.BiasAggregationJob")
        .contains("GENGUARD_FLINK_SAVEPOINT_MODERATION")
        .contains("GENGUARD_FLINK_SAVEPOINT_BIAS");
  }

  @Test
  void shouldKeepBuildOutputAndSecretsOutOfTheBuildContext() throws IOException {
    assertThat(Files.readAllLines(RepositoryFiles.resolve(".dockerignore")))
        .contains(".git", "**/target", ".env");
  }
}
