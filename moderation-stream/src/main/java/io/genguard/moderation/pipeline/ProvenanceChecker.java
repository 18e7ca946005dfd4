package io.genguard.moderation.pipeline;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.events.v1.SignedManifest;
import io.genguard.events.v1.WatermarkInfo;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.moderation.policy.ReasonNumbers;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestVerification;
import io.genguard.provenance.manifest.ManifestVerifier;
import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.provenance.text.LoneSurrogates;
import io.genguard.provenance.text.WordTokenizer;
import io.genguard.provenance.watermark.WatermarkDetection;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkParameters;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Checks an output's provenance with the shared provenance module: the signed manifest and the
 * watermark (or, without a claim, any key we hold). "Not detected" means unknown, never
 * "human-written".
 *
 * <p>A manifest is VALID only if its signature and text hash verify and it was signed for this very
 * output: its {@code requestId}, {@code outputId} and {@code model} (name, version, backend) must
 * equal the event's, or a valid manifest copied onto another event with the same text would vouch
 * for it; a {@code genguard.provenance.v2} manifest's {@code tenantId} must be the event's (checked
 * by the verifier, whose reason is kept), or a genuine output re-published under another tenant
 * would be judged VALID under that tenant's policy. A v1 manifest, signed before v2, names no
 * tenant and is not held to one. A manifest under a key id this job holds no public key of is
 * INVALID with its own reason ({@link Checked#manifestKeyUnknown()}): a key not configured yet or
 * removed, not an altered text.
 *
 * <p>The watermark is looked for with the parameters the valid manifest signed (scheme, key id,
 * gamma, delta, context width), not with the event's unsigned {@code watermark} claim, which anyone
 * who can write the topic can change; where the claim differs, {@link
 * Checked#watermarkClaimMismatch()} says how. Without a valid manifest the claim is all there is.
 * The manifest's sampling parameters and time describe the output and are not compared.
 */
public final class ProvenanceChecker {
  /** Longest value of a differing field quoted in a reason, in characters. */
  static final int MAX_QUOTED_CHARS = 64;

  private final WatermarkDetector detector;
  private final ManifestVerifier verifier;

  /**
   * An output's provenance findings; when its manifest is INVALID for a reason the status alone
   * does not tell, that reason (else null); when its watermark is NOT_CHECKED, why (else null);
   * when it is TOO_SHORT, how many distinct word pairs among how many tokens and why (else null);
   * whether the manifest is INVALID because its signing key is unknown here (the reason then says
   * which key and what to configure); how the event's watermark claim differs from the valid
   * manifest's watermark (else null); and whether a TOO_SHORT text is a long one that repeats a few
   * words rather than a short one (the policy does not let {@code watermarkTooShort} release it
   * where the watermark is required).
   */
  public record Checked(
      ProvenanceFindings findings,
      String manifestReason,
      String watermarkReason,
      boolean manifestKeyUnknown,
      String watermarkClaimMismatch,
      boolean watermarkRepetitive) {
    /** With a known key and no contradicted claim. */
    public Checked(ProvenanceFindings findings, String manifestReason, String watermarkReason) {
      this(findings, manifestReason, watermarkReason, false, null, false);
    }

    /** Without a reason for the watermark. */
    public Checked(ProvenanceFindings findings, String manifestReason) {
      this(findings, manifestReason, null);
    }
  }

  /** A watermark detection, and why it could not be checked when it could not (else null). */
  private record Watermark(WatermarkDetection detection, String notCheckedBecause) {}

  public ProvenanceChecker(ProvenanceKeys keys) {
    this.detector = new WatermarkDetector(keys.watermark());
    this.verifier = new ManifestVerifier(keys.verification());
  }

  public ProvenanceFindings check(GenerationOutput output, String text) {
    return inspect(output, text).findings();
  }

  /** Like {@link #check}, with the reasons the findings alone do not tell. */
  public Checked inspect(GenerationOutput output, String text) {
    SignedManifest manifest = output.getManifest();
    io.genguard.provenance.manifest.ManifestStatus manifestStatus;
    String manifestReason = null;
    boolean keyUnknown = false;
    ProvenanceManifest signed = null;
    if (manifest == null) {
      manifestStatus = io.genguard.provenance.manifest.ManifestStatus.ABSENT;
    } else {
      ManifestVerification verification =
          verifier.inspect(
              text,
              output.getTenantId(),
              manifest.getCanonicalJson(),
              manifest.getSignature(),
              manifest.getKeyId());
      manifestStatus = verification.status();
      if (manifestStatus == io.genguard.provenance.manifest.ManifestStatus.VALID) {
        manifestReason = signedForAnotherOutput(verification.manifest(), output);
        if (manifestReason != null) {
          manifestStatus = io.genguard.provenance.manifest.ManifestStatus.INVALID;
        } else {
          signed = verification.manifest();
        }
      } else if (verification.keyUnknown()) {
        keyUnknown = true;
        manifestReason = verification.reason();
      } else if (verification.signedAfterNotAfter() || verification.signedForAnotherTenant()) {
        // A retired key, a v1 manifest after the v1 cut-off, or a genuine output re-published
        // under another tenant, not an altered text: the reason names the key or the layout and
        // the dates, or both tenants.
        manifestReason = verification.reason();
      }
    }
    WatermarkInfo claimed = output.getWatermark();
    Watermark watermark;
    String claimMismatch = null;
    // Tokenized once, for the detection and for the count a TOO_SHORT reason names.
    int[] tokenIds = WordTokenizer.tokenIds(text);
    if (signed != null) {
      claimMismatch = claimDiffers(signed.watermark(), claimed);
      watermark = watermark(signed.watermark(), tokenIds, true);
    } else {
      watermark = watermark(claimOf(claimed), tokenIds, false);
    }
    WatermarkDetection detection = watermark.detection();
    boolean scored = detection.tokensScored() > 0;
    ProvenanceFindings findings =
        ProvenanceFindings.newBuilder()
            .setWatermark(status(detection))
            .setZScore(scored && Double.isFinite(detection.zScore()) ? detection.zScore() : null)
            .setPValue(scored && Double.isFinite(detection.pValue()) ? detection.pValue() : null)
            .setTokensScored(detection.tokensScored())
            .setManifest(ManifestStatus.valueOf(manifestStatus.name()))
            .build();
    String watermarkReason = null;
    boolean repetitive = false;
    if (findings.getWatermark() == WatermarkStatus.NOT_CHECKED) {
      watermarkReason = watermark.notCheckedBecause();
    } else if (findings.getWatermark() == WatermarkStatus.TOO_SHORT) {
      int tokens = tokenIds.length;
      repetitive = repeatsItself(tokens);
      watermarkReason = tooFewPairs(detection.tokensScored(), tokens);
    }
    return new Checked(
        findings, manifestReason, watermarkReason, keyUnknown, claimMismatch, repetitive);
  }

  /**
   * Whether a TOO_SHORT text of this many tokens is long and repeats itself: with this many tokens
   * the pairs would have been enough at any context width (at most 8) had the text not repeated
   * them.
   */
  private boolean repeatsItself(int tokens) {
    return tokens >= 2 * detector.minimumTokens();
  }

  /**
   * Why a text was TOO_SHORT: how many distinct word pairs were scored among how many tokens, and
   * which of the explanations fits. Distinct pairs, not tokens, are scored (a repeated phrase
   * counts once), so a long text that repeats a few words is TOO_SHORT too, and "short" would be
   * the wrong word for it (the forty-first session's provenance review: an 88-character sentence
   * 200 times, 3,600 tokens, 18 pairs).
   */
  private String tooFewPairs(int scored, int tokens) {
    String counts =
        ReasonNumbers.grouped(scored)
            + " distinct word pairs among "
            + ReasonNumbers.grouped(tokens)
            + " tokens";
    if (repeatsItself(tokens)) {
      return counts + ": the text repeats the same few words, and a repeated word pair counts once";
    }
    return counts
        + ": the text is short, repeats itself, or is written in a script without spaces between"
        + " words (Chinese, Japanese, Thai), which the word-level watermark cannot score";
  }

  /**
   * Null when the event's watermark claim states what the signed manifest's watermark does (both
   * none, or every field equal); else every field that differs, with both values.
   */
  static String claimDiffers(ProvenanceManifest.Watermark inManifest, WatermarkInfo inEvent) {
    if (inManifest == null && inEvent == null) {
      return null;
    }
    if (inManifest == null) {
      return "the event claims watermark key "
          + quote(inEvent.getKeyId())
          + " of scheme "
          + quote(inEvent.getScheme())
          + ", the manifest states that no watermark was embedded";
    }
    if (inEvent == null) {
      return "the manifest states watermark key "
          + quote(inManifest.keyId())
          + ", the event claims no watermark";
    }
    List<String> differences = new ArrayList<>();
    compare(differences, "scheme", inManifest.scheme(), inEvent.getScheme());
    compare(differences, "keyId", inManifest.keyId(), inEvent.getKeyId());
    compareNumber(differences, "gamma", inManifest.gamma(), inEvent.getGamma());
    compareNumber(differences, "delta", inManifest.delta(), inEvent.getDelta());
    compareNumber(
        differences, "contextWidth", inManifest.contextWidth(), inEvent.getContextWidth());
    return differences.isEmpty() ? null : String.join("; ", differences);
  }

  private static void compareNumber(
      List<String> differences, String field, double inManifest, double inEvent) {
    if (Double.compare(inManifest, inEvent) != 0) {
      differences.add(
          field
              + " "
              + number(inManifest)
              + " in the manifest, "
              + number(inEvent)
              + " in the event");
    }
  }

  /** A whole number without ".0" (context widths), any other as Java writes it. */
  private static String number(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }

  /** The event's claim in the manifest's terms, or null when it claims none. */
  private static ProvenanceManifest.Watermark claimOf(WatermarkInfo claimed) {
    return claimed == null
        ? null
        : new ProvenanceManifest.Watermark(
            claimed.getScheme(),
            claimed.getKeyId(),
            claimed.getGamma(),
            claimed.getDelta(),
            claimed.getContextWidth());
  }

  /**
   * Null when the manifest names this output (request, output and model); else a reason naming
   * every field that differs, with both values (each cut to {@value #MAX_QUOTED_CHARS} characters).
   */
  static String signedForAnotherOutput(ProvenanceManifest manifest, GenerationOutput output) {
    ModelRef model = output.getModel();
    List<String> differences = new ArrayList<>();
    compare(differences, "requestId", manifest.requestId(), output.getRequestId());
    compare(differences, "outputId", manifest.outputId(), output.getOutputId());
    compare(
        differences, "model.name", manifest.modelName(), model == null ? null : model.getName());
    compare(
        differences,
        "model.version",
        manifest.modelVersion(),
        model == null ? null : model.getVersion());
    compare(
        differences,
        "model.backend",
        manifest.backend(),
        model == null ? null : model.getBackend());
    return differences.isEmpty()
        ? null
        : "it was signed for another output (" + String.join("; ", differences) + ")";
  }

  private static void compare(
      List<String> differences, String field, String inManifest, String inEvent) {
    if (!Objects.equals(inManifest, inEvent)) {
      differences.add(
          field
              + " "
              + quote(inManifest)
              + " in the manifest, "
              + quote(inEvent)
              + " in the event");
    }
  }

  /** The value in quotes, cut to {@value #MAX_QUOTED_CHARS} characters (saying how long it was). */
  static String quote(String value) {
    if (value == null) {
      return "none";
    }
    String repaired = LoneSurrogates.replaced(value);
    if (repaired.length() <= MAX_QUOTED_CHARS) {
      return "\"" + repaired + "\"";
    }
    int end = MAX_QUOTED_CHARS;
    if (Character.isHighSurrogate(repaired.charAt(end - 1))) {
      end--; // never split a surrogate pair
    }
    return "\"" + repaired.substring(0, end) + "...\" (" + repaired.length() + " characters)";
  }

  /**
   * The watermark looked for as {@code claim} states it.
   *
   * @param signed whether the claim is the valid manifest's (else the event's), for the reasons
   */
  private Watermark watermark(ProvenanceManifest.Watermark claim, int[] tokenIds, boolean signed) {
    // A verifier given no watermark key holds none (ProvenanceKeys.forVerifier): every watermark
    // is then not checked, and the reason says what to configure.
    String noKeys =
        detector
            .keys()
            .notConfigured()
            .map(where -> "this job holds no watermark key (" + where + ")")
            .orElse(null);
    if (claim == null || !WatermarkParameters.SCHEME.equals(claim.scheme())) {
      return new Watermark(
          detector.detectAnyKey(tokenIds, WatermarkParameters.DEFAULTS),
          (signed ? "the signed manifest states" : "the output claims")
              + " no watermark of scheme "
              + WatermarkParameters.SCHEME
              + " and "
              + (noKeys == null ? "this job holds no watermark key to look for one" : noKeys));
    }
    WatermarkParameters parameters;
    try {
      parameters = new WatermarkParameters(claim.gamma(), claim.delta(), claim.contextWidth());
    } catch (IllegalArgumentException e) {
      // No watermark of this scheme has such parameters (gamma 0, NaN, 9 tokens of context): the
      // claim cannot be checked, and it must not fail the batch on every restart of the job. A
      // claim no generator makes is invalid; the policy holds it at least as strictly as a
      // watermark not detected.
      return new Watermark(
          new WatermarkDetection(
              io.genguard.provenance.watermark.DetectionStatus.UNKNOWN_KEY,
              0.0,
              1.0,
              0,
              0,
              claim.keyId()),
          (signed ? "the signed manifest's watermark" : "the claim")
              + " is invalid: no watermark of scheme "
              + WatermarkParameters.SCHEME
              + " has its parameters (gamma "
              + claim.gamma()
              + ", delta "
              + claim.delta()
              + ", context width "
              + claim.contextWidth()
              + ")");
    }
    return new Watermark(
        detector.detect(tokenIds, claim.keyId(), parameters),
        (signed ? "the signed manifest names" : "the output claims")
            + " watermark key "
            + quote(claim.keyId())
            + (noKeys == null ? ", which this job does not hold" : ", and " + noKeys));
  }

  private static WatermarkStatus status(WatermarkDetection detection) {
    return switch (detection.status()) {
      case WATERMARKED -> WatermarkStatus.DETECTED;
      case NOT_DETECTED -> WatermarkStatus.NOT_DETECTED;
      case TOO_SHORT -> WatermarkStatus.TOO_SHORT;
      case UNKNOWN_KEY -> WatermarkStatus.NOT_CHECKED;
    };
  }
}
