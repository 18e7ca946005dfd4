package io.genguard.audit.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TenantRateLimiterTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private final AtomicLong now = new AtomicLong(1_000 * SECOND);

  private TenantRateLimiter limiter(int perSecond, int burst, int maxTenants) {
    return new TenantRateLimiter(perSecond, burst, maxTenants, now::get);
  }

  @Test
  void shouldAllowABurstThenTheRateAndSayHowLongToWait() {
    TenantRateLimiter limiter = limiter(4, 3, 100);
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.tryTake("acme")).as("request %d of the burst", i).isZero();
    }
    assertThat(limiter.tryTake("acme")).isEqualTo(SECOND / 4);

    now.addAndGet(SECOND / 8);
    assertThat(limiter.tryTake("acme")).as("half a token back").isEqualTo(SECOND / 8);
    now.addAndGet(SECOND / 8);
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isEqualTo(SECOND / 4);
  }

  @Test
  void shouldRefillToTheBurstAndNoFurther() {
    TenantRateLimiter limiter = limiter(10, 2, 100);
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isZero();
    now.addAndGet(3600 * SECOND);
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isPositive();
  }

  @Test
  void shouldKeepEachTenantsAllowanceApart() {
    TenantRateLimiter limiter = limiter(1, 1, 100);
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isPositive();
    assertThat(limiter.tryTake("globex")).isZero();
  }

  @Test
  void shouldNotLimitAtRateZero() {
    TenantRateLimiter limiter = limiter(0, 1, 1);
    for (int i = 0; i < 1_000; i++) {
      assertThat(limiter.tryTake("tenant-" + i)).isZero();
    }
    assertThat(limiter.tracked()).isZero();
  }

  @Test
  void shouldTrackAtMostItsTenantsAndMakeANewOneWaitUntilOneRefills() {
    TenantRateLimiter limiter = limiter(2, 2, 2);
    assertThat(limiter.tryTake("a")).isZero();
    now.addAndGet(SECOND / 4);
    assertThat(limiter.tryTake("b")).isZero();
    // Both tracked tenants are still refilling: "a" is full again in 1/4 s.
    assertThat(limiter.tryTake("c")).isEqualTo(SECOND / 4);
    assertThat(limiter.tracked()).isEqualTo(2);

    now.addAndGet(SECOND / 4);
    assertThat(limiter.tryTake("c")).as("a refilled and was dropped").isZero();
    assertThat(limiter.tracked()).isEqualTo(2);
    // "a" is untracked now, and "b" and "c" are both refilling: "b" is full again in 1/4 s.
    assertThat(limiter.tryTake("a")).isEqualTo(SECOND / 4);
  }

  @Test
  void shouldRefuseANegativeRateOrAnEmptyBurst() {
    assertThatThrownBy(() -> new TenantRateLimiter(-1, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TenantRateLimiter(1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
