package io.genguard.services.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.provenance.ProvenanceKeys;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateKeysMainTest {

  @Test
  void shouldPrintKeysTheServicesAcceptFromTheirEnvironment(@TempDir Path unusedKeyDirectory) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    GenerateKeysMain.print(new PrintStream(buffer, true, StandardCharsets.UTF_8), "2026-11");

    Map<String, String> env = new HashMap<>();
    for (String line : buffer.toString(StandardCharsets.UTF_8).split("\n")) {
      if (!line.startsWith("#") && line.contains("=")) {
        env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
      }
    }
    ProvenanceKeys keys = ProvenanceKeys.fromEnvironmentOrDirectory(env, unusedKeyDirectory);

    assertThat(env)
        .containsOnlyKeys(
            "GENGUARD_WATERMARK_KEYS", "GENGUARD_SIGNING_KEYS", "GENGUARD_VERIFICATION_KEYS");
    assertThat(keys.watermark().active().id()).isEqualTo("wm-2026-11");
    assertThat(keys.signing().toString()).contains("sign-2026-11");
    assertThat(env.get("GENGUARD_VERIFICATION_KEYS")).startsWith("sign-2026-11:");
    assertThat(unusedKeyDirectory.toFile().list()).as("nothing fell back to key files").isEmpty();
  }

  @Test
  void shouldRefuseAKeyIdSuffixThatWouldBreakTheListFormat() {
    assertThatThrownBy(
            () -> GenerateKeysMain.print(new PrintStream(new ByteArrayOutputStream()), "a,b:c"))
        .hasMessageContaining("key id suffix 'a,b:c'");
  }
}
