package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.bias.PrejudiceFrames;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.MinorSexualization;
import io.genguard.moderation.scoring.RuleMatch;
import io.genguard.moderation.scoring.SelfHarmPatterns;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.ThreatPatterns;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Decides RELEASE, REVIEW or BLOCK for one text from its findings and the tenant's policy. Every
 * rule that fires adds a reason naming what it saw (category, score, threshold); the decision is
 * the strictest any reason calls for, and a text with no findings is released with one reason that
 * says how far below the thresholds it was. Fails closed: without scores (scorer error, timeout, or
 * simply none given) the text is never released.
 *
 * <p>Stateless; the policy comes from a supplier so that a {@link PolicyReloader} can swap it.
 */
public final class PolicyEngine {
  private final Supplier<PolicySet> policies;

  public PolicyEngine(Supplier<PolicySet> policies) {
    this.policies = policies;
  }

  /** An engine over one fixed policy set. */
  public static PolicyEngine of(PolicySet set) {
    return new PolicyEngine(() -> set);
  }

  /** The policy file in force now (the supplier may read a changed file first). */
  public PolicySet current() {
    return policies.get();
  }

  /** Decides with the policy of the findings' tenant, naming the policy file it is in. */
  public PolicyVerdict decide(ModerationFindings findings) {
    PolicySet file = policies.get();
    return decide(file.forTenant(findings.tenantId()), findings).under(file);
  }

  /** Decides with the given policy. */
  public static PolicyVerdict decide(Policy policy, ModerationFindings findings) {
    List<VerdictReason> reasons = new ArrayList<>();
    boolean empty = false;
    for (TextScreening.Finding finding : findings.screening()) {
      empty |= finding.issue() == TextScreening.Issue.EMPTY;
      reasons.add(screeningReason(policy.screening(), finding));
    }
    ContentScores scores = findings.scores();
    if (findings.scorerFailure() != null) {
      reasons.add(failureReason(policy.failures(), findings.scorerFailure()));
    } else if (scores == null && !empty) {
      reasons.add(
          failureReason(
              policy.failures(),
              new ModerationFindings.ScorerFailure(
                  ModerationFindings.ScorerFailure.Kind.ERROR,
                  "no scores were produced for this text")));
    }
    if (scores != null) {
      for (Category category : Category.values()) {
        addThresholdReason(
            reasons,
            category.id(),
            scores.score(category),
            policy.categories().get(category),
            ReasonCodes.CATEGORY_REVIEW,
            ReasonCodes.CATEGORY_BLOCK);
      }
      if (policy.unsafe() != null) {
        addThresholdReason(
            reasons,
            null,
            scores.unsafe(),
            policy.unsafe(),
            ReasonCodes.UNSAFE_REVIEW,
            ReasonCodes.UNSAFE_BLOCK);
      }
      if (findings.bias() != null) {
        addBiasReasons(reasons, policy.targetedBias(), findings.bias(), scores);
      }
    }
    if (findings.provenance() != null) {
      addProvenanceReasons(reasons, policy.provenance(), findings);
    }
    addRuleReason(
        reasons,
        ReasonCodes.THREAT_PATTERN,
        policy.threats().decision(),
        "states a threat of violence",
        "threat pattern",
        findings.rules().threats(),
        ThreatPatterns.MAX_MATCHES);
    addRuleReason(
        reasons,
        ReasonCodes.MINOR_SEXUALIZED,
        policy.sexualizedMinors().decision(),
        "describes a minor in sexual terms",
        "rule",
        findings.rules().sexualizedMinors(),
        MinorSexualization.MAX_MATCHES);
    addRuleReason(
        reasons,
        ReasonCodes.PREJUDICE_FRAMED,
        policy.framedPrejudice().decision(),
        "states a generalization about a group inside a frame that endorses it",
        "frame",
        findings.rules().framedPrejudice(),
        PrejudiceFrames.MAX_MATCHES);
    addRuleReason(
        reasons,
        ReasonCodes.SELF_HARM_PATTERN,
        policy.selfHarm().decision(),
        "urges, coaches, hides or announces self-harm, suicide or disordered eating",
        "self-harm pattern",
        findings.rules().selfHarm(),
        SelfHarmPatterns.MAX_MATCHES);
    Decision decision = Decision.RELEASE;
    for (VerdictReason reason : reasons) {
      decision = stricter(decision, reason.decision());
    }
    if (reasons.stream().noneMatch(r -> r.decision() != Decision.RELEASE)) {
      reasons.add(clearReason(policy, scores));
    }
    return new PolicyVerdict(decision, reasons, policy.policyId(), policy.version(), "");
  }

  /** BLOCK over REVIEW over RELEASE. */
  public static Decision stricter(Decision a, Decision b) {
    return a.ordinal() >= b.ordinal() ? a : b;
  }

  private static void addThresholdReason(
      List<VerdictReason> reasons,
      String category,
      double score,
      Thresholds thresholds,
      String reviewCode,
      String blockCode) {
    String what = category == null ? "overall unsafe" : category;
    if (score >= thresholds.block()) {
      reasons.add(
          new VerdictReason(
              blockCode,
              Decision.BLOCK,
              category,
              score,
              thresholds.block(),
              what
                  + " score "
                  + ReasonNumbers.fixed(score, 3)
                  + " is at or above the BLOCK threshold "
                  + ReasonNumbers.fixed(thresholds.block(), 2)));
    } else if (score >= thresholds.review()) {
      reasons.add(
          new VerdictReason(
              reviewCode,
              Decision.REVIEW,
              category,
              score,
              thresholds.review(),
              what
                  + " score "
                  + ReasonNumbers.fixed(score, 3)
                  + " is at or above the REVIEW threshold "
                  + ReasonNumbers.fixed(thresholds.review(), 2)
                  + " (BLOCK at "
                  + ReasonNumbers.fixed(thresholds.block(), 2)
                  + ")"));
    }
  }

  private static void addBiasReasons(
      List<VerdictReason> reasons,
      Policy.TargetedBias rule,
      BiasFindings bias,
      ContentScores scores) {
    if (!bias.targetedGroups().isEmpty()) {
      Category worst = null;
      for (Category category : rule.categories()) {
        if (worst == null || scores.score(category) > scores.score(worst)) {
          worst = category;
        }
      }
      if (worst != null
          && scores.score(worst) >= rule.minScore()
          && rule.decision() != Decision.RELEASE) {
        reasons.add(
            new VerdictReason(
                ReasonCodes.BIAS_TARGETED,
                rule.decision(),
                worst.id(),
                scores.score(worst),
                rule.minScore(),
                worst.id()
                    + " content (score "
                    + ReasonNumbers.fixed(scores.score(worst), 3)
                    + ", targeted-bias threshold "
                    + ReasonNumbers.fixed(rule.minScore(), 2)
                    + ") is aimed at "
                    + String.join(", ", bias.targetedGroups())));
      }
    }
    if (!bias.groups().isEmpty()
        && bias.stereotypeScore() >= rule.stereotypeThreshold()
        && rule.stereotypeDecision() != Decision.RELEASE) {
      reasons.add(
          new VerdictReason(
              ReasonCodes.BIAS_STEREOTYPE,
              rule.stereotypeDecision(),
              null,
              bias.stereotypeScore(),
              rule.stereotypeThreshold(),
              "implicit-stereotype signal "
                  + ReasonNumbers.fixed(bias.stereotypeScore(), 3)
                  + " is at or above "
                  + ReasonNumbers.fixed(rule.stereotypeThreshold(), 2)
                  + " for "
                  + String.join(", ", bias.groups())));
    }
  }

  /**
   * One reason for all the sentences of a text that rules matched: what the first one shows, which
   * rule ({@code kind} and name) on which words, the sentence, and how many more ({@code cap}: the
   * most the rules keep).
   */
  /**
   * A rule's reason, naming its first match, when it matched and the policy acts on it (a RELEASE
   * decision turns the rule off).
   */
  private static void addRuleReason(
      List<VerdictReason> reasons,
      String code,
      Decision decision,
      String what,
      String kind,
      List<RuleMatch> matches,
      int cap) {
    if (matches.isEmpty() || decision == Decision.RELEASE) {
      return;
    }
    RuleMatch first = matches.get(0);
    reasons.add(
        new VerdictReason(
            code,
            decision,
            null,
            null,
            null,
            "a sentence "
                + what
                + " ("
                + kind
                + " "
                + first.rule()
                + " on \""
                + first.words()
                + "\"): \""
                + first.sentence()
                + "\""
                + moreSentences(matches.size(), cap)));
  }

  /** " (and N more sentences)" after the first of {@code matches}; "at least" at the cap. */
  private static String moreSentences(int matches, int cap) {
    return matches == 1
        ? ""
        : " (and "
            + (matches >= cap ? "at least " : "")
            + (matches - 1)
            + " more sentence"
            + (matches == 2 ? "" : "s")
            + ")";
  }

  /**
   * The reasons of the provenance findings; the manifest's and the watermark's reasons (why the
   * manifest is INVALID or the watermark NOT_CHECKED, when the check said more than the status)
   * come with the findings.
   */
  private static void addProvenanceReasons(
      List<VerdictReason> reasons, Policy.Provenance rule, ModerationFindings findings) {
    ProvenanceFindings provenance = findings.provenance();
    String manifestReason = findings.manifestReason();
    String watermarkReason = findings.watermarkReason();
    if (provenance.getManifest() == ManifestStatus.INVALID && findings.manifestKeyUnknown()) {
      // Not tampering: the signature could not be checked at all. Always named, whatever the
      // decision, so that a rotation done in the wrong order shows in the verdicts.
      reasons.add(
          new VerdictReason(
              ReasonCodes.MANIFEST_UNKNOWN_KEY,
              rule.manifestUnknownKey(),
              null,
              null,
              null,
              "the provenance manifest cannot be verified here"
                  + (manifestReason == null
                      ? ": it names a signing key this job does not know"
                      : ": " + manifestReason)
                  + "; nothing it states is trusted, and it is no sign that the text was altered"));
    } else if (provenance.getManifest() == ManifestStatus.INVALID) {
      reasons.add(
          new VerdictReason(
              ReasonCodes.MANIFEST_INVALID,
              rule.manifestInvalid(),
              null,
              null,
              null,
              manifestReason == null
                  ? "the provenance manifest's signature does not verify: the text or its manifest was altered"
                  : "the provenance manifest does not verify: " + manifestReason));
    } else if (provenance.getManifest() == ManifestStatus.ABSENT
        && rule.manifestAbsent() != Decision.RELEASE) {
      reasons.add(
          new VerdictReason(
              ReasonCodes.MANIFEST_ABSENT,
              rule.manifestAbsent(),
              null,
              null,
              null,
              "the output carries no provenance manifest and this policy requires a valid one"));
    } else if (provenance.getManifest() == ManifestStatus.VALID
        && Policy.Provenance.ECHO_BACKEND.equals(findings.backend())
        && rule.manifestEchoed() != Decision.RELEASE) {
      // Only a valid manifest signs the backend (and it must equal the event's); without one the
      // manifest rules above decide, never less strictly (PolicyLoader).
      reasons.add(
          new VerdictReason(
              ReasonCodes.MANIFEST_ECHOED,
              rule.manifestEchoed(),
              null,
              null,
              null,
              "the signed manifest names the \""
                  + Policy.Provenance.ECHO_BACKEND
                  + "\" backend: the text is the request's prompt, signed as it came, not generated"
                  + " by a model, and this policy holds such outputs"));
    }
    if (provenance.getWatermark() == WatermarkStatus.NOT_DETECTED
        && rule.watermarkNotDetected() != Decision.RELEASE) {
      String z =
          provenance.getZScore() == null
              ? ""
              : " (z = "
                  + ReasonNumbers.fixed(provenance.getZScore(), 2)
                  + " over "
                  + provenance.getTokensScored()
                  + " tokens)";
      reasons.add(
          new VerdictReason(
              ReasonCodes.WATERMARK_NOT_DETECTED,
              rule.watermarkNotDetected(),
              null,
              provenance.getZScore(),
              null,
              "no generator watermark was detected"
                  + z
                  + "; that means unknown origin, not human-written, and this policy requires the watermark"));
    } else if (provenance.getWatermark() == WatermarkStatus.NOT_CHECKED
        && rule.watermarkNotChecked() != Decision.RELEASE) {
      reasons.add(
          new VerdictReason(
              ReasonCodes.WATERMARK_NOT_CHECKED,
              rule.watermarkNotChecked(),
              null,
              null,
              null,
              "the generator watermark could not be checked"
                  + (watermarkReason == null ? "" : ": " + watermarkReason)
                  + "; the output's origin is unverified, and this policy requires the watermark"));
    } else if (provenance.getWatermark() == WatermarkStatus.TOO_SHORT
        && findings.watermarkRepetitive()
        && rule.watermarkNotDetected() != Decision.RELEASE) {
      // Too few distinct word pairs, but not short: watermarkTooShort: RELEASE is meant for short
      // replies, and would release an unwatermarked text of any length that repeats a few words.
      // Where the watermark is required such a text is held at least as the default holds a short
      // one (REVIEW); a policy that does not require it keeps watermarkTooShort and its reason.
      Decision decision =
          stricter(
              rule.watermarkTooShort(),
              Policy.Provenance.defaultTooShort(rule.watermarkNotDetected()));
      if (decision != Decision.RELEASE) {
        reasons.add(
            new VerdictReason(
                ReasonCodes.WATERMARK_REPETITIVE,
                decision,
                null,
                null,
                null,
                "the text repeats a few words, too few distinct word pairs for the generator"
                    + " watermark to be detected either way ("
                    + (watermarkReason != null
                        ? watermarkReason
                        : provenance.getTokensScored() + " scored")
                    + "); its origin is unverified, this policy requires the watermark, and a"
                    + " text this long is not released as one too short to tell"));
      }
    } else if (provenance.getWatermark() == WatermarkStatus.TOO_SHORT
        && rule.watermarkTooShort() != Decision.RELEASE) {
      reasons.add(
          new VerdictReason(
              ReasonCodes.WATERMARK_TOO_SHORT,
              rule.watermarkTooShort(),
              null,
              null,
              null,
              // The watermark is defined over space-separated words and scores distinct pairs: a
              // long text in a script written without spaces (Chinese, Japanese, Thai), or one
              // that repeats a few words, scores as few pairs as a short one. The check says
              // which, with the pairs and tokens counted (watermarkReason).
              "the text has too few distinct word pairs for the generator watermark to be"
                  + " detected either way ("
                  + (watermarkReason != null
                      ? watermarkReason
                      : provenance.getTokensScored()
                          + " scored: it is short, repeats itself, or is written in a script"
                          + " without spaces between words (Chinese, Japanese, Thai), which the"
                          + " word-level watermark cannot score")
                  + "); its origin is unverified, and this policy requires the watermark"));
    }
    if (findings.watermarkClaimMismatch() != null) {
      // The decision rests on the signed watermark; the event's copy of it, which the audit record
      // and the UI show, does not hold. Named, with no decision of its own.
      reasons.add(
          new VerdictReason(
              ReasonCodes.WATERMARK_CLAIM_MISMATCH,
              Decision.RELEASE,
              null,
              null,
              null,
              "the output's watermark claim differs from its signed manifest ("
                  + findings.watermarkClaimMismatch()
                  + "); the watermark was looked for as the signed manifest states, and the"
                  + " event's claim is not to be trusted"));
    }
  }

  private static VerdictReason screeningReason(
      Policy.Screening rule, TextScreening.Finding finding) {
    return switch (finding.issue()) {
      case EMPTY ->
          new VerdictReason(
              ReasonCodes.TEXT_EMPTY, rule.empty(), null, null, null, finding.detail());
      case TRUNCATED ->
          new VerdictReason(
              ReasonCodes.TEXT_TRUNCATED, rule.truncated(), null, null, null, finding.detail());
      case INVALID_UTF8 ->
          new VerdictReason(
              ReasonCodes.TEXT_INVALID_UTF8,
              rule.invalidUtf8(),
              null,
              null,
              null,
              finding.detail());
      case UNSUPPORTED_LANGUAGE ->
          new VerdictReason(
              ReasonCodes.TEXT_UNSUPPORTED_LANGUAGE,
              rule.unsupportedLanguage(),
              null,
              null,
              null,
              finding.detail());
      case OBFUSCATED ->
          new VerdictReason(
              ReasonCodes.TEXT_OBFUSCATED, rule.obfuscated(), null, null, null, finding.detail());
    };
  }

  private static VerdictReason failureReason(
      Policy.Failures rule, ModerationFindings.ScorerFailure failure) {
    boolean timeout = failure.kind() == ModerationFindings.ScorerFailure.Kind.TIMEOUT;
    Decision decision = timeout ? rule.scorerTimeout() : rule.scorerError();
    return new VerdictReason(
        timeout ? ReasonCodes.SCORER_TIMEOUT : ReasonCodes.SCORER_ERROR,
        decision,
        null,
        null,
        null,
        (timeout ? "the scorer timed out: " : "the scorer failed: ")
            + failure.message()
            + "; the text was not judged, so it is held ("
            + decision
            + ")");
  }

  private static VerdictReason clearReason(Policy policy, ContentScores scores) {
    if (scores == null) {
      return new VerdictReason(
          ReasonCodes.CLEAR, Decision.RELEASE, null, null, null, "no rule of the policy applies");
    }
    // Closest relative to its own threshold: with no score above zero, a category whose
    // threshold is low (self_harm 0.30) would otherwise be "closer" than hate at 0.16 of 0.50.
    Category highest = Category.HATE;
    double share = -1;
    for (Category category : Category.values()) {
      double review = policy.categories().get(category).review();
      double s = review > 0 ? scores.score(category) / review : Double.MAX_VALUE;
      if (s > share) {
        share = s;
        highest = category;
      }
    }
    double score = scores.score(highest);
    double threshold = policy.categories().get(highest).review();
    return new VerdictReason(
        ReasonCodes.CLEAR,
        Decision.RELEASE,
        highest.id(),
        score,
        threshold,
        "every category is below its REVIEW threshold; closest: "
            + highest.id()
            + " "
            + ReasonNumbers.fixed(score, 3)
            + " < "
            + ReasonNumbers.fixed(threshold, 2));
  }
}
