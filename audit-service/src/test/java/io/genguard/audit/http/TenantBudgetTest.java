package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.testsupport.MovingClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TenantBudgetTest {
  private final MovingClock clock = new MovingClock(Instant.parse("2026-12-06T12:00:00Z"));
  private final TenantBudget budget = new TenantBudget(3, Duration.ofSeconds(2), clock);
  private final Caller acme = new Caller("t1", "rita", Role.REVIEWER, "acme");
  private final Caller acmeToo = new Caller("t2", "carl", Role.COMPLIANCE, "acme");
  private final Caller globex = new Caller("t3", "greg", Role.REVIEWER, "globex");
  private final Caller operator = new Caller("t4", "cora", Role.COMPLIANCE, null);

  @Test
  void shouldGiveEachTenantItsBurstThenOneCallPerPeriod() {
    assertThat(budget.take(acme)).isZero();
    assertThat(budget.take(acmeToo)).isZero(); // the tenant's budget, whichever of its tokens
    assertThat(budget.take(acme)).isZero();
    assertThat(budget.take(acme)).isEqualTo(2);
    assertThat(budget.take(acmeToo)).isEqualTo(2);

    // Other tenants and the operator's staff are not held back by acme.
    for (int i = 0; i < 3; i++) {
      assertThat(budget.take(globex)).isZero();
      assertThat(budget.take(operator)).isZero();
    }
    assertThat(budget.take(globex)).isEqualTo(2);
    assertThat(budget.take(operator)).isEqualTo(2);

    clock.advance(Duration.ofMillis(1500));
    assertThat(budget.take(acme)).isEqualTo(1);
    clock.advance(Duration.ofMillis(500));
    assertThat(budget.take(acme)).isZero();
    assertThat(budget.take(acme)).isEqualTo(2);

    // A long pause refills up to the burst, no more.
    clock.advance(Duration.ofMinutes(10));
    for (int i = 0; i < 3; i++) {
      assertThat(budget.take(acme)).isZero();
    }
    assertThat(budget.take(acme)).isEqualTo(2);
  }

  @Test
  void shouldTakeBackACallThatRecordedNothingButNeverBeyondTheBurst() {
    for (int i = 0; i < 3; i++) {
      assertThat(budget.take(acme)).isZero();
    }
    assertThat(budget.take(acme)).isEqualTo(2);
    budget.giveBack(acme); // that call found the slot busy
    assertThat(budget.take(acmeToo)).isZero();
    assertThat(budget.take(acme)).isEqualTo(2);

    budget.giveBack(globex); // no bucket yet: nothing to give back, and no extra call
    for (int i = 0; i < 3; i++) {
      assertThat(budget.take(globex)).isZero();
      budget.giveBack(globex);
      budget.giveBack(globex);
    }
    for (int i = 0; i < 3; i++) {
      assertThat(budget.take(globex)).isZero();
    }
    assertThat(budget.take(globex)).as("never more than the burst").isEqualTo(2);
  }
}
