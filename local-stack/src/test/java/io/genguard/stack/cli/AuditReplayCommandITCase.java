package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ./genguard audit replay against a real database holding outputs and the verdicts the moderation
 * pipeline gave them: reproduced with the same policy and models, a difference named when the
 * policy file changed under the same version, not replayable under another version.
 */
class AuditReplayCommandITCase {
  private static final String SCORER = "ngram-logistic";
  private static final List<String> TEXTS =
      List.of(
          "The museum opens at nine and the guided tour takes about an hour.",
          "shut up you worthless stupid bitch, nobody wants you here",
          "Gardening in spring: start with the soil, then choose what grows in your climate.");

  private static final ObjectMapper JSON = new ObjectMapper();

  private static IntegrationInfrastructure infra;
  private static String jdbcUrl;
  private static AuditDatabase database;
  @TempDir static Path keys;
  private static List<ModerationVerdict> verdicts;

  @BeforeAll
  static void outputsAndTheirVerdicts() throws Exception {
    infra = IntegrationInfrastructure.get();
    // A fixed watermark key for "the job", so that what the watermark detector finds is the same
    // every run (the what-if test compares it with another fixed key's findings).
    Files.writeString(keys.resolve("watermark-keys"), "wm-job:" + fixedSecret(3) + "\n");
    jdbcUrl = store("audit_replay_it", false, false);
    database = AuditDatabase.connect(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  /**
   * A database with the outputs, the verdicts the moderation pipeline gave them and the gate's
   * outcomes; with {@code releaseEverything} the gate "released" the blocked one too, and with
   * {@code withoutPolicyDigest} the verdicts are recorded as before they named their policy file.
   */
  private static String store(String name, boolean releaseEverything, boolean withoutPolicyDigest)
      throws Exception {
    return store(name, releaseEverything, withoutPolicyDigest, true);
  }

  /**
   * @param withOutcomes whether the gate's outcomes are recorded too (otherwise only outputs and
   *     verdicts)
   */
  private static String store(
      String name, boolean releaseEverything, boolean withoutPolicyDigest, boolean withOutcomes)
      throws Exception {
    String url = infra.createDatabase(name);
    List<GenerationOutput> outputs = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) {
      outputs.add(output("replay-" + i, TEXTS.get(i)));
    }
    try (BatchModerator moderator = ModerationPipelines.factory(SCORER, null, keys).create()) {
      verdicts = moderator.moderate(outputs);
    }
    List<IncomingEvent> events = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      ModerationVerdict verdict = verdicts.get(i);
      boolean released = releaseEverything || verdict.getDecision() == Decision.RELEASE;
      events.add(new IncomingEvent(Topics.GENERATION_OUTPUTS.name(), 0, i, outputs.get(i)));
      events.add(
          new IncomingEvent(
              Topics.MODERATION_VERDICTS.name(),
              0,
              i,
              withoutPolicyDigest
                  ? ModerationVerdict.newBuilder(verdict).setPolicySha256("").build()
                  : verdict));
      if (!withOutcomes) {
        continue;
      }
      events.add(
          new IncomingEvent(
              (released ? Topics.CONTENT_RELEASED : Topics.CONTENT_QUARANTINED).name(),
              0,
              i,
              gate(
                  outputs.get(i),
                  verdict,
                  released ? GateOutcome.RELEASED : GateOutcome.QUARANTINED)));
    }
    try (AuditDatabase db = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      new AuditWriter(db.dataSource(), Clock.systemUTC()).write(events);
    }
    return url;
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void shouldReproduceEveryVerdictWithTheSamePolicyAndModels() {
    assertThat(verdicts)
        .extracting(ModerationVerdict::getDecision)
        .containsExactly(Decision.RELEASE, Decision.BLOCK, Decision.RELEASE);

    CommandRun run =
        CommandRun.of(new AuditReplayCommand(), database("--key-dir", keys.toString()));

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("Replayed 3 recorded verdicts: 3 reproduced, 0 differ, 0 not replayable");
    CommandRun one =
        CommandRun.of(
            new AuditReplayCommand(),
            database("--key-dir", keys.toString(), "--request", "replay-1", "--json"));
    assertThat(one.code()).isZero();
    assertThat(one.out())
        .contains("\"requestId\":\"replay-1\",\"result\":\"REPRODUCED\"")
        .contains("BLOCK, every field equal; gate: QUARANTINED VERDICT")
        .contains("\"verdicts\":1");
  }

  @Test
  void shouldExplainAReproducedHeldVerdictWithTheWordsItsScoresRestOn() throws Exception {
    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(),
            database("--key-dir", keys.toString(), "--explain", "--json"));

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    Map<String, JsonNode> byRequest = new HashMap<>();
    for (String line : run.out().split("\n")) {
      JsonNode row = JSON.readTree(line);
      if (row.has("requestId")) {
        byRequest.put(row.get("requestId").asText(), row);
      }
    }
    assertThat(byRequest).containsOnlyKeys("replay-0", "replay-1", "replay-2");
    // Released outputs have nothing to explain.
    assertThat(byRequest.get("replay-0").has("explained")).isFalse();
    assertThat(byRequest.get("replay-2").has("explained")).isFalse();
    JsonNode explained = byRequest.get("replay-1").get("explained");
    assertThat(explained).as(byRequest.get("replay-1").toString()).isNotEmpty();
    String text = TEXTS.get(1);
    for (JsonNode reason : explained) {
      assertThat(reason.get("category").asText()).isNotEmpty();
      for (JsonNode word : reason.get("evidence")) {
        // Each word is one of the text's, and the reason's score falls without it.
        assertThat(text).containsIgnoringCase(word.get("word").asText());
        assertThat(word.get("scoreWithout").asDouble()).isLessThan(reason.get("score").asDouble());
      }
    }
    assertThat(explained.findValues("evidence")).anySatisfy(e -> assertThat(e).isNotEmpty());

    CommandRun text1 =
        CommandRun.of(
            new AuditReplayCommand(),
            database("--key-dir", keys.toString(), "--explain", "--request", "replay-1"));
    assertThat(text1.code()).isZero();
    assertThat(text1.out())
        .contains("EXPLAINED verdict " + verdicts.get(1).getVerdictId() + " (request replay-1)")
        .contains(" rests on \"");
  }

  @Test
  void shouldShowWhichDecisionsACandidatePolicyWouldChangeWithoutWritingAnything()
      throws Exception {
    // Every category goes to review from a score of 0: the two released texts would be held,
    // the blocked one stays blocked.
    Path candidate = Files.createTempFile(keys, "candidate", ".yaml");
    String strict =
        PolicyLoader.defaultText()
            .replaceFirst("version: *\"?[^\"\n]*\"?", "version: \"what-if-1\"")
            .replaceAll("\\{review: 0\\.[0-9]+, block: ", "{review: 0.00, block: ");
    assertThat(strict).contains("{review: 0.00, block: 0.90}").contains("what-if-1");
    Files.writeString(candidate, strict);
    long auditRows = count("select count(*) from audit_log");

    CommandRun run =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database("--key-dir", keys.toString(), "--policy", candidate.toString()));

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("CHANGED request replay-0 (tenant acme): RELEASE -> REVIEW: ")
        .contains("CHANGED request replay-2 (tenant acme): RELEASE -> REVIEW: ")
        .doesNotContain("request replay-1")
        .contains("what-if-1")
        .contains(": 1 the same, 2 changed (RELEASE -> REVIEW: 2), 0 not comparable")
        .contains("Changed by tenant: acme: 2");
    assertThat(run.out()).containsPattern("RELEASE -> REVIEW: [a-z_]+ 0\\.[0-9]{2} >= 0\\.00");
    assertThat(count("select count(*) from audit_log")).as("nothing written").isEqualTo(auditRows);

    // Its JSON lines name what to take down: the two released outputs the candidate would hold.
    CommandRun asJson =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database("--key-dir", keys.toString(), "--policy", candidate.toString(), "--json"));
    Path rows = Files.createTempFile(keys, "what-if", ".jsonl");
    Files.writeString(rows, asJson.out());
    CommandRun wouldRetract =
        CommandRun.of(
            new AuditRetractCommand(), database("--ids-from", rows.toString(), "--dry-run"));
    assertThat(wouldRetract.code()).as(wouldRetract.out() + wouldRetract.err()).isZero();
    List<String> wouldCome = new ArrayList<>();
    JSON.readTree(wouldRetract.out()).path("requestIds").forEach(id -> wouldCome.add(id.asText()));
    assertThat(wouldCome).containsExactlyInAnyOrder("replay-0", "replay-2");

    // The built-in policy itself changes nothing; JSON lists the same figures.
    Path same = Files.createTempFile(keys, "same", ".yaml");
    Files.writeString(same, PolicyLoader.defaultText());
    CommandRun unchanged =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database("--key-dir", keys.toString(), "--policy", same.toString(), "--json"));
    assertThat(unchanged.code()).isZero();
    JsonNode summary = JSON.readTree(unchanged.out().strip());
    assertThat(summary.get("same").asInt()).isEqualTo(3);
    assertThat(summary.get("changed").asInt()).isZero();
    assertThat(summary.get("changedByTenant").size()).isZero();

    // With another watermark key than the job's (a fixed one, so the run is the same every time)
    // the watermark findings differ, so those decisions cannot be put down to the policy.
    Path otherKeys = Files.createTempDirectory(keys, "other-keys");
    // (No signing key to copy: the job verifies with public keys only, and has none here.)
    Files.writeString(otherKeys.resolve("watermark-keys"), "wm-other:" + fixedSecret(7) + "\n");
    CommandRun otherKeysRun =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database("--key-dir", otherKeys.toString(), "--policy", candidate.toString()));
    assertThat(otherKeysRun.code()).as(otherKeysRun.out() + otherKeysRun.err()).isEqualTo(3);
    assertThat(otherKeysRun.out())
        .contains("NOT_COMPARABLE request replay-0: judged again, what the policy does not decide")
        .contains("(provenance: {")
        .contains(": 0 the same, 0 changed, 3 not comparable");

    // An invalid candidate is refused with its line before anything is judged.
    Path broken = Files.createTempFile(keys, "broken", ".yaml");
    Files.writeString(
        broken, strict.replace("{review: 0.00, block: 0.90}", "{review: 2, block: 0.90}"));
    CommandRun refused =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database("--key-dir", keys.toString(), "--policy", broken.toString()));
    assertThat(refused.code()).as("a usage error, as ./genguard exits").isEqualTo(2);
    assertThat(refused.err()).contains("Invalid policy").contains("line ");
  }

  /** 32 bytes of {@code value}, base64: a watermark secret that is the same every run. */
  private static String fixedSecret(int value) {
    byte[] secret = new byte[32];
    java.util.Arrays.fill(secret, (byte) value);
    return java.util.Base64.getEncoder().encodeToString(secret);
  }

  private static long count(String sql) throws Exception {
    return TestSql.count(database.dataSource(), sql);
  }

  @Test
  void shouldReproduceVerdictsRecordedBeforeTheyNamedTheirPolicyFile() throws Exception {
    assertThat(verdicts).allSatisfy(v -> assertThat(v.getPolicySha256()).hasSize(64));
    String legacy = store("audit_replay_legacy_it", false, true);

    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(),
            CommandRun.withDatabase(infra, legacy, "--key-dir", keys.toString()));

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("Replayed 3 recorded verdicts: 3 reproduced, 0 differ, 0 not replayable");
  }

  @Test
  void shouldReportAReleaseWithoutAReleaseVerdictOrAnApprovingReview() throws Exception {
    String released = store("audit_replay_gate_it", true, false);

    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(),
            CommandRun.withDatabase(infra, released, "--key-dir", keys.toString()));

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("DIFFERS verdict " + verdicts.get(1).getVerdictId() + " (request replay-1)")
        .contains(
            "the gate released the output (RELEASED VERDICT) on a BLOCK verdict without an"
                + " approving review")
        .contains("2 reproduced, 1 differ");
  }

  @Test
  void shouldCheckAReleaseKnownOnlyFromTheGatesRestatementAgainstItsVerdict() throws Exception {
    // No outcome reached the store; the gate restated each decision when the output came again.
    String url = store("audit_replay_restated_it", true, false, false);
    List<IncomingEvent> restatements = new ArrayList<>();
    for (int i = 0; i < verdicts.size(); i++) {
      restatements.add(
          new IncomingEvent(
              Topics.GATE_RESTATEMENTS.name(),
              0,
              i,
              GateDecisionRestated.newBuilder()
                  .setEventId("restated-replay-" + i)
                  .setRequestId("replay-" + i)
                  .setTenantId("acme")
                  .setOutputId("output-replay-" + i)
                  .setDecision(RestatedDecision.RELEASED)
                  .setDecidedAt(Instant.parse("2026-12-02T10:00:01Z"))
                  .setRestatedAt(Instant.parse("2026-12-02T11:00:00Z"))
                  // The last one from a gate that named no outcome.
                  .setOutcomeEventId(i == 2 ? null : "gate-replay-" + i)
                  .setOutcomeBasis(i == 2 ? null : GateBasis.VERDICT)
                  .build()));
    }
    try (AuditDatabase db = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      new AuditWriter(db.dataSource(), Clock.systemUTC()).write(restatements);
    }

    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(),
            CommandRun.withDatabase(infra, url, "--key-dir", keys.toString()));

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("DIFFERS verdict " + verdicts.get(1).getVerdictId() + " (request replay-1)")
        .contains(
            "the gate released the output (RELEASED VERDICT (restated)) on a BLOCK verdict"
                + " without an approving review")
        .contains("2 reproduced, 1 differ");
    CommandRun json =
        CommandRun.of(
            new AuditReplayCommand(),
            CommandRun.withDatabase(infra, url, "--key-dir", keys.toString(), "--json"));
    assertThat(json.out())
        .contains("RELEASE, every field equal; gate: RELEASED VERDICT (restated)")
        .contains("RELEASE, every field equal; gate: RELEASED UNNAMED (restated)");
  }

  @Test
  void shouldNameWhatDiffersWhenThePolicyChangedUnderTheSameVersion(@TempDir Path dir)
      throws Exception {
    // The harassment thresholds raised, the version left as it was: the mistake replay exists for.
    Path edited = dir.resolve("same-version.yaml");
    Files.writeString(
        edited,
        defaultPolicy()
            .replace(
                "harassment:    {review: 0.50, block: 0.90}",
                "harassment:    {review: 0.99999, block: 0.999999}"));
    PolicyLoader.load(edited); // still a valid policy

    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(),
            database("--key-dir", keys.toString(), "--policy", edited.toString(), "--explain"));

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("DIFFERS verdict " + verdicts.get(1).getVerdictId() + " (request replay-1)")
        // Every verdict names the file it was decided under, so even the ones whose decisions the
        // edit does not change show that another file replayed them.
        .contains("policySha256: \"" + verdicts.get(0).getPolicySha256() + "\" -> \"")
        .contains("reasons: ")
        .contains("\"category\":\"harassment\"")
        // A verdict this build does not reproduce is not explained with this build's words.
        .doesNotContain("EXPLAINED");
  }

  @Test
  void shouldCallAVerdictOfAnotherPolicyVersionNotReplayable(@TempDir Path dir) throws Exception {
    Path other = dir.resolve("other-version.yaml");
    Files.writeString(
        other, defaultPolicy().replaceFirst("version: \"[^\"]+\"", "version: \"replay-test.1\""));

    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(),
            database("--key-dir", keys.toString(), "--policy", other.toString()));

    assertThat(run.code()).isEqualTo(3);
    assertThat(run.out())
        .contains("NOT_REPLAYABLE")
        .contains("this replay has genguard-default replay-test.1 (pass --policy")
        .contains("0 reproduced, 0 differ, 3 not replayable");
  }

  @Test
  void shouldJudgeOnlyTheTenantWindowOrSampleAsked() throws Exception {
    Path same = Files.createTempFile(keys, "same", ".yaml");
    Files.writeString(same, PolicyLoader.defaultText());
    String[] base = {"--key-dir", keys.toString(), "--policy", same.toString()};
    CommandRun sample =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database(concat(base, "--tenant", "acme", "--spread", "--limit", "2", "--json")));
    assertThat(sample.code()).as(sample.out() + sample.err()).isZero();
    JsonNode summary = JSON.readTree(sample.out().strip());
    assertThat(summary.get("verdicts").asInt()).isEqualTo(2);
    assertThat(summary.get("same").asInt()).isEqualTo(2);

    // Nothing to judge for a tenant without traffic or a window before any: said, exit 2.
    CommandRun quiet =
        CommandRun.of(new AuditWhatIfCommand(), database(concat(base, "--tenant", "globex")));
    assertThat(quiet.code()).isEqualTo(2);
    assertThat(quiet.err())
        .contains("holds no verdict to judge among the newest 100 verdicts of tenant globex");
    CommandRun before =
        CommandRun.of(
            new AuditReplayCommand(),
            database("--key-dir", keys.toString(), "--until", "2000-01-01T00:00:00Z"));
    assertThat(before.err()).contains("verdicts decided before 2000-01-01T00:00:00Z");

    // Refused: an instant that is not one; requests together with a tenant.
    CommandRun notAnInstant =
        CommandRun.of(new AuditWhatIfCommand(), database(concat(base, "--since", "yesterday")));
    assertThat(notAnInstant.code()).isEqualTo(2);
    assertThat(notAnInstant.err()).contains("--since 'yesterday' is not an ISO-8601 UTC instant");
    CommandRun farFuture =
        CommandRun.of(
            new AuditWhatIfCommand(), database(concat(base, "--until", "+100000-01-01T00:00:00Z")));
    assertThat(farFuture.code()).isEqualTo(2);
    assertThat(farFuture.err()).contains("is outside the years 1 to 9999");
    CommandRun both =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database(concat(base, "--request", "replay-0", "--tenant", "acme")));
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("either by request or by tenant");
  }

  private static String[] concat(String[] first, String... more) {
    String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return all;
  }

  @Test
  void shouldRefuseToReplayWithoutTheJobsKeys() {
    CommandRun run =
        CommandRun.of(
            new AuditReplayCommand(), database("--key-dir", keys.resolve("missing").toString()));

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("does not exist: pass --key-dir DIR with the provenance keys");
    assertThat(
            CommandRun.of(
                    new AuditReplayCommand(),
                    database("--key-dir", keys.toString(), "--request", "nobody"))
                .err())
        .contains("No verdict recorded for nobody");
  }

  /**
   * A mistyped id among several is named and nothing is judged, not left out of a summary that
   * reads as if every request asked for reproduced.
   */
  @Test
  void shouldRefuseRequestsWithoutARecordedVerdictAndNameThem() throws Exception {
    CommandRun replay =
        CommandRun.of(
            new AuditReplayCommand(),
            database(
                "--key-dir",
                keys.toString(),
                "--request",
                "replay-0",
                "--request",
                "replay-O",
                "--request",
                "replay-1"));

    assertThat(replay.code()).as(replay.out() + replay.err()).isNotZero();
    assertThat(replay.err())
        .contains("No verdict recorded for replay-O (1 of the 3 requests asked for;")
        .contains("nothing was judged");
    assertThat(replay.out()).doesNotContain("Replayed");

    Path same = Files.createTempFile(keys, "same", ".yaml");
    Files.writeString(same, PolicyLoader.defaultText());
    CommandRun whatIf =
        CommandRun.of(
            new AuditWhatIfCommand(),
            database(
                "--key-dir",
                keys.toString(),
                "--policy",
                same.toString(),
                "--request",
                "replay-2",
                "--request",
                "nobody",
                "--request",
                "no-one"));

    assertThat(whatIf.code()).as(whatIf.out() + whatIf.err()).isNotZero();
    assertThat(whatIf.err()).contains("No verdict recorded for nobody, no-one (2 of the 3");
    assertThat(whatIf.out()).doesNotContain("Judged");
  }

  private static String defaultPolicy() throws Exception {
    try (InputStream in = PolicyLoader.class.getResourceAsStream("/policies/default-policy.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static ReleaseGateOutcome gate(
      GenerationOutput output, ModerationVerdict verdict, GateOutcome outcome) {
    return ReleaseGateOutcome.newBuilder()
        .setEventId("gate-" + output.getRequestId())
        .setRequestId(output.getRequestId())
        .setOutputId(output.getOutputId())
        .setTenantId(output.getTenantId())
        .setOutcome(outcome)
        .setBasis(GateBasis.VERDICT)
        .setVerdictId(verdict.getVerdictId())
        .setDecision(verdict.getDecision())
        .setText(output.getText())
        .setOutputSha256(verdict.getOutputSha256())
        .setPolicyVersion(verdict.getPolicyVersion())
        .setReasons(List.of())
        .setAttributes(Map.of())
        .setDecidedAt(Instant.parse("2026-12-02T10:00:01Z"))
        .build();
  }

  private static GenerationOutput output(String requestId, String text) {
    return GenerationOutput.newBuilder()
        .setEventId("output-event-" + requestId)
        .setOutputId("output-" + requestId)
        .setRequestId(requestId)
        .setTenantId("acme")
        .setText(text)
        .setModel(
            ModelRef.newBuilder()
                .setName("builtin-kn")
                .setVersion("3")
                .setBackend("builtin")
                .build())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(40)
                .setTemperature(0.8)
                .setTopK(40)
                .setTopP(0.95)
                .setSeed(7L)
                .build())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(5)
                .setOutputTokens(12)
                .setComputeMillis(30)
                .setDevice("cpu")
                .setEnergyJoules(0.4)
                .build())
        .setAttributes(Map.of())
        .setGeneratedAt(Instant.parse("2026-12-02T10:00:00.250Z"))
        .build();
  }

  private static String[] database(String... more) {
    return CommandRun.withDatabase(infra, jdbcUrl, more);
  }
}
