package io.genguard.audit.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CallerTest {

  @Test
  void shouldConfineATenantTokenToItsTenant() {
    Caller reviewer = new Caller("abc", "rita", Role.REVIEWER, "acme");

    assertThat(reviewer.canSee("acme")).isTrue();
    assertThat(reviewer.canSee("globex")).isFalse();
    assertThat(reviewer.canSee(null)).isFalse();
    assertThat(reviewer.scope(null)).isEqualTo("acme");
    assertThat(reviewer.scope("acme")).isEqualTo("acme");
    assertThatThrownBy(() -> reviewer.scope("globex"))
        .isInstanceOf(ForbiddenException.class)
        .hasMessageContaining("tenant 'acme' and may not read tenant 'globex'");
  }

  @Test
  void shouldLetAGlobalTokenChooseAnyTenantOrAll() {
    Caller compliance = new Caller("def", "carl", Role.COMPLIANCE, null);

    assertThat(compliance.canSee("globex")).isTrue();
    assertThat(compliance.scope(null)).isNull();
    assertThat(compliance.scope("globex")).isEqualTo("globex");
  }

  @Test
  void shouldRefuseGlobalSubmitterAndReviewerTokens() {
    assertThatThrownBy(() -> new Caller("x", "s", Role.SUBMITTER, null))
        .hasMessageContaining("must be bound to a tenant");
    assertThatThrownBy(() -> new Caller("x", "r", Role.REVIEWER, null))
        .hasMessageContaining("must be bound to a tenant");
  }

  @Test
  void shouldParseRolesCaseInsensitivelyAndListTheValidOnes() {
    assertThat(Role.parse(" Reviewer ")).isEqualTo(Role.REVIEWER);
    assertThatThrownBy(() -> Role.parse("root"))
        .hasMessage("Unknown role 'root'; use one of submitter, reviewer," + " compliance, admin");
  }
}
