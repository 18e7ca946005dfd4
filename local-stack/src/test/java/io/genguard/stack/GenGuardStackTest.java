package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.AuditConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GenGuardStackTest {
  @Test
  void shouldKeepTheStacksOwnDatabaseAndPortWhateverTheAuditKeysInTheShellSay() {
    AuditConfig base = AuditConfig.of("jdbc:postgresql://127.0.0.1:5433/genguard", "u", "p", 18080);
    Map<String, String> shell =
        Map.of(
            AuditConfig.JDBC_URL, "jdbc:postgresql://prod-db:5432/genguard",
            AuditConfig.JDBC_USER, "prod",
            AuditConfig.JDBC_PASSWORD, "prod-secret",
            AuditConfig.HTTP_PORT, "9000",
            AuditConfig.REVIEW_CLAIM_MINUTES, "5");

    AuditConfig config = AuditConfig.fromEnvironment(GenGuardStack.auditEnvironment(shell), base);

    assertThat(config.jdbcUrl()).isEqualTo(base.jdbcUrl());
    assertThat(config.jdbcUser()).isEqualTo("u");
    assertThat(config.jdbcPassword()).isEqualTo("p");
    assertThat(config.httpPort()).as("--http-port wins").isEqualTo(18080);
    assertThat(config.reviewClaimMinutes()).as("tuning keys still apply").isEqualTo(5);
  }
}
