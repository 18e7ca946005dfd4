package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.moderation.scoring.Category;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The rules in force for one tenant (the file's default rules merged with the tenant's overrides),
 * as loaded from a policy file by {@link PolicyLoader}. Immutable.
 *
 * @param policyId the file's policy id, plus {@code :tenant} when a tenant's overrides apply
 * @param version the file's version, recorded in every verdict
 * @param categories REVIEW and BLOCK thresholds for every category
 * @param unsafe thresholds on the overall unsafe probability, or null to judge by categories only
 * @param targetedBias rules on unsafe content aimed at a demographic group
 * @param provenance what a missing or invalid manifest, one under a signing key this job does not
 *     know, or a watermark not detected, not checked or on a text too short to tell, calls for
 * @param failures what a scorer error or timeout calls for: REVIEW or BLOCK, never RELEASE
 * @param screening what text that could not be fully judged calls for
 * @param threats what a sentence that states a threat of violence calls for ({@code
 *     ThreatPatterns})
 * @param sexualizedMinors what a sentence that describes a child in sexual terms calls for ({@code
 *     MinorSexualization})
 * @param framedPrejudice what a generalization about a group inside an endorsing frame calls for
 *     ({@code PrejudiceFrames})
 * @param selfHarm what a sentence that urges, coaches, hides or announces self-harm, suicide or
 *     disordered eating calls for ({@code SelfHarmPatterns})
 */
public record Policy(
    String policyId,
    String version,
    Map<Category, Thresholds> categories,
    Thresholds unsafe,
    TargetedBias targetedBias,
    Provenance provenance,
    Failures failures,
    Screening screening,
    Threats threats,
    SexualizedMinors sexualizedMinors,
    FramedPrejudice framedPrejudice,
    SelfHarm selfHarm) {

  public Policy {
    EnumMap<Category, Thresholds> copy = new EnumMap<>(Category.class);
    copy.putAll(categories);
    for (Category category : Category.values()) {
      if (!copy.containsKey(category)) {
        throw new IllegalArgumentException("no thresholds for category " + category.id());
      }
    }
    categories = Collections.unmodifiableMap(copy);
  }

  /**
   * Unsafe content aimed at a group: when the analyzer finds a targeted group and any of {@code
   * categories} scores at least {@code minScore}, {@code decision} applies. An implicit-stereotype
   * score at or above {@code stereotypeThreshold} about a mentioned group calls for {@code
   * stereotypeDecision}.
   */
  public record TargetedBias(
      Set<Category> categories,
      double minScore,
      Decision decision,
      double stereotypeThreshold,
      Decision stereotypeDecision) {
    public TargetedBias {
      categories =
          Collections.unmodifiableSet(
              categories.isEmpty() ? EnumSet.noneOf(Category.class) : EnumSet.copyOf(categories));
      requireProbability("targetedBias.minScore", minScore);
      requireProbability("targetedBias.stereotypeThreshold", stereotypeThreshold);
    }
  }

  /**
   * Decisions for provenance findings (a valid manifest and a detected watermark call for none).
   *
   * @param watermarkNotDetected a watermark was looked for and not found; anything but RELEASE
   *     means this policy requires the watermark
   * @param watermarkNotChecked the watermark could not be looked for: the output claims a key this
   *     job does not hold or parameters no watermark of the scheme has, or the job holds no key. At
   *     least as strict as {@code watermarkNotDetected}, or a bogus claim would get an output past
   *     a policy that requires the watermark
   * @param watermarkTooShort the text has too few distinct word pairs for the watermark to be
   *     detected either way. Where the watermark is required, a long text that repeats a few words
   *     (reason {@code provenance.watermark_repetitive}) is held at least as {@link
   *     #defaultTooShort} says (REVIEW) even when this is RELEASE: it is not short
   * @param manifestUnknownKey the manifest names a signing key this job holds no public key of: one
   *     not configured yet (a rotation out of order), one removed (compromised), or a forger's made
   *     up id; its signature cannot be checked, so it proves nothing, and it is no sign of an
   *     altered text either. At least as strict as {@code manifestAbsent}, or a manifest under any
   *     unknown id would get an output past a policy that requires a valid one
   * @param manifestEchoed a VALID manifest names the echo backend ({@link #ECHO_BACKEND}): the text
   *     is the request's prompt, the tenant's own text signed as it came, not generated. RELEASE
   *     (the default) treats it like any output with a valid manifest. No stricter than {@code
   *     manifestAbsent}, or leaving out the manifest (and the backend's name, which only the
   *     manifest signs) would get such a text past the rule
   */
  public record Provenance(
      Decision manifestInvalid,
      Decision manifestAbsent,
      Decision watermarkNotDetected,
      Decision watermarkNotChecked,
      Decision watermarkTooShort,
      Decision manifestUnknownKey,
      Decision manifestEchoed) {
    /**
     * The backend name ({@code model.backend}) of the generator's echo backend, which returns the
     * prompt as the output ({@code io.genguard.generator.echo.EchoBackend.NAME}; this module does
     * not depend on the generator's; local-stack's {@code BackendNamesTest} keeps the two equal).
     */
    public static final String ECHO_BACKEND = "echo";

    public Provenance {
      if (PolicyEngine.stricter(watermarkNotChecked, watermarkNotDetected) != watermarkNotChecked) {
        throw new IllegalArgumentException(
            "provenance.watermarkNotChecked ("
                + watermarkNotChecked
                + ") must be at least as strict as watermarkNotDetected ("
                + watermarkNotDetected
                + ")");
      }
      if (PolicyEngine.stricter(manifestUnknownKey, manifestAbsent) != manifestUnknownKey) {
        throw new IllegalArgumentException(
            "provenance.manifestUnknownKey ("
                + manifestUnknownKey
                + ") must be at least as strict as manifestAbsent ("
                + manifestAbsent
                + ")");
      }
      if (PolicyEngine.stricter(manifestAbsent, manifestEchoed) != manifestAbsent) {
        throw new IllegalArgumentException(
            "provenance.manifestEchoed ("
                + manifestEchoed
                + ") must not be stricter than manifestAbsent ("
                + manifestAbsent
                + ")");
      }
    }

    /** The rules with {@code manifestEchoed} left out: RELEASE, an echoed text like any other. */
    public Provenance(
        Decision manifestInvalid,
        Decision manifestAbsent,
        Decision watermarkNotDetected,
        Decision watermarkNotChecked,
        Decision watermarkTooShort,
        Decision manifestUnknownKey) {
      this(
          manifestInvalid,
          manifestAbsent,
          watermarkNotDetected,
          watermarkNotChecked,
          watermarkTooShort,
          manifestUnknownKey,
          Decision.RELEASE);
    }

    /** The rules with {@code manifestUnknownKey} left out: {@link #defaultUnknownKey}. */
    public Provenance(
        Decision manifestInvalid,
        Decision manifestAbsent,
        Decision watermarkNotDetected,
        Decision watermarkNotChecked,
        Decision watermarkTooShort) {
      this(
          manifestInvalid,
          manifestAbsent,
          watermarkNotDetected,
          watermarkNotChecked,
          watermarkTooShort,
          defaultUnknownKey(manifestInvalid, manifestAbsent));
    }

    /**
     * Manifest rules and {@code watermarkNotDetected}, with the defaults for the others: a
     * watermark that could not be checked is held as strictly as one not detected, and a text too
     * short to tell is released when the watermark is not required, else goes to REVIEW.
     */
    public Provenance(
        Decision manifestInvalid, Decision manifestAbsent, Decision watermarkNotDetected) {
      this(
          manifestInvalid,
          manifestAbsent,
          watermarkNotDetected,
          watermarkNotDetected,
          defaultTooShort(watermarkNotDetected));
    }

    /**
     * The stricter of {@code manifestInvalid} and {@code manifestAbsent} (BLOCK in the built-in
     * policy). Fail closed: this job cannot tell a manifest signed with a new key it was not given
     * from one forged under a made-up id or signed with a key removed as compromised, so by default
     * it is held like a manifest that does not verify; a policy may send it to REVIEW instead (say
     * during a rotation), never below {@code manifestAbsent}.
     */
    public static Decision defaultUnknownKey(Decision manifestInvalid, Decision manifestAbsent) {
      return PolicyEngine.stricter(manifestInvalid, manifestAbsent);
    }

    /** RELEASE when the watermark is not required, else REVIEW: a person looks at a short text. */
    public static Decision defaultTooShort(Decision watermarkNotDetected) {
      return watermarkNotDetected == Decision.RELEASE ? Decision.RELEASE : Decision.REVIEW;
    }
  }

  /** Decisions when the scorer could not judge the text; RELEASE is refused (fail closed). */
  public record Failures(Decision scorerError, Decision scorerTimeout) {
    public Failures {
      if (scorerError == Decision.RELEASE || scorerTimeout == Decision.RELEASE) {
        throw new IllegalArgumentException(
            "a scorer error or timeout must lead to REVIEW or BLOCK, never RELEASE (fail closed)");
      }
    }
  }

  /**
   * Decisions for texts that are empty, truncated for scoring, not UTF-8, not in English, or that
   * disguise words with invisible characters or look-alike letters ({@code obfuscated}). A
   * truncated text was scored and checked by the rules only up to the screening's limit (what
   * follows it would be released unread), and an invalid one with replacement characters where it
   * could not be decoded (which can break up the words the scores and rules look for), so neither
   * may be RELEASE (fail closed). An obfuscated text may: the scores and rules read it with the
   * invisible characters removed and the look-alikes as Latin letters.
   */
  public record Screening(
      Decision empty,
      Decision truncated,
      Decision invalidUtf8,
      Decision unsupportedLanguage,
      Decision obfuscated) {
    public Screening {
      if (truncated == Decision.RELEASE || invalidUtf8 == Decision.RELEASE) {
        throw new IllegalArgumentException(
            "a truncated or invalid UTF-8 text must lead to REVIEW or BLOCK, never RELEASE (fail"
                + " closed)");
      }
    }
  }

  /**
   * What a threat of violence found by its shape ({@code ThreatPatterns}) calls for, whatever the
   * scores say: REVIEW by default, so that a person reads it; RELEASE turns the rule off.
   */
  public record Threats(Decision decision) {}

  /**
   * What a child described in sexual terms ({@code MinorSexualization}) calls for, whatever the
   * scores say: REVIEW by default, so that a person reads it; RELEASE turns the rule off.
   */
  public record SexualizedMinors(Decision decision) {}

  /**
   * What a generalization about a group stated inside a frame that endorses it ({@code
   * PrejudiceFrames}: "I'm not racist, but ...", "Everyone knows ...") calls for, whatever the
   * scores say. RELEASE (the rule off) by default: it sends praise inside such a frame to review
   * too; REVIEW turns it on.
   */
  public record FramedPrejudice(Decision decision) {}

  /**
   * What a sentence that urges, coaches, hides or announces self-harm, suicide or disordered eating
   * ({@code SelfHarmPatterns}) calls for, whatever the scores say: REVIEW by default, so that a
   * person reads it; RELEASE turns the rule off.
   */
  public record SelfHarm(Decision decision) {}

  static void requireProbability(String name, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException(name + " must be in 0..1, got " + value);
    }
  }
}
