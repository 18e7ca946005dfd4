package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which requests a worker pool answers when pools split the backends between them. */
class PoolRoutingTest {
  private static GenerationRequest naming(String backend) {
    return GenerationRequest.newBuilder()
        .setEventId("evt-r")
        .setRequestId("r")
        .setTenantId("tenant-1")
        .setPrompt("a prompt")
        .setBackend(backend)
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(16)
                .setTemperature(0.8)
                .setTopK(0)
                .setTopP(1.0)
                .build())
        .setSubmittedAt(Instant.parse("2026-12-05T00:00:00Z"))
        .build();
  }

  @Test
  void shouldGiveEachRequestToExactlyOneOfAMainPoolAndAGpuPool() {
    PoolRouting main = PoolRouting.parse(null, "djl");
    PoolRouting gpu = PoolRouting.parse("djl", "");

    for (String backend : new String[] {null, "builtin", "echo", "openai", "djl", "no-such"}) {
      GenerationRequest request = naming(backend);
      assertThat(main.answers(request) ^ gpu.answers(request))
          .as("answered by exactly one pool: backend %s", backend)
          .isTrue();
    }
    assertThat(gpu.answers(naming("djl"))).isTrue();
    assertThat(main.answers(naming(null))).as("no backend: the main pool's default").isTrue();
    assertThat(PoolRouting.ALL.answers(naming("djl"))).isTrue();
  }

  @Test
  void shouldRefuseUnknownBackendsAndBothSettingsTogether() {
    assertThatThrownBy(() -> PoolRouting.parse("djl, gpt-9", null))
        .hasMessage(
            "GENGUARD_GENERATOR_ONLY_BACKENDS names 'gpt-9', which is not a backend; known"
                + " backends are [builtin, echo, openai, djl]");
    assertThatThrownBy(() -> PoolRouting.parse("djl", "openai"))
        .hasMessageContaining("GENGUARD_GENERATOR_ONLY_BACKENDS and")
        .hasMessageContaining("exclude each other");
    assertThat(PoolRouting.parse(" djl , ,openai ", null).onlyBackends())
        .containsExactlyInAnyOrder("djl", "openai");
  }

  @Test
  void shouldReadTheSettingsAndGiveAPoolOfSomeBackendsAGroupOfItsOwn() {
    GeneratorConfig gpu =
        GeneratorConfig.fromEnvironment(
            Map.of("GENGUARD_GENERATOR_ONLY_BACKENDS", "djl"), Path.of("target", "unused"));
    GeneratorConfig main =
        GeneratorConfig.fromEnvironment(
            Map.of("GENGUARD_GENERATOR_LEAVE_BACKENDS", "djl"), Path.of("target", "unused"));

    assertThat(gpu.routing().onlyBackends()).containsExactly("djl");
    assertThat(main.routing().leftBackends()).containsExactly("djl");
    assertThat(gpu.routing().readingGroup(gpu.consumerGroup()))
        .isEqualTo("genguard-generator-only-djl")
        .as("the group the main pool hands over to")
        .isEqualTo(PoolRouting.sideGroup(main.consumerGroup(), main.routing().leftBackends()));
    assertThat(main.routing().readingGroup(main.consumerGroup())).isEqualTo("genguard-generator");
    assertThat(PoolRouting.sideGroup("g", java.util.Set.of("openai", "djl")))
        .isEqualTo("g-only-djl-openai");
  }
}
