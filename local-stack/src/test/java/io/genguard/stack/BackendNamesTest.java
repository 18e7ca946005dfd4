package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.generator.echo.EchoBackend;
import io.genguard.moderation.policy.Policy;
import org.junit.jupiter.api.Test;

/**
 * Names the moderation job reads from a generator's events, kept as copies because the job does not
 * depend on the generator: where both modules meet, they must be the same.
 */
class BackendNamesTest {
  @Test
  void shouldHoldTheEchoBackendByTheNameTheGeneratorSigns() {
    // A rename on one side only would let every echo output past `manifestEchoed`.
    assertThat(Policy.Provenance.ECHO_BACKEND).isEqualTo(EchoBackend.NAME);
  }
}
