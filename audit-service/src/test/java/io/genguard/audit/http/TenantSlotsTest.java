package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import org.junit.jupiter.api.Test;

class TenantSlotsTest {
  private final Caller acme = new Caller("t1", "rita", Role.REVIEWER, "acme");
  private final Caller acmeToo = new Caller("t2", "carl", Role.COMPLIANCE, "acme");
  private final Caller globex = new Caller("t3", "greg", Role.REVIEWER, "globex");
  private final Caller operator = new Caller("t4", "cora", Role.COMPLIANCE, null);
  private final Caller operatorToo = new Caller("t5", "otto", Role.ADMIN, null);

  @Test
  void shouldGiveEachTenantItsShareWhateverItsTokensAndTheGlobalTokensOneTogether() {
    TenantSlots slots = new TenantSlots(2);
    assertThat(slots.share()).isEqualTo(2);
    assertThat(slots.tryTake(acme)).isTrue();
    assertThat(slots.tryTake(acmeToo)).isTrue();
    assertThat(slots.tryTake(acme)).as("acme's two tokens hold its share").isFalse();
    assertThat(slots.tryTake(globex)).as("another tenant's share is its own").isTrue();
    assertThat(slots.tryTake(operator)).isTrue();
    assertThat(slots.tryTake(operatorToo)).isTrue();
    assertThat(slots.tryTake(operator)).as("global tokens share one").isFalse();

    slots.giveBack(acmeToo);
    assertThat(slots.tryTake(acme)).isTrue();
    assertThat(slots.tryTake(acme)).isFalse();
  }

  @Test
  void shouldRefuseAShareBelowOne() {
    assertThatThrownBy(() -> new TenantSlots(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
