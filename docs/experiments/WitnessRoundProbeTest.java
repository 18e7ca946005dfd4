// Experiment (twenty-fifth session): what one witness round costs on a year of signed anchor
// lines (525,600, 174 MB) with one new line: the whole file read as before (AnchorLog.read), and
// only the bytes after the last round's position (AnchorLog.readFrom). To rerun, copy it into
// audit-service/src/test/java/io/genguard/audit/persistence/ and run
// mvn -B -o test -pl audit-service -Dtest=WitnessRoundProbeTest.
package io.genguard.audit.persistence;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WitnessRoundProbeTest {
  @TempDir Path dir;

  private static String line(long seq) {
    String sig = "c".repeat(86);
    return "{\"seq\":" + seq * 100L + ",\"hash\":\"" + "ab".repeat(32)
        + "\",\"anchoredAt\":\"2026-12-02T16:00:00Z\",\"keyId\":\"k1\",\"prev\":\"" + sig
        + "\",\"sig\":\"" + sig + "\"}\n";
  }

  private static long resetPeaks() {
    System.gc();
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
        used += pool.getUsage().getUsed();
      }
    }
    return used;
  }

  private static long peaks() {
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }

  @Test
  void probe() throws Exception {
    Path file = dir.resolve("a.jsonl");
    int lines = 525_600;
    try (var out = Files.newBufferedWriter(file)) {
      for (int seq = 1; seq <= lines; seq++) {
        out.write(line(seq));
      }
    }
    System.out.println("PROBE bytes=" + Files.size(file));
    AnchorLog.Position position = AnchorLog.readFrom(file, AnchorLog.Position.START, one -> {});
    for (int round = 1; round <= 3; round++) {
      Files.writeString(file, line(lines + round), StandardOpenOption.APPEND);
      long base = resetPeaks();
      long t = System.nanoTime();
      int read = AnchorLog.read(file).size();
      long wholeMs = (System.nanoTime() - t) / 1_000_000;
      long wholePeak = peaks();
      resetPeaks();
      int[] fresh = {0};
      t = System.nanoTime();
      position = AnchorLog.readFrom(file, position, one -> fresh[0]++);
      long fromMicros = (System.nanoTime() - t) / 1_000;
      long fromPeak = peaks();
      System.out.println(
          "PROBE round " + round + ": whole file " + read + " lines in " + wholeMs
              + " ms, heap pools' peaks " + (wholePeak - base) / 1048576 + " MB over the "
              + base / 1048576 + " MB before; from the last position " + fresh[0] + " line in "
              + fromMicros + " us, peaks " + (fromPeak - base) / 1048576 + " MB over it");
    }
  }
}
