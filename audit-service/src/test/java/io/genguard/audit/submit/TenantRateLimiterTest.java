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
  void shouldAllowABurstThenTheRateAndSayHowLongToWait() throws Exception {
    TenantRateLimiter limiter = limiter(4, 3, 100);
    assertThat(limiter.tokensLeft("acme")).as("untracked: the whole burst").hasValue(3);
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.tryTake("acme")).as("request %d of the burst", i).isZero();
    }
    assertThat(limiter.tryTake("acme")).isEqualTo(SECOND / 4);

    now.addAndGet(SECOND / 8);
    assertThat(limiter.tokensLeft("acme")).as("reading takes nothing").hasValue(0.5);
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
  void shouldLetAStoredAllowanceWinKeepingWhatTheTenantHadLeftUpToItsNewBurst() {
    TenantRateLimiter limiter =
        new TenantRateLimiter(
            new TenantRateLimiter.Allowance(1, 1),
            java.util.Map.of("vip", new TenantRateLimiter.Allowance(10, 10)),
            100,
            now::get);
    for (int i = 0; i < 6; i++) {
      assertThat(limiter.tryTake("vip")).isZero();
    }
    assertThat(limiter.source("vip")).isEqualTo(TenantRateLimiter.Source.CONFIGURED);

    limiter.setStored(java.util.Map.of("vip", new TenantRateLimiter.Allowance(1, 2)));
    assertThat(limiter.source("vip")).isEqualTo(TenantRateLimiter.Source.SET);
    assertThat(limiter.allowance("vip")).isEqualTo(new TenantRateLimiter.Allowance(1, 2));
    assertThat(limiter.tryTake("vip")).as("4 left, capped at the new burst of 2").isZero();
    assertThat(limiter.tryTake("vip")).isZero();
    assertThat(limiter.tryTake("vip")).isEqualTo(SECOND);

    limiter.setStored(java.util.Map.of());
    assertThat(limiter.source("vip")).isEqualTo(TenantRateLimiter.Source.CONFIGURED);
    assertThat(limiter.tryTake("vip")).as("back at 10 a second").isEqualTo(SECOND / 10);
    assertThat(limiter.source("acme")).isEqualTo(TenantRateLimiter.Source.STANDARD);
  }

  @Test
  void shouldAskTheSharedBucketsAndCountInThisProcessWhileTheyDoNotAnswer() throws Exception {
    TenantRateLimiter limiter = limiter(1, 2, 100);
    java.util.List<String> asked = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean down =
        new java.util.concurrent.atomic.AtomicBoolean();
    limiter.shareThrough(
        new TenantRateLimiter.SharedBuckets() {
          @Override
          public long take(String tenant, TenantRateLimiter.Allowance allowance) throws Exception {
            asked.add(tenant + " " + allowance);
            if (down.get()) {
              throw new java.sql.SQLException("Connection refused");
            }
            return tenant.equals("acme") ? 7 : 0;
          }

          @Override
          public double tokensLeft(String tenant, TenantRateLimiter.Allowance allowance) {
            return 0.25;
          }
        });
    assertThat(limiter.tryTake("acme")).as("the shared bucket's answer").isEqualTo(7);
    assertThat(limiter.tryTake("globex")).isZero();
    assertThat(asked)
        .containsExactly(
            "acme Allowance[perSecond=1, burst=2]", "globex Allowance[perSecond=1, burst=2]");
    assertThat(limiter.refused()).isEqualTo(1);
    assertThat(limiter.tracks("acme")).as("counted in the shared buckets").isTrue();
    assertThat(limiter.tracked()).as("nothing counted here").isZero();
    assertThat(limiter.tokensLeft("acme")).hasValue(0.25);

    // The database is down: this process counts on its own, at the same allowance.
    down.set(true);
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isEqualTo(SECOND);
    assertThat(limiter.sharedFailures()).isEqualTo(3);
    assertThat(limiter.refused()).isEqualTo(2);
    assertThat(limiter.tracks("globex")).as("neither shared nor here").isFalse();

    // Back: the shared buckets count again.
    down.set(false);
    assertThat(limiter.tryTake("acme")).isEqualTo(7);
    assertThat(limiter.sharedFailures()).isEqualTo(3);
    limiter.shareThrough(null);
    assertThat(limiter.tryTake("acme")).as("this process's bucket again").isEqualTo(SECOND);
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

  @Test
  void shouldGiveATenantItsOwnAllowanceAndLeaveTheOthersToTheStandardOne() {
    TenantRateLimiter limiter =
        new TenantRateLimiter(
            new TenantRateLimiter.Allowance(1, 1),
            TenantRateLimiter.parseAllowances("KEY", "vip=4/3, batch=0"),
            100,
            now::get);
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.tryTake("vip")).isZero();
    }
    assertThat(limiter.tryTake("vip")).isEqualTo(SECOND / 4);
    for (int i = 0; i < 1_000; i++) {
      assertThat(limiter.tryTake("batch")).as("rate 0: no limit").isZero();
    }
    assertThat(limiter.tryTake("acme")).isZero();
    assertThat(limiter.tryTake("acme")).isEqualTo(SECOND);
    assertThat(limiter.allowance("vip")).isEqualTo(new TenantRateLimiter.Allowance(4, 3));
    assertThat(limiter.allowance("acme")).isEqualTo(new TenantRateLimiter.Allowance(1, 1));
  }

  @Test
  void shouldReadAllowancesAndNameTheEntryThatIsWrong() {
    assertThat(TenantRateLimiter.parseAllowances("KEY", " ")).isEmpty();
    assertThat(TenantRateLimiter.parseAllowances("KEY", "acme=200, globex=10/15"))
        .containsEntry("acme", new TenantRateLimiter.Allowance(200, 400))
        .containsEntry("globex", new TenantRateLimiter.Allowance(10, 15));
    assertThat(TenantRateLimiter.parseAllowances("KEY", "free=0,top=1000000"))
        .containsEntry("free", new TenantRateLimiter.Allowance(0, 1))
        .containsEntry("top", new TenantRateLimiter.Allowance(1_000_000, 1_000_000));
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme"))
        .hasMessageStartingWith("KEY: 'acme' is not tenant=rate or tenant=rate/burst");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme=fast"))
        .hasMessage(
            "KEY: 'acme=fast' needs whole numbers, tenant=rate or tenant=rate/burst (e.g."
                + " acme=200/400)");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme=1/2/3"))
        .hasMessageContaining("needs whole numbers");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme=1,acme=2"))
        .hasMessage("KEY: tenant 'acme' is given twice; give each tenant once");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme=2000000"))
        .hasMessage("KEY: 'acme=2000000' asks for more than 1000000");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme=1/0"))
        .hasMessageContaining("burst at least 1");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "bad tenant!=1"))
        .hasMessageContaining("with a tenant id that is");
    assertThatThrownBy(() -> TenantRateLimiter.parseAllowances("KEY", "acme=1,"))
        .hasMessageStartingWith("KEY: '' is not tenant=rate");
  }
}
