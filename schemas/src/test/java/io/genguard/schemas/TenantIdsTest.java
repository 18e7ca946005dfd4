package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TenantIdsTest {
  @Test
  void shouldAcceptLettersDigitsDotsUnderscoresAndHyphensUpTo64() {
    assertThat(TenantIds.isValid("default")).isTrue();
    assertThat(TenantIds.isValid("kids-edu")).isTrue();
    assertThat(TenantIds.isValid("Acme_2.eu")).isTrue();
    assertThat(TenantIds.isValid("a".repeat(64))).isTrue();
  }

  @Test
  void shouldRefuseEverythingElse() {
    assertThat(TenantIds.isValid(null)).isFalse();
    assertThat(TenantIds.isValid("")).isFalse();
    assertThat(TenantIds.isValid("a".repeat(65))).isFalse();
    assertThat(TenantIds.isValid("-leading-hyphen")).isFalse();
    assertThat(TenantIds.isValid(".hidden")).isFalse();
    assertThat(TenantIds.isValid("a b")).isFalse();
    assertThat(TenantIds.isValid("a/../b")).isFalse();
    assertThat(TenantIds.isValid("tenant\n")).isFalse();
    assertThat(TenantIds.isValid("t\u00e9nant")).isFalse();
    assertThat(TenantIds.isValid("a;drop")).isFalse();
  }
}
