package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.Reason;
import java.util.List;

/**
 * What policy decided about one text: the decision (the strictest any reason calls for), every
 * reason, and which policy decided.
 *
 * @param policySha256 hex SHA-256 of the policy file's bytes ({@link PolicySet#sha256()}); empty
 *     when decided by a lone {@link Policy} outside a file
 */
public record PolicyVerdict(
    Decision decision,
    List<VerdictReason> reasons,
    String policyId,
    String policyVersion,
    String policySha256) {
  public PolicyVerdict {
    reasons = List.copyOf(reasons);
    if (reasons.isEmpty()) {
      throw new IllegalArgumentException("a verdict needs at least one reason");
    }
  }

  /** The same verdict, naming the policy file it was decided under. */
  public PolicyVerdict under(PolicySet file) {
    return new PolicyVerdict(decision, reasons, policyId, policyVersion, file.sha256());
  }

  /** Reasons in their wire form. */
  public List<Reason> avroReasons() {
    return reasons.stream().map(VerdictReason::toAvro).toList();
  }
}
