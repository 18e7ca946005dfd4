package io.genguard.audit.http;

import io.genguard.audit.security.Caller;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * How many calls of one kind each tenant may have running at once (a semaphore per tenant, in
 * memory); global callers (the operator's staff) share one tenant's share of their own. Kept per
 * service instance.
 */
final class TenantSlots {
  /** The tenant key of global callers. */
  private static final String GLOBAL = "";

  private final int share;
  private final Map<String, Semaphore> running = new ConcurrentHashMap<>();

  TenantSlots(int share) {
    if (share < 1) {
      throw new IllegalArgumentException("a tenant's share must be at least 1: " + share);
    }
    this.share = share;
  }

  /** The calls one tenant may have running at once. */
  int share() {
    return share;
  }

  /**
   * Takes one of the caller's tenant's slots without waiting.
   *
   * @return false when the tenant already runs its share (nothing is taken)
   */
  boolean tryTake(Caller caller) {
    return slots(caller).tryAcquire();
  }

  /** Gives back a slot {@link #tryTake} took. */
  void giveBack(Caller caller) {
    slots(caller).release();
  }

  private Semaphore slots(Caller caller) {
    return running.computeIfAbsent(
        caller.tenantId() == null ? GLOBAL : caller.tenantId(), k -> new Semaphore(share));
  }
}
