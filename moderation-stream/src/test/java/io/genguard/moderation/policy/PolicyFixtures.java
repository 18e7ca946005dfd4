package io.genguard.moderation.policy;

import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScores;
import java.util.EnumMap;
import java.util.Map;

/** Named scores and a small policy for the policy tests. */
final class PolicyFixtures {
  static final String POLICY =
      """
      policyId: test-policy
      version: "7"
      default:
        categories:
          hate:          {review: 0.50, block: 0.90}
          harassment:    {review: 0.50, block: 0.90}
          sexual:        {review: 0.50, block: 0.90}
          sexual_minors: {review: 0.20, block: 0.60}
          violence:      {review: 0.50, block: 0.90}
          self_harm:     {review: 0.30, block: 0.85}
          illicit:       {review: 0.50, block: 0.90}
        failures:
          scorerError: REVIEW
          scorerTimeout: BLOCK
      tenants:
        strict:
          categories:
            violence: {review: 0.20}
          provenance:
            manifestAbsent: REVIEW
            watermarkNotDetected: REVIEW
          threats:
            decision: BLOCK
        threats-off:
          threats: {decision: RELEASE}
        minors-strict:
          sexualizedMinors: {decision: BLOCK}
        minors-off:
          sexualizedMinors: {decision: RELEASE}
        frames-on:
          framedPrejudice: {decision: REVIEW}
        self-harm-off:
          selfHarm: {decision: RELEASE}
      """;

  private PolicyFixtures() {}

  static PolicySet policy() {
    return PolicyLoader.parse(POLICY, "test-policy.yaml");
  }

  /** Every category at {@code base}, then the given overrides. */
  static ContentScores scores(double base, Object... categoryAndScore) {
    Map<Category, Double> map = new EnumMap<>(Category.class);
    for (Category category : Category.values()) {
      map.put(category, base);
    }
    double max = base;
    for (int i = 0; i < categoryAndScore.length; i += 2) {
      double score = (Double) categoryAndScore[i + 1];
      map.put((Category) categoryAndScore[i], score);
      max = Math.max(max, score);
    }
    return new ContentScores(max, map);
  }
}
