package io.genguard.moderation.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.schemas.ContentHash;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ContentModeratorTest {
  private static final Clock CLOCK = Clock.fixed(Events.NOW, ZoneOffset.UTC);

  /** Scores every text with the given unsafe probability in every category. */
  static ContentScorer constantScorer(double score) {
    return new ContentScorer() {
      @Override
      public List<ContentScores> scoreBatch(List<String> texts) {
        List<ContentScores> scores = new ArrayList<>();
        for (String ignored : texts) {
          Map<Category, Double> categories = new EnumMap<>(Category.class);
          for (Category category : Category.values()) {
            categories.put(category, score);
          }
          scores.add(new ContentScores(score, categories));
        }
        return scores;
      }

      @Override
      public Map<String, String> versions() {
        return Map.of("constant-test-scorer", "1");
      }
    };
  }

  static ContentModerator moderator(ContentScorer scorer, Duration timeout) {
    return new ContentModerator(
        () -> scorer,
        PolicyEngine.of(PolicyLoader.loadDefault()),
        TextScreening.defaults(),
        BiasAnalyzer.loadDefault(),
        new ProvenanceChecker(ProvenanceKeys.ephemeral()),
        Map.of("test", "1"),
        timeout,
        CLOCK);
  }

  @Test
  void shouldReleaseCleanTextAndRecordEveryVersion() {
    GenerationOutput output =
        Events.output("m1", "The committee met on Tuesday to discuss the budget.");
    ModerationVerdict verdict =
        moderator(constantScorer(0.01), Duration.ofSeconds(5)).moderate(List.of(output)).get(0);
    assertThat(verdict.getDecision()).isEqualTo(Decision.RELEASE);
    assertThat(verdict.getOutputSha256()).isEqualTo(ContentHash.sha256Hex(output.getText()));
    assertThat(verdict.getScorerVersions().keySet())
        .containsExactly("constant-test-scorer", "test");
    assertThat(verdict.getPolicyVersion()).isNotBlank();
    // The built-in policy's bytes, so that a policy file can be matched to what it decided.
    assertThat(verdict.getPolicySha256())
        .isEqualTo(PolicyLoader.loadDefault().sha256())
        .matches("[0-9a-f]{64}");
    assertThat(verdict.getProvenance().getManifest()).isEqualTo(ManifestStatus.ABSENT);
  }

  @Test
  void shouldJudgeAnOutputWhoseWatermarkClaimHasImpossibleParametersInsteadOfFailing() {
    // gamma 0, NaN or a context of 9 tokens cannot be a watermark of this scheme; the claim is
    // not checked, and the batch is judged instead of failing the job on every restart.
    List<GenerationOutput> outputs = new java.util.ArrayList<>();
    double[] gammas = {0.0, Double.NaN, 0.25};
    int[] widths = {1, 1, 9};
    for (int i = 0; i < gammas.length; i++) {
      GenerationOutput output =
          Events.output("w" + i, "The committee met on Tuesday to discuss the budget.");
      output.setWatermark(
          io.genguard.events.v1.WatermarkInfo.newBuilder()
              .setScheme(io.genguard.provenance.watermark.WatermarkParameters.SCHEME)
              .setKeyId("any")
              .setGamma(gammas[i])
              .setDelta(2.0)
              .setContextWidth(widths[i])
              .build());
      outputs.add(output);
    }

    List<ModerationVerdict> verdicts =
        moderator(constantScorer(0.01), Duration.ofSeconds(5)).moderate(outputs);

    assertThat(verdicts)
        .allSatisfy(
            verdict ->
                assertThat(verdict.getProvenance().getWatermark())
                    .isEqualTo(io.genguard.events.v1.WatermarkStatus.NOT_CHECKED));
  }

  /**
   * The built-in policy with tenants that require the watermark: {@code acme} (the fixtures'
   * tenant), and {@code acme-short-ok}, which releases texts too short to tell.
   */
  private static final PolicySet WATERMARK_REQUIRED =
      PolicyLoader.parse(
          PolicyLoader.defaultText()
              .replace(
                  "\ntenants:\n",
                  "\ntenants:\n  acme:\n    provenance: {watermarkNotDetected: BLOCK}\n"
                      + "  acme-short-ok:\n"
                      + "    provenance:\n"
                      + "      watermarkNotDetected: BLOCK\n"
                      + "      watermarkTooShort: RELEASE\n"),
          "watermark-required.yaml");

  static final String BENIGN =
      "The committee met on Tuesday to discuss the budget for the coming year, and after a long"
          + " debate the members agreed to postpone the final vote until the next session in the"
          + " spring.";

  /** An output of the tenant that claims the given watermark (no claim when keyId is null). */
  private static GenerationOutput claiming(
      String tenant, String id, String text, String keyId, double gamma) {
    GenerationOutput output = Events.output(id, text);
    output.setTenantId(tenant);
    if (keyId != null) {
      output.setWatermark(
          io.genguard.events.v1.WatermarkInfo.newBuilder()
              .setScheme(io.genguard.provenance.watermark.WatermarkParameters.SCHEME)
              .setKeyId(keyId)
              .setGamma(gamma)
              .setDelta(2.0)
              .setContextWidth(1)
              .build());
    }
    return output;
  }

  private static List<ModerationVerdict> underWatermarkRequired(String tenant) {
    ContentModerator moderator =
        new ContentModerator(
            () -> constantScorer(0.01),
            PolicyEngine.of(WATERMARK_REQUIRED),
            TextScreening.defaults(),
            BiasAnalyzer.loadDefault(),
            new ProvenanceChecker(ProvenanceKeys.ephemeral()),
            Map.of("test", "1"),
            Duration.ofSeconds(5),
            CLOCK);
    return moderator.moderate(
        List.of(
            claiming(tenant, "no-claim", BENIGN, null, 0),
            claiming(tenant, "unknown-key", BENIGN, "not-a-key", 0.25),
            claiming(tenant, "gamma-0", BENIGN, "x", 0.0),
            claiming(tenant, "short", "Sure, here it is.", null, 0)));
  }

  @Test
  void shouldNotReleaseAnOutputWhoseWatermarkCouldNotBeCheckedWhenTheTenantRequiresIt() {
    List<ModerationVerdict> verdicts = underWatermarkRequired("acme");

    assertThat(verdicts)
        .extracting(v -> v.getProvenance().getWatermark())
        .containsExactly(
            io.genguard.events.v1.WatermarkStatus.NOT_DETECTED,
            io.genguard.events.v1.WatermarkStatus.NOT_CHECKED,
            io.genguard.events.v1.WatermarkStatus.NOT_CHECKED,
            io.genguard.events.v1.WatermarkStatus.TOO_SHORT);
    assertThat(verdicts)
        .as("a bogus or impossible claim is held as strictly as no watermark; a short text is read")
        .extracting(ModerationVerdict::getDecision)
        .containsExactly(Decision.BLOCK, Decision.BLOCK, Decision.BLOCK, Decision.REVIEW);
    assertThat(verdicts.get(1).getReasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getCode()).isEqualTo(ReasonCodes.WATERMARK_NOT_CHECKED);
              assertThat(reason.getMessage())
                  .contains("key \"not-a-key\", which this job does not hold")
                  .contains("this policy requires the watermark");
            });
    assertThat(verdicts.get(2).getReasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getCode()).isEqualTo(ReasonCodes.WATERMARK_NOT_CHECKED);
              assertThat(reason.getMessage())
                  .contains("the claim is invalid")
                  .contains("gamma 0.0");
            });
    assertThat(verdicts.get(3).getReasons())
        .extracting(Reason::getCode)
        .containsExactly(ReasonCodes.WATERMARK_TOO_SHORT);
  }

  @Test
  void shouldReleaseUncheckedWatermarksWhenThePolicyDoesNotRequireThemOrSaysSo() {
    assertThat(underWatermarkRequired("not-listed"))
        .as("the default rules do not require the watermark")
        .extracting(ModerationVerdict::getDecision)
        .containsOnly(Decision.RELEASE);
    assertThat(underWatermarkRequired("acme-short-ok"))
        .extracting(ModerationVerdict::getDecision)
        .containsExactly(Decision.BLOCK, Decision.BLOCK, Decision.BLOCK, Decision.RELEASE);
  }

  /**
   * The built-in policy with {@code echo-held}, which requires a valid manifest and holds the echo
   * backend's outputs, and {@code acme-short-ok} as above.
   */
  private static final PolicySet PROVENANCE_RULES =
      PolicyLoader.parse(
          PolicyLoader.defaultText()
              .replace(
                  "\ntenants:\n",
                  "\ntenants:\n  echo-held:\n"
                      + "    provenance: {manifestAbsent: REVIEW, manifestEchoed: REVIEW}\n"
                      + "  acme-short-ok:\n"
                      + "    provenance:\n"
                      + "      watermarkNotDetected: BLOCK\n"
                      + "      watermarkTooShort: RELEASE\n"),
          "provenance-rules.yaml");

  /** An output of the tenant from the given backend, with a manifest {@code keys} signed for it. */
  private static GenerationOutput signedFrom(
      ProvenanceKeys keys, String tenant, String id, String backend, String text) {
    GenerationOutput output = Events.output(id, text);
    output.setTenantId(tenant);
    output.setModel(
        io.genguard.events.v1.ModelRef.newBuilder()
            .setName(backend)
            .setVersion("1")
            .setBackend(backend)
            .build());
    return ProvenanceCheckerTest.signed(output, keys.signing(), null);
  }

  private static List<ModerationVerdict> underProvenanceRules(
      ProvenanceKeys keys, List<GenerationOutput> outputs) {
    ContentModerator moderator =
        new ContentModerator(
            () -> constantScorer(0.01),
            PolicyEngine.of(PROVENANCE_RULES),
            TextScreening.defaults(),
            BiasAnalyzer.loadDefault(),
            new ProvenanceChecker(keys),
            Map.of("test", "1"),
            Duration.ofSeconds(5),
            CLOCK);
    return moderator.moderate(outputs);
  }

  @Test
  void shouldHoldTheEchoBackendsSignedOutputWhereTheTenantsPolicySaysSo() {
    ProvenanceKeys keys = ProvenanceKeys.ephemeral();
    List<ModerationVerdict> verdicts =
        underProvenanceRules(
            keys,
            List.of(
                signedFrom(keys, "echo-held", "echoed", "echo", BENIGN),
                signedFrom(keys, "echo-held", "generated", "builtin", BENIGN),
                signedFrom(keys, "not-listed", "echoed-elsewhere", "echo", BENIGN)));

    assertThat(verdicts)
        .extracting(v -> v.getProvenance().getManifest())
        .containsOnly(ManifestStatus.VALID);
    assertThat(verdicts)
        .extracting(ModerationVerdict::getDecision)
        .containsExactly(Decision.REVIEW, Decision.RELEASE, Decision.RELEASE);
    assertThat(verdicts.get(0).getModel().getBackend()).isEqualTo("echo");
    assertThat(verdicts.get(0).getReasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getCode()).isEqualTo(ReasonCodes.MANIFEST_ECHOED);
              assertThat(reason.getMessage()).contains("names the \"echo\" backend");
            });
    assertThat(verdicts.get(2).getReasons())
        .as("the built-in policy leaves manifestEchoed out: the verdict is as before")
        .extracting(Reason::getCode)
        .containsExactly(ReasonCodes.CLEAR);
  }

  @Test
  void shouldNotReleaseALongUnwatermarkedTextThatRepeatsItselfAsTooShort() {
    // watermarkTooShort: RELEASE is for short replies; one sentence 200 times is TOO_SHORT too
    // (18 distinct word pairs), and was released under a policy that requires the watermark.
    String sentence =
        "The committee will meet again next week to discuss the budget and the new proposals. ";
    ProvenanceKeys keys = ProvenanceKeys.ephemeral();
    List<ModerationVerdict> verdicts =
        underProvenanceRules(
            keys,
            List.of(
                claiming("acme-short-ok", "repeated", sentence.repeat(200), null, 0),
                claiming("acme-short-ok", "short", "Sure, here it is.", null, 0)));

    assertThat(verdicts)
        .extracting(v -> v.getProvenance().getWatermark())
        .containsOnly(io.genguard.events.v1.WatermarkStatus.TOO_SHORT);
    assertThat(verdicts)
        .extracting(ModerationVerdict::getDecision)
        .containsExactly(Decision.REVIEW, Decision.RELEASE);
    assertThat(verdicts.get(0).getReasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getCode()).isEqualTo(ReasonCodes.WATERMARK_REPETITIVE);
              assertThat(reason.getMessage()).contains("among 3,200 tokens");
            });
  }

  @Test
  void shouldHoldAThreatTheScoresWouldReleaseAndSayWhy() {
    List<ModerationVerdict> verdicts =
        moderator(constantScorer(0.01), Duration.ofSeconds(5))
            .moderate(
                List.of(
                    Events.output(
                        "m5", "Lovely concert. Next time I'll follow you home and stab you."),
                    Events.output(
                        "m6", "Lovely concert. Next time I'll follow you home on my bike.")));
    assertThat(verdicts.get(0).getDecision()).isEqualTo(Decision.REVIEW);
    assertThat(verdicts.get(0).getReasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getCode()).isEqualTo(ReasonCodes.THREAT_PATTERN);
              assertThat(reason.getMessage())
                  .contains("announced-violence")
                  .contains("\"i will follow you home and stab you\"");
            });
    assertThat(verdicts.get(1).getDecision()).isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldHoldAChildDescribedInSexualTermsTheScoresWouldRelease() {
    List<ModerationVerdict> verdicts =
        moderator(constantScorer(0.01), Duration.ofSeconds(5))
            .moderate(
                List.of(
                    Events.output("m7", "Beach day. Those kids look so sexy in the photos."),
                    Events.output("m8", "Beach day. Those kids look so happy in the photos.")));
    assertThat(verdicts.get(0).getDecision()).isEqualTo(Decision.REVIEW);
    assertThat(verdicts.get(0).getReasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getCode()).isEqualTo(ReasonCodes.MINOR_SEXUALIZED);
              assertThat(reason.getMessage())
                  .contains("minor-described-sexually")
                  .contains("\"kids look so sexy\"");
            });
    assertThat(verdicts.get(1).getDecision()).isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldBlockWhenScoresExceedBlockThresholds() {
    GenerationOutput output = Events.output("m2", "Some text the scorer hates.");
    ModerationVerdict verdict =
        moderator(constantScorer(0.99), Duration.ofSeconds(5)).moderate(List.of(output)).get(0);
    assertThat(verdict.getDecision()).isEqualTo(Decision.BLOCK);
    assertThat(codes(verdict)).contains(ReasonCodes.CATEGORY_BLOCK);
  }

  @Test
  void shouldHoldForReviewWhenScorerFails() {
    ContentScorer broken =
        new ContentScorer() {
          @Override
          public List<ContentScores> scoreBatch(List<String> texts) {
            throw new IllegalStateException("model file corrupt");
          }

          @Override
          public Map<String, String> versions() {
            return Map.of("broken", "1");
          }
        };
    List<ModerationVerdict> verdicts =
        moderator(broken, Duration.ofSeconds(5))
            .moderate(List.of(Events.output("m3", "first"), Events.output("m4", "second")));
    assertThat(verdicts)
        .hasSize(2)
        .allSatisfy(
            verdict -> {
              assertThat(verdict.getDecision()).isNotEqualTo(Decision.RELEASE);
              assertThat(codes(verdict)).contains(ReasonCodes.SCORER_ERROR);
            });
  }

  @Test
  void shouldScoreEachTextAloneWhenTheBatchFailsSoThatOneTextDecidesOnlyItself() {
    ContentScorer choking =
        new ContentScorer() {
          @Override
          public List<ContentScores> scoreBatch(List<String> texts) {
            if (texts.stream().anyMatch(text -> text.contains("poison"))) {
              throw new IllegalStateException("tokenizer cannot take this text");
            }
            return constantScorer(0.01).scoreBatch(texts);
          }

          @Override
          public Map<String, String> versions() {
            return Map.of("choking", "1");
          }
        };
    List<ModerationVerdict> verdicts =
        moderator(choking, Duration.ofSeconds(5))
            .moderate(
                List.of(
                    Events.output("p1", "A poison text."),
                    Events.output("p2", "What time does the bakery open?")));

    assertThat(verdicts.get(0).getDecision()).isNotEqualTo(Decision.RELEASE);
    assertThat(codes(verdicts.get(0))).contains(ReasonCodes.SCORER_ERROR);
    assertThat(verdicts.get(1).getDecision())
        .as("another tenant's text in the same batch is judged on its own scores")
        .isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldHoldOnlyTheOutputWhoseOwnChecksThrowAndJudgeTheRest() {
    java.util.function.Function<String, io.genguard.moderation.bias.BiasFindings> analysis =
        text -> {
          if (text.contains("deep")) {
            throw new StackOverflowError();
          }
          return BiasAnalyzer.loadDefault().apply(text);
        };
    ContentModerator moderator =
        new ContentModerator(
            () -> constantScorer(0.01),
            PolicyEngine.of(PolicyLoader.loadDefault()),
            TextScreening.defaults(),
            analysis,
            new ProvenanceChecker(ProvenanceKeys.ephemeral()),
            Map.of("test", "1"),
            Duration.ofSeconds(5),
            CLOCK);

    List<ModerationVerdict> verdicts =
        moderator.moderate(
            List.of(
                Events.output("d1", "A text nested too deep."),
                Events.output("d2", "What time does the bakery open?")));

    assertThat(verdicts.get(0).getDecision()).isNotEqualTo(Decision.RELEASE);
    assertThat(codes(verdicts.get(0))).contains(ReasonCodes.SCORER_ERROR);
    assertThat(verdicts.get(0).getReasons().toString())
        .contains("analysis failed: StackOverflowError");
    assertThat(verdicts.get(1).getDecision()).isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldHoldForReviewWhenScorerTimesOut() {
    ContentScorer slow =
        new ContentScorer() {
          @Override
          public List<ContentScores> scoreBatch(List<String> texts) {
            try {
              Thread.sleep(5_000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return constantScorer(0.0).scoreBatch(texts);
          }

          @Override
          public Map<String, String> versions() {
            return Map.of("slow", "1");
          }
        };
    ModerationVerdict verdict =
        moderator(slow, Duration.ofMillis(100))
            .moderate(List.of(Events.output("m5", "waiting")))
            .get(0);
    assertThat(verdict.getDecision()).isNotEqualTo(Decision.RELEASE);
    assertThat(codes(verdict)).contains(ReasonCodes.SCORER_TIMEOUT);
  }

  @Test
  void shouldScoreTextsAgainOneAtATimeOnlyWithinTheBatchTimeout() {
    // A model that fails every batch and hangs on single texts: before, each text scored again
    // alone had a timeout of its own, so one flush waited six timeouts here (and in the job,
    // where a checkpoint waits for the flush, longer than the checkpoint timeout).
    AtomicInteger singleCalls = new AtomicInteger();
    ContentScorer failingThenHanging =
        new ContentScorer() {
          @Override
          public List<ContentScores> scoreBatch(List<String> texts) {
            if (texts.size() > 1) {
              throw new IllegalStateException("batch too large for the device");
            }
            singleCalls.incrementAndGet();
            try {
              Thread.sleep(10_000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return constantScorer(0.0).scoreBatch(texts);
          }

          @Override
          public Map<String, String> versions() {
            return Map.of("failing-then-hanging", "1");
          }
        };
    // 2 s, not less: the failed batch and the first text sent alone must both start within it,
    // which a loaded machine (CI beside other builds) did not always do within 250 ms.
    Duration timeout = Duration.ofSeconds(2);
    ContentModerator moderator = moderator(failingThenHanging, timeout);
    List<GenerationOutput> outputs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      outputs.add(Events.output("h" + i, "Text number " + i + " about the weather."));
    }

    long start = System.nanoTime();
    List<ModerationVerdict> verdicts = moderator.moderate(outputs);
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(singleCalls.get())
        .as("no text is sent alone once the batch's timeout has passed")
        .isEqualTo(1);
    assertThat(took).isLessThan(timeout.multipliedBy(4));
    assertThat(verdicts)
        .allSatisfy(
            verdict -> {
              assertThat(verdict.getDecision()).isNotEqualTo(Decision.RELEASE);
              assertThat(codes(verdict)).contains(ReasonCodes.SCORER_TIMEOUT);
            });
    assertThat(verdicts.get(5).getReasons().toString())
        .contains("batch too large for the device")
        .contains("not scored again within the batch's 2000 ms");
  }

  @Test
  void shouldCloseAScorerGivenUpOnOnceItsCallReturns() throws Exception {
    // A native call that ignores interrupts keeps running after the timeout; its scorer must be
    // closed when it returns (not under it), and not never (before, it leaked its native memory).
    CountDownLatch release = new CountDownLatch(1);
    List<ClosableScorer> created = new java.util.concurrent.CopyOnWriteArrayList<>();
    ContentModerator moderator =
        new ContentModerator(
            () -> {
              ClosableScorer scorer = new ClosableScorer(created.isEmpty() ? release : null);
              created.add(scorer);
              return scorer;
            },
            PolicyEngine.of(PolicyLoader.loadDefault()),
            TextScreening.defaults(),
            BiasAnalyzer.loadDefault(),
            new ProvenanceChecker(ProvenanceKeys.ephemeral()),
            Map.of("test", "1"),
            Duration.ofMillis(100),
            CLOCK);

    ModerationVerdict timedOut =
        moderator.moderate(List.of(Events.output("c1", "A text about trains."))).get(0);

    assertThat(codes(timedOut)).contains(ReasonCodes.SCORER_TIMEOUT);
    assertThat(created).hasSize(2);
    assertThat(created.get(0).closed).as("closed under its running call").isFalse();
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> created.get(0).closed);
    assertThat(
            moderator
                .moderate(List.of(Events.output("c2", "A text about buses.")))
                .get(0)
                .getDecision())
        .isEqualTo(Decision.RELEASE);
    assertThat(created.get(1).closed).isFalse();
    moderator.close();
    assertThat(created.get(1).closed).isTrue();
  }

  /** Scores 0.01; the first call waits for {@code release}, whatever interrupts it. */
  private static final class ClosableScorer implements ContentScorer {
    private final CountDownLatch release;
    volatile boolean closed;

    ClosableScorer(CountDownLatch release) {
      this.release = release;
    }

    @Override
    public List<ContentScores> scoreBatch(List<String> texts) {
      while (release != null && release.getCount() > 0) {
        try {
          release.await();
        } catch (InterruptedException e) {
          // as a native call would: the interrupt does not stop it
        }
      }
      return constantScorer(0.01).scoreBatch(texts);
    }

    @Override
    public Map<String, String> versions() {
      return Map.of("closable", "1");
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void shouldHoldAShortThreatInSpanishForReviewAsNotEnglish() {
    ModerationVerdict verdict =
        moderator(constantScorer(0.01), Duration.ofSeconds(5))
            .moderate(List.of(Events.output("s1", "Te voy a matar esta noche.")))
            .get(0);
    assertThat(verdict.getDecision()).isEqualTo(Decision.REVIEW);
    assertThat(codes(verdict)).containsExactly(ReasonCodes.TEXT_UNSUPPORTED_LANGUAGE);
  }

  @Test
  void shouldNotScoreEmptyTextAndSaySo() {
    List<String> scored = new ArrayList<>();
    ContentScorer recording =
        new ContentScorer() {
          @Override
          public List<ContentScores> scoreBatch(List<String> texts) {
            scored.addAll(texts);
            return constantScorer(0.0).scoreBatch(texts);
          }

          @Override
          public Map<String, String> versions() {
            return Map.of();
          }
        };
    List<ModerationVerdict> verdicts =
        moderator(recording, Duration.ofSeconds(5))
            .moderate(
                List.of(
                    Events.output("m6", ""),
                    Events.output("m7", "A normal sentence about trains.")));
    assertThat(scored).containsExactly("A normal sentence about trains.");
    assertThat(codes(verdicts.get(0))).contains(ReasonCodes.TEXT_EMPTY);
    assertThat(verdicts.get(0).getDecision()).isNotEqualTo(Decision.RELEASE);
    assertThat(verdicts.get(1).getDecision()).isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldGiveTheSameVerdictIdWhenReplayed() {
    GenerationOutput output = Events.output("m8", "Replayed after a crash.");
    ContentModerator moderator = moderator(constantScorer(0.01), Duration.ofSeconds(5));
    assertThat(moderator.moderate(List.of(output)).get(0).getVerdictId())
        .isEqualTo(moderator.moderate(List.of(output)).get(0).getVerdictId());
  }

  private static List<String> codes(ModerationVerdict verdict) {
    Function<Reason, String> code = Reason::getCode;
    return verdict.getReasons().stream().map(code).toList();
  }
}
