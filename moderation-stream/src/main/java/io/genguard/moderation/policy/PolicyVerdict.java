package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.Reason;
import java.util.List;

/**
 * What policy decided about one text: the decision (the strictest any reason calls for), every
 * reason, and which policy decided.
 */
public record PolicyVerdict(
    Decision decision, List<VerdictReason> reasons, String policyId, String policyVersion) {
  public PolicyVerdict {
    reasons = List.copyOf(reasons);
    if (reasons.isEmpty()) {
      throw new IllegalArgumentException("a verdict needs at least one reason");
    }
  }

  /** Reasons in their wire form. */
  public List<Reason> avroReasons() {
    return reasons.stream().map(VerdictReason::toAvro).toList();
  }
}
