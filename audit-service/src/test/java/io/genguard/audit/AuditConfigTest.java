package io.genguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.gate.GateTimings;
import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditConfigTest {
  private static final AuditConfig BASE =
      AuditConfig.of("jdbc:postgresql://db/genguard", "genguard", "s3cret", 8080);

  @Test
  void shouldTakeEveryKeyFromTheEnvironment() {
    AuditConfig config =
        AuditConfig.fromEnvironment(
            Map.ofEntries(
                Map.entry(AuditConfig.JDBC_URL, "jdbc:postgresql://other/db"),
                Map.entry(AuditConfig.HTTP_PORT, "9090"),
                Map.entry(AuditConfig.POOL_SIZE, "8"),
                Map.entry(AuditConfig.MAX_BODY_BYTES, "131072"),
                Map.entry(AuditConfig.MAX_EXPORT_ROWS, "500"),
                Map.entry(AuditConfig.REVIEW_CLAIM_MINUTES, "5"),
                Map.entry(AuditConfig.RETENTION_DAYS, "365"),
                Map.entry(AuditConfig.RETENTION_INTERVAL_MINUTES, "0"),
                Map.entry(AuditConfig.ANCHOR_FILE, "/var/lib/genguard/anchors.jsonl"),
                Map.entry(AuditConfig.ANCHOR_INTERVAL_SECONDS, "15"),
                Map.entry(AuditConfig.ANCHOR_SIGNING_KEY_FILE, "/var/lib/genguard/anchor-keys"),
                Map.entry(AuditConfig.ANCHOR_WITNESS_TOPIC, " prod.audit.anchors "),
                Map.entry(AuditConfig.EXPLAIN_KEY_DIR, "/var/lib/genguard/keys"),
                Map.entry(AuditConfig.EXPLAIN_POLICY_FILE, "/etc/genguard/policy.yaml"),
                Map.entry(AuditConfig.EXPLAIN_HELD_SECONDS, "30"),
                Map.entry(AuditConfig.SUBMIT_RATE, "5"),
                Map.entry(AuditConfig.SUBMIT_BURST, "20"),
                Map.entry(AuditConfig.SUBMIT_RATES, " acme=200/400 "),
                Map.entry(AuditConfig.REVIEW_EXPIRE_HOURS, "72"),
                Map.entry(AuditConfig.SUBMIT_RATE_SCOPE, " process "),
                Map.entry(AuditConfig.ANSWER_DEADLINE_MINUTES, "5"),
                Map.entry(AuditConfig.GATE_DEADLINE_MINUTES, "0"),
                Map.entry(GateTimings.DECISION_RETENTION_HOURS, "24"),
                Map.entry(AuditConfig.MAX_CONCURRENT_EXPORTS, "4"),
                Map.entry(AuditConfig.QUERY_TIMEOUT_MS, " 2500 "),
                Map.entry(AuditConfig.TENANT_MAX_CONCURRENT_QUERIES, "3"),
                Map.entry(AuditConfig.RESEND_QUIET_SECONDS, "7200")),
            BASE);

    assertThat(config.jdbcUrl()).isEqualTo("jdbc:postgresql://other/db");
    assertThat(config.httpPort()).isEqualTo(9090);
    assertThat(config.poolSize()).isEqualTo(8);
    assertThat(config.maxBodyBytes()).isEqualTo(131072);
    assertThat(config.maxExportRows()).isEqualTo(500);
    assertThat(config.reviewClaimMinutes()).isEqualTo(5);
    assertThat(config.retentionDays()).isEqualTo(365);
    assertThat(config.retentionIntervalMinutes()).isZero();
    assertThat(config.anchorFile()).isEqualTo("/var/lib/genguard/anchors.jsonl");
    assertThat(config.anchorIntervalSeconds()).isEqualTo(15);
    assertThat(config.anchorSigningKeyFile()).isEqualTo("/var/lib/genguard/anchor-keys");
    assertThat(config.anchorWitnessTopic()).isEqualTo("prod.audit.anchors");
    assertThat(config.explainKeyDirectory()).isEqualTo("/var/lib/genguard/keys");
    assertThat(config.explainPolicyFile()).isEqualTo("/etc/genguard/policy.yaml");
    assertThat(config.explainHeldSeconds()).isEqualTo(30);
    assertThat(config.submitRate()).isEqualTo(5);
    assertThat(config.submitBurst()).isEqualTo(20);
    assertThat(config.submitRates()).isEqualTo("acme=200/400");
    assertThat(config.reviewExpireHours()).isEqualTo(72);
    assertThat(config.submitRateScope()).isEqualTo("process");
    assertThat(config.flowDeadlines().answer()).hasMinutes(5);
    assertThat(config.flowDeadlines().gate()).as("not checked").isZero();
    assertThat(config.gateMemory()).hasHours(24);
    assertThat(config.maxConcurrentExports()).isEqualTo(4);
    assertThat(config.queryTimeout()).hasMillis(2500);
    assertThat(config.tenantMaxConcurrentQueries()).isEqualTo(3);
    assertThat(config.resendQuiet()).hasHours(2);
  }

  @Test
  void shouldGiveReadsTenSecondsAndEachTenantTwoAtOnceUnlessToldOtherwiseWithinTheLimits() {
    assertThat(BASE.queryTimeout()).hasSeconds(10);
    assertThat(BASE.tenantMaxConcurrentQueries()).isEqualTo(2);
    AuditConfig limits = BASE.withQueryLimits(600_000, 64);
    assertThat(limits.queryTimeout()).hasMinutes(10);
    assertThat(limits.tenantMaxConcurrentQueries()).isEqualTo(64);
    assertThat(limits.toString()).contains("queryTimeoutMs=600000, tenantMaxConcurrentQueries=64");
    Map<String, String> refused =
        Map.of(
            "0", "GENGUARD_AUDIT_QUERY_TIMEOUT_MS=0 must be at least 1",
            "-5", "GENGUARD_AUDIT_QUERY_TIMEOUT_MS=-5 must be at least 1",
            "600001", "GENGUARD_AUDIT_QUERY_TIMEOUT_MS=600001 must be at most 600000",
            "99999999999", "GENGUARD_AUDIT_QUERY_TIMEOUT_MS=99999999999 is too large",
            "10s", "GENGUARD_AUDIT_QUERY_TIMEOUT_MS='10s' is not a whole number");
    refused.forEach(
        (value, message) ->
            assertThatThrownBy(
                    () ->
                        AuditConfig.fromEnvironment(
                            Map.of(AuditConfig.QUERY_TIMEOUT_MS, value), BASE))
                .as(value)
                .hasMessage(message));
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.TENANT_MAX_CONCURRENT_QUERIES, "0"), BASE))
        .hasMessage("GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES=0 must be at least 1");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.TENANT_MAX_CONCURRENT_QUERIES, "65"), BASE))
        .hasMessage("GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES=65 must be at most 64");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.TENANT_MAX_CONCURRENT_QUERIES, "four"), BASE))
        .hasMessage("GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES='four' is not a whole number");
  }

  @Test
  void shouldQuietConflictsAnHourAfterAResendUnlessToldOtherwiseWithinTheLimits() {
    assertThat(BASE.resendQuiet()).hasHours(1);
    AuditConfig longer =
        AuditConfig.fromEnvironment(Map.of(AuditConfig.RESEND_QUIET_SECONDS, " 14400 "), BASE);
    assertThat(longer.resendQuiet()).hasHours(4);
    assertThat(longer.toString()).contains("resendQuietSeconds=14400");
    assertThat(BASE.withResendQuiet(60).resendQuiet()).hasMinutes(1);
    assertThat(BASE.withResendQuiet(604_800).resendQuiet()).hasDays(7);
    Map<String, String> refused =
        Map.of(
            "59", "GENGUARD_AUDIT_RESEND_QUIET_SECONDS=59 must be at least 60",
            "0", "GENGUARD_AUDIT_RESEND_QUIET_SECONDS=0 must be at least 60",
            "604801", "GENGUARD_AUDIT_RESEND_QUIET_SECONDS=604801 must be at most 604800",
            "1h", "GENGUARD_AUDIT_RESEND_QUIET_SECONDS='1h' is not a whole number");
    refused.forEach(
        (value, message) ->
            assertThatThrownBy(
                    () ->
                        AuditConfig.fromEnvironment(
                            Map.of(AuditConfig.RESEND_QUIET_SECONDS, value), BASE))
                .as(value)
                .hasMessage(message));
    // Read alone, as the command line's dead-letter recovery reads it: the same default, range
    // and words.
    assertThat(AuditConfig.resendQuiet(Map.<String, String>of()::get)).hasHours(1);
    assertThat(AuditConfig.resendQuiet(Map.of(AuditConfig.RESEND_QUIET_SECONDS, " ")::get))
        .hasHours(1);
    assertThat(AuditConfig.resendQuiet(Map.of(AuditConfig.RESEND_QUIET_SECONDS, " 14400 ")::get))
        .hasHours(4);
    refused.forEach(
        (value, message) ->
            assertThatThrownBy(
                    () ->
                        AuditConfig.resendQuiet(
                            Map.of(AuditConfig.RESEND_QUIET_SECONDS, value)::get))
                .as(value)
                .hasMessage(message));
  }

  @Test
  void shouldRunTwoExportsAtOnceUnlessToldOtherwiseWithinItsLimits() {
    assertThat(BASE.maxConcurrentExports()).isEqualTo(2);
    assertThat(BASE.withConcurrentExports(64).maxConcurrentExports()).isEqualTo(64);
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(Map.of(AuditConfig.MAX_CONCURRENT_EXPORTS, "0"), BASE))
        .hasMessage("GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS=0 must be at least 1");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(Map.of(AuditConfig.MAX_CONCURRENT_EXPORTS, "65"), BASE))
        .hasMessage("GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS=65 must be at most 64");
  }

  @Test
  void shouldTakeTheGatesMemoryFromTheGatesOwnKeyWithItsDefaultAndLimits() {
    assertThat(BASE.gateMemory()).isEqualTo(GateTimings.DEFAULTS.decisionRetention()).hasDays(7);
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(GateTimings.DECISION_RETENTION_HOURS, "0"), BASE))
        .hasMessage("GENGUARD_GATE_DECISION_RETENTION_HOURS=0 must be at least 1");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(GateTimings.DECISION_RETENTION_HOURS, "87841"), BASE))
        .hasMessage("GENGUARD_GATE_DECISION_RETENTION_HOURS=87841 must be at most 87840");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(GateTimings.DECISION_RETENTION_HOURS, "a week"), BASE))
        .hasMessageContaining("GENGUARD_GATE_DECISION_RETENTION_HOURS");
  }

  @Test
  void shouldRefuseAGateDeadlineTheGateCouldStillBeWaitingAt() {
    // The defaults: 15 minutes and a sweep of 7.5 leave 30 minutes room.
    assertThat(gateDeadline("900", null)).isEqualTo(30);
    assertThatThrownBy(() -> gateDeadline("3600", null))
        .hasMessage(
            "GENGUARD_AUDIT_GATE_DEADLINE_MINUTES=30 is not longer than the release gate can take"
                + " to decide an output without a verdict (GENGUARD_GATE_VERDICT_TIMEOUT_SECONDS=3600"
                + " and one sweep: 4200 s), so every such output would be reported as unfinished;"
                + " set at least 71, or 0 not to check");
    assertThat(gateDeadline("3600", "71")).isEqualTo(71);
    assertThat(gateDeadline("3600", "0")).as("not checked").isZero();
    assertThat(gateDeadline("soon", null)).as("the gate refuses its own setting").isEqualTo(30);
  }

  /** The gate deadline configured beside the gate's verdict timeout, both as environment keys. */
  private static int gateDeadline(String verdictTimeoutSeconds, String deadlineMinutes) {
    Map<String, String> env = new HashMap<>();
    env.put(GateTimings.VERDICT_TIMEOUT_SECONDS, verdictTimeoutSeconds);
    if (deadlineMinutes != null) {
      env.put(AuditConfig.GATE_DEADLINE_MINUTES, deadlineMinutes);
    }
    return AuditConfig.fromEnvironment(env, BASE).gateDeadlineMinutes();
  }

  @Test
  void shouldCheckUnfinishedFlowsAfterAQuarterAndHalfAnHourUnlessToldOtherwise() {
    assertThat(BASE.answerDeadlineMinutes()).isEqualTo(15);
    assertThat(BASE.gateDeadlineMinutes()).isEqualTo(30);
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.ANSWER_DEADLINE_MINUTES, "-1"), BASE))
        .hasMessage("GENGUARD_AUDIT_ANSWER_DEADLINE_MINUTES=-1 must be at least 0");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.GATE_DEADLINE_MINUTES, "10081"), BASE))
        .hasMessage("GENGUARD_AUDIT_GATE_DEADLINE_MINUTES=10081 must be at most 10080");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.GATE_DEADLINE_MINUTES, "half an hour"), BASE))
        .hasMessageContaining("GENGUARD_AUDIT_GATE_DEADLINE_MINUTES");
  }

  @Test
  void shouldLetHeldItemsWaitForAPersonUnlessAnExpiryOfAtMostAYearIsSet() {
    assertThat(BASE.reviewExpireHours()).isZero();
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.REVIEW_EXPIRE_HOURS, "-1"), BASE))
        .hasMessage("GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS=-1 must be at least 0");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(Map.of(AuditConfig.REVIEW_EXPIRE_HOURS, "8761"), BASE))
        .hasMessage("GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS=8761 must be at most 8760");
  }

  @Test
  void shouldLimitSubmissionsByDefaultAndTakeZeroAsNoLimit() {
    assertThat(BASE.submitRate()).isEqualTo(50);
    assertThat(BASE.submitBurst()).isEqualTo(100);
    assertThat(AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_RATE, "0"), BASE).submitRate())
        .isZero();
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_RATE, "-1"), BASE))
        .hasMessage("GENGUARD_AUDIT_SUBMIT_RATE=-1 must be at least 0");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_BURST, "0"), BASE))
        .hasMessage("GENGUARD_AUDIT_SUBMIT_BURST=0 must be at least 1");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_RATE, "1000001"), BASE))
        .hasMessage("GENGUARD_AUDIT_SUBMIT_RATE=1000001 must be at most 1000000");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_RATES, "acme=-1"), BASE))
        .hasMessageStartingWith("GENGUARD_AUDIT_SUBMIT_RATES: 'acme=-1'");
  }

  @Test
  void shouldCountRatesForTheWholeClusterUnlessToldPerProcess() {
    assertThat(BASE.submitRateScope()).isEqualTo("cluster");
    assertThat(
            AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_RATE_SCOPE, " "), BASE)
                .submitRateScope())
        .as("blank: the default")
        .isEqualTo("cluster");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(Map.of(AuditConfig.SUBMIT_RATE_SCOPE, "global"), BASE))
        .hasMessage(
            "GENGUARD_AUDIT_SUBMIT_RATE_SCOPE='global' is neither 'cluster' (one rate per tenant"
                + " for every audit-service process on the database) nor 'process' (each process"
                + " on its own)");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.SUBMIT_RATE_SCOPE, "x".repeat(10_000)), BASE))
        .hasMessageStartingWith("GENGUARD_AUDIT_SUBMIT_RATE_SCOPE='" + "x".repeat(40) + "...'");
  }

  @Test
  void shouldExplainOnlyWithTheModerationJobsKeyDirectory() {
    assertThat(BASE.explainKeyDirectory()).as("off by default").isEmpty();
    assertThat(BASE.explainPolicyFile()).isEmpty();
    AuditConfig on = BASE.withExplanations(java.nio.file.Path.of("/stack/keys"), null);
    assertThat(on.explainKeyDirectory()).isEqualTo("/stack/keys");
    assertThat(on.explainPolicyFile()).isEmpty();
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(AuditConfig.EXPLAIN_POLICY_FILE, "/etc/genguard/policy.yaml"), BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(AuditConfig.EXPLAIN_POLICY_FILE)
        .hasMessageContaining(AuditConfig.EXPLAIN_KEY_DIR + " is not");
  }

  @Test
  void shouldExplainHeldVerdictsInTheBackgroundOnlyWhenAskedAndWithTheKeys() {
    assertThat(BASE.explainHeldSeconds()).as("off by default").isZero();
    AuditConfig keys = BASE.withExplanations(java.nio.file.Path.of("/stack/keys"), null);
    assertThat(keys.withExplainHeld(5).explainHeldSeconds()).isEqualTo(5);
    assertThatThrownBy(() -> BASE.withExplainHeld(5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(AuditConfig.EXPLAIN_HELD_SECONDS + " is set but")
        .hasMessageContaining(AuditConfig.EXPLAIN_KEY_DIR + " is not");
    assertThatThrownBy(() -> keys.withExplainHeld(-1))
        .hasMessage("GENGUARD_AUDIT_EXPLAIN_HELD_SECONDS=-1 must be at least 0");
  }

  @Test
  void shouldSignAnchorsOnlyWhenAskedAndOnlyWithAnAnchorFile() {
    assertThat(BASE.anchorSigningKeyFile()).as("unsigned by default").isEmpty();
    AuditConfig anchored = BASE.withAnchorFile(java.nio.file.Path.of("/stack/anchors.jsonl"), 60);
    assertThat(
            anchored
                .withAnchorSigningKeyFile(java.nio.file.Path.of("/stack/anchor-keys"))
                .anchorSigningKeyFile())
        .isEqualTo("/stack/anchor-keys");
    assertThatThrownBy(
            () -> BASE.withAnchorSigningKeyFile(java.nio.file.Path.of("/stack/anchor-keys")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "GENGUARD_AUDIT_ANCHOR_SIGNING_KEY_FILE is set but GENGUARD_AUDIT_ANCHOR_FILE is not:"
                + " the key signs the lines of the anchor file");
  }

  @Test
  void shouldWitnessAnchorsOnlyWhenAskedWithAnAnchorFileAndAValidTopicName() {
    assertThat(BASE.anchorWitnessTopic()).as("off by default").isEmpty();
    AuditConfig anchored = BASE.withAnchorFile(java.nio.file.Path.of("/stack/anchors.jsonl"), 60);
    assertThat(anchored.withAnchorWitnessTopic("audit.anchors").anchorWitnessTopic())
        .isEqualTo("audit.anchors");
    assertThatThrownBy(() -> BASE.withAnchorWitnessTopic("audit.anchors"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "GENGUARD_AUDIT_ANCHOR_WITNESS_TOPIC is set but GENGUARD_AUDIT_ANCHOR_FILE is not: the"
                + " topic witnesses the lines of the anchor file");
    for (String bad : List.of("audit anchors", "..", "a/b", "x".repeat(250), "anchors;drop")) {
      assertThatThrownBy(() -> anchored.withAnchorWitnessTopic(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("is not a Kafka topic name");
    }
  }

  @Test
  void shouldKeepDefaultsForMissingKeys() {
    AuditConfig config = AuditConfig.fromEnvironment(Map.of(), BASE);

    assertThat(config).isEqualTo(BASE);
    assertThat(config.maxBodyBytes()).isEqualTo(64 * 1024);
    assertThat(config.retentionDays()).isZero();
    assertThat(config.anchorFile()).as("anchoring is off unless a file is named").isEmpty();
    assertThat(config.anchorIntervalSeconds()).isEqualTo(60);
  }

  @Test
  void shouldNameTheKeyInEveryError() {
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.HTTP_PORT, "http"), BASE))
        .hasMessage("GENGUARD_AUDIT_HTTP_PORT='http' is not a whole number");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.HTTP_PORT, "70000"), BASE))
        .hasMessageContaining("GENGUARD_AUDIT_HTTP_PORT=70000 is not a TCP port");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.RETENTION_DAYS, "-1"), BASE))
        .hasMessage("GENGUARD_AUDIT_RETENTION_DAYS=-1 must be at least 0");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.MAX_BODY_BYTES, "10"), BASE))
        .hasMessage("GENGUARD_AUDIT_MAX_BODY_BYTES=10 must be at least 1024");
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(Map.of(AuditConfig.ANCHOR_INTERVAL_SECONDS, "0"), BASE))
        .hasMessage("GENGUARD_AUDIT_ANCHOR_INTERVAL_SECONDS=0 must be at least 1");
  }

  @Test
  void shouldRefuseNumbersBelowTheIntRangeInsteadOfWrappingThem() {
    // -4294967216 is 80 once cut to an int: it must not become port 80, nor a pool of 1.
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.HTTP_PORT, "-4294967216"), BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_AUDIT_HTTP_PORT=-4294967216");
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.POOL_SIZE, "-4294967295"), BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_AUDIT_POOL_SIZE=-4294967295");
  }

  @Test
  void shouldRefuseARetentionLongerThanTheServiceKeepsWithTheKey() {
    assertThat(AuditConfig.fromEnvironment(Map.of(AuditConfig.RETENTION_DAYS, "36500"), BASE))
        .extracting(AuditConfig::retentionDays)
        .isEqualTo(36500);
    assertThatThrownBy(
            () -> AuditConfig.fromEnvironment(Map.of(AuditConfig.RETENTION_DAYS, "36501"), BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("GENGUARD_AUDIT_RETENTION_DAYS=36501 must be at most 36500");
  }

  @Test
  void shouldNeverPrintThePassword() {
    assertThat(BASE.toString()).doesNotContain("s3cret").contains("jdbcPassword=***");
  }

  @Test
  void shouldReadTheModerationJobsClassifierKeysForExplanations() {
    assertThat(BASE.explainClassifier()).isNull();
    AuditConfig config =
        AuditConfig.fromEnvironment(
            Map.of(
                AuditConfig.EXPLAIN_KEY_DIR, "/var/lib/genguard/keys",
                ScorerConfig.CLASSIFIER_DIR, "/models/toxic-bert",
                ScorerConfig.CLASSIFIER_LABELS, "toxic=harassment;neutral=none",
                ScorerConfig.CLASSIFIER_MAX_TOKENS, "128"),
            BASE);
    assertThat(config.explainClassifier().name()).isEqualTo("onnx-classifier");
    assertThat(config.explainClassifier().modelPath()).isEqualTo(Path.of("/models/toxic-bert"));
    assertThat(config.explainClassifier().labelMapSpec())
        .isEqualTo("neutral=none;toxic=harassment");
    assertThat(config.explainClassifier().maxTokens()).isEqualTo(128);
    // The other keys' withers keep it; blank keys turn it off.
    assertThat(config.withExplainHeld(30).explainClassifier())
        .isEqualTo(config.explainClassifier());
    assertThat(
            AuditConfig.fromEnvironment(
                    Map.of(ScorerConfig.CLASSIFIER_DIR, " ", ScorerConfig.CLASSIFIER_LABELS, ""),
                    config)
                .explainClassifier())
        .isNull();
    assertThat(config.toString()).contains("explainClassifier=/models/toxic-bert");
  }

  @Test
  void shouldRefuseAClassifierKeyThatDoesNotParseNamingIt() {
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(
                        ScorerConfig.CLASSIFIER_DIR, "/models/toxic-bert",
                        ScorerConfig.CLASSIFIER_LABELS, "toxic=nonsense"),
                    BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(ScorerConfig.CLASSIFIER_LABELS);
    assertThatThrownBy(
            () ->
                AuditConfig.fromEnvironment(
                    Map.of(ScorerConfig.CLASSIFIER_MAX_TOKENS, "many"), BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(ScorerConfig.CLASSIFIER_MAX_TOKENS);
  }
}
