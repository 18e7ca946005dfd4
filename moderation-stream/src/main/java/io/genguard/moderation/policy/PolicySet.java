package io.genguard.moderation.policy;

import java.util.Map;

/**
 * Everything one policy file says: the default rules and each tenant's resolved rules, with the
 * file's id, version and content digest (so an audit can tell two edits of one version apart).
 */
public record PolicySet(
    String policyId,
    String version,
    String sha256,
    Policy defaultPolicy,
    Map<String, Policy> tenants) {
  public PolicySet {
    tenants = Map.copyOf(tenants);
  }

  /** The tenant's rules, or the default rules for a tenant the file does not name. */
  public Policy forTenant(String tenantId) {
    Policy policy = tenantId == null ? null : tenants.get(tenantId);
    return policy != null ? policy : defaultPolicy;
  }
}
