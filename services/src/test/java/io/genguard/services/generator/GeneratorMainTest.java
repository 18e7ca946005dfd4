package io.genguard.services.generator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class GeneratorMainTest {

  @Test
  void shouldNameEachReplicaAfterItsHostWhenNoInstanceIdIsConfigured() {
    assertThat(GeneratorMain.withInstanceId(Map.of("HOSTNAME", "a1b2c3")))
        .containsEntry("GENGUARD_GENERATOR_INSTANCE_ID", "a1b2c3");
  }

  @Test
  void shouldKeepAConfiguredInstanceId() {
    assertThat(
            GeneratorMain.withInstanceId(
                Map.of("HOSTNAME", "a1b2c3", "GENGUARD_GENERATOR_INSTANCE_ID", "gpu")))
        .containsEntry("GENGUARD_GENERATOR_INSTANCE_ID", "gpu");
  }
}
