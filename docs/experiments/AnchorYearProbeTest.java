// Experiment (twenty-fourth session): a year of signed anchor lines (525,600, 174 MB) opened by
// AnchorLog three times, with the sum of the heap pools' peaks. To rerun, copy it into
// audit-service/src/test/java/io/genguard/audit/persistence/ and run
// mvn -B -o test -pl audit-service -Dtest=AnchorYearProbeTest.
package io.genguard.audit.persistence;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnchorYearProbeTest {
  @TempDir Path dir;

  @Test
  void probe() throws Exception {
    Path file = dir.resolve("a.jsonl");
    try (var out = Files.newBufferedWriter(file)) {
      String hash = "ab".repeat(32);
      String sig = "c".repeat(86);
      for (int seq = 1; seq <= 525_600; seq++) {
        out.write("{\"seq\":" + seq * 100L + ",\"hash\":\"" + hash + "\",\"anchoredAt\":\"2026-12-02T16:00:00Z\",\"keyId\":\"k1\",\"prev\":\"" + sig + "\",\"sig\":\"" + sig + "\"}\n");
      }
    }
    System.out.println("PROBE bytes=" + Files.size(file));
    for (int round = 0; round < 3; round++) {
      System.gc();
      long base = 0;
      for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == java.lang.management.MemoryType.HEAP) { pool.resetPeakUsage(); base += pool.getUsage().getUsed(); }
      }
      long t = System.nanoTime();
      AnchorLog log = new AnchorLog(file, Clock.systemUTC());
      long peak = 0;
      for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == java.lang.management.MemoryType.HEAP) peak += pool.getPeakUsage().getUsed();
      }
      System.out.println("PROBE open ms=" + (System.nanoTime() - t) / 1_000_000 + " seq=" + log.anchoredSeq() + " heapBefore=" + base / 1048576 + "MB peakSum=" + peak / 1048576 + "MB");
    }
  }
}
