package io.genguard.moderation.gate;

import io.genguard.testsupport.MovingClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long one sweep of the release gate's store takes with N markers in it (a probe, not a test:
 * it asserts nothing). The sweep runs on the stream thread, inside the open exactly-once
 * transaction; Kafka Streams gives that transaction 10 s (transaction.timeout.ms) before the
 * coordinator aborts it. Copy into moderation-stream/src/test/java/io/genguard/moderation/gate/ and
 * run with -Dtest=GateSweepProbeTest (-Dgenguard.probe.markers=N, default 2,000,000). Since the
 * thirty-fourth session the sweep reads at most 500 ms (or 50,000 forgotten entries) a punctuation
 * and goes on a second later (ReleaseGateProcessor.SWEEP_PIECE, SWEEP_RESUME).
 */
class GateSweepProbeTest {
  @TempDir Path stateDir;

  @Test
  void timeOneSweep() {
    int markers = Integer.getInteger("genguard.probe.markers", 2_000_000);
    Instant now = Instant.parse("2026-12-05T12:00:00Z");
    MovingClock clock = new MovingClock(now);
    GateTimings timings = GateTimings.DEFAULTS;
    Properties props = ReleaseGateTopology.streamsConfig("unused:9092", stateDir.toString(), 1);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    try (TopologyTestDriver driver =
        new TopologyTestDriver(ReleaseGateTopology.buildTopology(clock, timings), props, now)) {
      KeyValueStore<String, GateEntry> store =
          driver.getKeyValueStore(ReleaseGateTopology.STATE_STORE);
      long fill = System.nanoTime();
      // Released markers as the gate keeps them for a week, one a request; a tenth of them older
      // than the retention by the time of the second sweep.
      long week = timings.decisionRetention().toMillis();
      for (int i = 0; i < markers; i++) {
        long since = now.toEpochMilli() - (i % 10 == 0 ? week - 60_000 : week / 2);
        store.put(
            UUID.randomUUID().toString(),
            GateEntry.empty()
                .decided(
                    GateEntry.State.RELEASED,
                    UUID.randomUUID().toString(),
                    since,
                    UUID.randomUUID().toString(),
                    "VERDICT"));
      }
      System.out.printf(
          "filled %,d markers in %.1f s%n", markers, (System.nanoTime() - fill) / 1e9);
      // The driver commits (and RocksDB flushes the markers just put) on the first advance: timed
      // apart, as it is no part of a sweep (3.2 s for 2,000,000 markers here).
      long commit = System.nanoTime();
      driver.advanceWallClockTime(Duration.ofMillis(1));
      System.out.printf(
          "first commit, no punctuation due: %.2f s%n", (System.nanoTime() - commit) / 1e9);
      Duration interval = timings.sweepInterval();
      // Three sweeps: nothing to forget; a tenth of the markers past the retention; nothing again.
      // Each is started by the sweep's schedule and goes on in pieces a second apart; every
      // punctuation is timed (what the open transaction waits for), and the sweep's whole length.
      for (int sweep = 1; sweep <= 3; sweep++) {
        if (sweep == 2) {
          clock.advance(Duration.ofMinutes(2));
        }
        long started = System.nanoTime();
        long longest = 0;
        int punctuations = 0;
        Duration step = interval;
        long busy = 0;
        // Enough ticks for the largest store this probe fills (about 500,000 entries a piece).
        for (int tick = 0; tick < markers / 100_000 + 5; tick++) {
          long before = System.nanoTime();
          driver.advanceWallClockTime(step);
          long took = System.nanoTime() - before;
          busy += took;
          longest = Math.max(longest, took);
          punctuations++;
          step = Duration.ofSeconds(1); // ReleaseGateProcessor.SWEEP_RESUME
        }
        System.out.printf(
            "sweep %d: %,d punctuations, the longest %.3f s, %.2f s in all (%.1f s of wall time"
                + " with the pauses between pieces)%n",
            sweep,
            punctuations,
            longest / 1e9,
            busy / 1e9,
            (System.nanoTime() - started) / 1e9 + (punctuations - 1));
        System.out.printf("  entries left: %,d%n", store.approximateNumEntries());
      }
    }
  }
}
