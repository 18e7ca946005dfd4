package io.genguard.moderation.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyReloaderTest {
  @TempDir Path dir;

  @Test
  void shouldKeepTheRunningPolicyWhenTheNewFileIsInvalid() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = new PolicyReloader(file);
    write(
        PolicyFixtures.POLICY
            .replace("version: \"7\"", "version: \"8\"")
            .replace("block: 0.90}", "block: 9}"),
        2);

    PolicyReloader.Result result = reloader.reloadIfChanged();

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error()).contains("at line 5").contains("thresholds are probabilities");
    assertThat(reloader.get().version()).isEqualTo("7");
    assertThat(reloader.lastError()).isEqualTo(result.error());
  }

  @Test
  void shouldPutAValidNewVersionInForce() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = new PolicyReloader(file);
    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.UNCHANGED);
    write(PolicyFixtures.POLICY.replace("version: \"7\"", "version: \"8\""), 2);

    assertThat(reloader.reloadIfChanged().outcome()).isEqualTo(PolicyReloader.Outcome.RELOADED);
    assertThat(reloader.get().version()).isEqualTo("8");
    assertThat(reloader.lastError()).isNull();
  }

  @Test
  void shouldRefuseChangedRulesThatKeepTheOldVersion() throws Exception {
    Path file = write(PolicyFixtures.POLICY, 1);
    PolicyReloader reloader = new PolicyReloader(file);
    write(
        PolicyFixtures.POLICY.replace("review: 0.20, block: 0.60", "review: 0.10, block: 0.60"), 2);

    PolicyReloader.Result result = reloader.reloadIfChanged();

    assertThat(result.outcome()).isEqualTo(PolicyReloader.Outcome.REJECTED);
    assertThat(result.error()).contains("still says version '7'");
    assertThat(reloader.get().defaultPolicy().categories().values())
        .extracting(Thresholds::review)
        .doesNotContain(0.10);
  }

  private Path write(String yaml, int second) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, yaml);
    Files.setLastModifiedTime(
        file, FileTime.from(Instant.parse("2026-01-01T00:00:00Z").plusSeconds(second)));
    return file;
  }
}
