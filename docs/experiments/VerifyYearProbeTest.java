// Experiment (twenty-fifth session): the memory a verification of a year of anchor lines (525,600,
// 174 MB) needs for the file's and the witness's lines, read as the API and `audit verify` read
// them before (AnchorLog.read, every line parsed and kept, and the witness records kept whole)
// and now (AnchorLog.index and AnchorWitness.WitnessLines, AnchorIndex). Heap held after a full GC
// while the lines are in use, and the sum of the heap pools' peaks while reading. To rerun, copy
// it into audit-service/src/test/java/io/genguard/audit/persistence/ and run
// mvn -B -o test -pl audit-service -Dtest=VerifyYearProbeTest.
package io.genguard.audit.persistence;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyYearProbeTest {
  private static final int LINES = 525_600;

  @TempDir Path dir;

  private static String line(long seq) {
    String sig = "c".repeat(86);
    return "{\"seq\":"
        + seq * 100L
        + ",\"hash\":\""
        + "ab".repeat(32)
        + "\",\"anchoredAt\":\"2026-12-02T16:00:00Z\",\"keyId\":\"k1\",\"prev\":\""
        + sig
        + "\",\"sig\":\""
        + sig
        + "\"}";
  }

  private static long used() {
    System.gc();
    System.gc();
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        used += pool.getUsage().getUsed();
      }
    }
    return used;
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
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

  private static String mb(long bytes) {
    return bytes / 1_048_576 + " MB";
  }

  @Test
  void probe() throws Exception {
    Path file = dir.resolve("a.jsonl");
    try (var out = Files.newBufferedWriter(file)) {
      for (int seq = 1; seq <= LINES; seq++) {
        out.write(line(seq) + "\n");
      }
    }
    for (int round = 0; round < 2; round++) {
      long base = used();
      resetPeaks();
      long t = System.nanoTime();
      AnchorLog.Anchors before = AnchorLog.read(file);
      List<ChainVerifier.Anchor> anchors = new ArrayList<>(before.anchors());
      long ms = (System.nanoTime() - t) / 1_000_000;
      long peak = peaks() - base;
      long held = used() - base;
      System.out.println(
          "PROBE file before: "
              + anchors.size()
              + " lines in "
              + ms
              + " ms, held "
              + mb(held)
              + ", peaks "
              + mb(peak));
      before = null;
      anchors = null;

      base = used();
      resetPeaks();
      t = System.nanoTime();
      AnchorLog.Indexed after = AnchorLog.index(file, null);
      List<ChainVerifier.Anchor> merged = AnchorIndex.merged(List.of(after.lines()));
      ms = (System.nanoTime() - t) / 1_000_000;
      peak = peaks() - base;
      held = used() - base;
      System.out.println(
          "PROBE file after: "
              + merged.size()
              + " lines in "
              + ms
              + " ms, held "
              + mb(held)
              + ", peaks "
              + mb(peak));
      merged = null;

      // The witness: the same lines as topic records, kept whole as read() returned them before,
      // against WitnessLines.
      base = used();
      resetPeaks();
      List<AnchorWitness.Witnessed> records = new ArrayList<>();
      for (int seq = 1; seq <= LINES; seq++) {
        records.add(new AnchorWitness.Witnessed(0, seq - 1, line(seq), 1));
      }
      held = used() - base;
      System.out.println(
          "PROBE witness before: "
              + records.size()
              + " records held "
              + mb(held)
              + " before parsing (the old check parsed and kept each line again)");
      records = null;

      base = used();
      resetPeaks();
      t = System.nanoTime();
      AnchorWitness.WitnessLines lines = new AnchorWitness.WitnessLines("audit.anchors");
      for (int seq = 1; seq <= LINES; seq++) {
        lines.accept(new AnchorWitness.Witnessed(0, seq - 1, line(seq), 1));
      }
      AnchorWitness.WitnessCheck check = AnchorWitness.check("audit.anchors", after.lines(), lines);
      ms = (System.nanoTime() - t) / 1_000_000;
      peak = peaks() - base;
      held = used() - base;
      System.out.println(
          "PROBE witness after: "
              + check.witnessed()
              + " lines, "
              + check.matched()
              + " matched, in "
              + ms
              + " ms, held "
              + mb(held)
              + ", peaks "
              + mb(peak));
      after = null;
      lines = null;
    }
  }
}
