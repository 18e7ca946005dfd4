package io.genguard.generator.echo;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.SamplingSettings;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class EchoBackendTest {
  private final EchoBackend backend = new EchoBackend();

  @Test
  void shouldReturnThePromptUnchangedWithoutWatermark() {
    BackendRequest request =
        new BackendRequest(
            "r1",
            "Text produced elsewhere, to be gated.",
            null,
            new SamplingSettings(40, 1.0, 0, 1.0, 7L),
            Instant.now().plusSeconds(5));
    List<BackendOutcome> outcomes = backend.generate(List.of(request));
    assertThat(outcomes)
        .singleElement()
        .isInstanceOfSatisfying(
            BackendOutcome.Generated.class,
            generated -> {
              assertThat(generated.generation().text())
                  .isEqualTo("Text produced elsewhere, to be gated.");
              assertThat(generated.generation().watermark()).isNull();
              assertThat(generated.generation().outputTokens()).isPositive();
            });
    assertThat(backend.embedsWatermark()).isFalse();
  }

  @Test
  void shouldServeOnlyItsOwnModel() {
    assertThat(backend.serves(null)).isTrue();
    assertThat(backend.serves("echo")).isTrue();
    assertThat(backend.serves("gpt-2")).isFalse();
  }
}
