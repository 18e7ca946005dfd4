package io.genguard.moderation.policy;

import java.util.Map;

/**
 * Everything one policy file says: the default rules and each tenant's resolved rules, with the
 * file's id, version and content digest (so an audit can tell two edits of one version apart), and
 * the file itself (its text and where it was read), so that the job can publish what it decides
 * under.
 */
public record PolicySet(
    String policyId,
    String version,
    String sha256,
    Policy defaultPolicy,
    Map<String, Policy> tenants,
    String text,
    String origin) {
  public PolicySet {
    tenants = Map.copyOf(tenants);
  }

  /** Without the text, which may be long. */
  @Override
  public String toString() {
    return "PolicySet["
        + policyId
        + " version "
        + version
        + ", SHA-256 "
        + sha256
        + ", "
        + origin
        + "]";
  }

  /** The tenant's rules, or the default rules for a tenant the file does not name. */
  public Policy forTenant(String tenantId) {
    Policy policy = tenantId == null ? null : tenants.get(tenantId);
    return policy != null ? policy : defaultPolicy;
  }
}
