package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.query.AuditQueries.Completeness;
import org.junit.jupiter.api.Test;

/**
 * What a demo that keeps serving says of its workload: it said "settled" after a timeout, and never
 * checked the invariant that {@code --exit} checks.
 */
class DemoOutcomeTest {
  @Test
  void shouldSaySettledAndCheckedOnlyWhenTheWorkloadSettledAndTheInvariantHolds() {
    Completeness whole = new Completeness(2, 2, 2, 2, 0, 2, 2, 1, 1, 0, 2, 0, 0);
    assertThat(DemoCommand.demoOutcome(whole, 3.04))
        .isEqualTo("Demo workload settled in 3.0 s; every request checked.");

    Completeness unfinished = new Completeness(2, 2, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0);
    assertThat(unfinished.settled()).isFalse();
    assertThat(DemoCommand.demoOutcome(unfinished, 600.0))
        .startsWith("Demo workload not settled after 600.0 s");

    // Settled by its counts, but one output went through without a verdict of its own.
    Completeness broken = new Completeness(2, 2, 2, 2, 0, 2, 1, 1, 1, 0, 2, 0, 0);
    assertThat(broken.settled()).isTrue();
    assertThat(DemoCommand.demoOutcome(broken, 5.0))
        .contains("NOT every request has exactly one output or failure")
        .contains("\"verdicts\":2");
  }
}
