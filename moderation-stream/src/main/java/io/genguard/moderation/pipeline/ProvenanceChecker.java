package io.genguard.moderation.pipeline;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.events.v1.SignedManifest;
import io.genguard.events.v1.WatermarkInfo;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestVerifier;
import io.genguard.provenance.watermark.WatermarkDetection;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkParameters;

/**
 * Checks an output's provenance with the shared provenance module: the watermark its event claims
 * (or, without a claim, any key we hold) and the signed manifest. "Not detected" means unknown,
 * never "human-written".
 */
public final class ProvenanceChecker {
  private final WatermarkDetector detector;
  private final ManifestVerifier verifier;

  public ProvenanceChecker(ProvenanceKeys keys) {
    this.detector = new WatermarkDetector(keys.watermark());
    this.verifier = new ManifestVerifier(keys.verification());
  }

  public ProvenanceFindings check(GenerationOutput output, String text) {
    WatermarkDetection detection = watermark(output.getWatermark(), text);
    SignedManifest manifest = output.getManifest();
    io.genguard.provenance.manifest.ManifestStatus manifestStatus =
        manifest == null
            ? io.genguard.provenance.manifest.ManifestStatus.ABSENT
            : verifier.verify(
                text, manifest.getCanonicalJson(), manifest.getSignature(), manifest.getKeyId());
    boolean scored = detection.tokensScored() > 0;
    return ProvenanceFindings.newBuilder()
        .setWatermark(status(detection))
        .setZScore(scored && Double.isFinite(detection.zScore()) ? detection.zScore() : null)
        .setPValue(scored && Double.isFinite(detection.pValue()) ? detection.pValue() : null)
        .setTokensScored(detection.tokensScored())
        .setManifest(ManifestStatus.valueOf(manifestStatus.name()))
        .build();
  }

  private WatermarkDetection watermark(WatermarkInfo claimed, String text) {
    if (claimed == null || !WatermarkParameters.SCHEME.equals(claimed.getScheme())) {
      return detector.detect(text);
    }
    WatermarkParameters parameters;
    try {
      parameters =
          new WatermarkParameters(
              claimed.getGamma(), claimed.getDelta(), claimed.getContextWidth());
    } catch (IllegalArgumentException e) {
      // No watermark of this scheme has such parameters (gamma 0, NaN, 9 tokens of context): the
      // claim cannot be checked, and it must not fail the batch on every restart of the job.
      return new WatermarkDetection(
          io.genguard.provenance.watermark.DetectionStatus.UNKNOWN_KEY,
          0.0,
          1.0,
          0,
          0,
          claimed.getKeyId());
    }
    return detector.detect(text, claimed.getKeyId(), parameters);
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
