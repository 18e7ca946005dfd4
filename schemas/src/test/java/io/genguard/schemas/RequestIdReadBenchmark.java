package io.genguard.schemas;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * CPU per read of a stored output's and verdict's request id, as the release gate's format-4 check
 * (ReleaseGateProcessor#earlierRequests) does it for every record whose pair has an entry: the
 * whole event decoded (before the fifty-second session's change) against {@link
 * EventCodec#stringField} (after), in alternating rounds, single-threaded, in thread CPU time, for
 * the plumbing-sized output of {@link EventCodecDecodeBenchmark} and one with a 4 KiB text. Not a
 * test: run its main, e.g. {@code java -cp schemas/target/classes:schemas/target/test-classes:$(cat
 * cp.txt) io.genguard.schemas.RequestIdReadBenchmark 300000 5}, and note {@code uptime}.
 */
public final class RequestIdReadBenchmark {
  /** CPU time of this thread, not wall time: the machine is shared, and loaded. */
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  private RequestIdReadBenchmark() {}

  public static void main(String[] args) {
    int reads = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    EventCodec<GenerationOutput> outputs = Topics.GENERATION_OUTPUTS.codec();
    EventCodec<ModerationVerdict> verdicts = Topics.MODERATION_VERDICTS.codec();
    EventCodec<GenerationOutput>.StringField outputRequestId = outputs.stringField("requestId");
    EventCodec<ModerationVerdict>.StringField verdictRequestId = verdicts.stringField("requestId");
    GenerationOutput plumbing = EventCodecDecodeBenchmark.output();
    byte[] small = outputs.encode(plumbing);
    byte[] large =
        outputs.encode(
            GenerationOutput.newBuilder(plumbing)
                .setText("A calm, friendly sentence. ".repeat(152).substring(0, 4096))
                .build());
    byte[] verdict = verdicts.encode(EventCodecDecodeBenchmark.verdict());
    String[] names = {
      "output " + small.length + " B",
      "output " + large.length + " B",
      "verdict " + verdict.length + " B"
    };
    byte[][] payloads = {small, large, verdict};
    ToIntFunction<byte[]> decodeOutput = b -> outputs.decode(b).getRequestId().hashCode();
    ToIntFunction<byte[]> readOutput = b -> outputRequestId.read(b).hashCode();
    List<ToIntFunction<byte[]>> before =
        List.of(decodeOutput, decodeOutput, b -> verdicts.decode(b).getRequestId().hashCode());
    List<ToIntFunction<byte[]>> after =
        List.of(readOutput, readOutput, b -> verdictRequestId.read(b).hashCode());
    for (int i = 0; i < payloads.length; i++) {
      if (before.get(i).applyAsInt(payloads[i]) != after.get(i).applyAsInt(payloads[i])) {
        throw new AssertionError("the two reads differ for the " + names[i]);
      }
    }
    // Round 0 warms both up and is not printed; then decode and field read alternate.
    for (int round = 0; round <= rounds; round++) {
      int count = round == 0 ? reads / 5 : reads;
      StringBuilder line = new StringBuilder(round == 0 ? "" : "round " + round + ":");
      for (int i = 0; i < payloads.length; i++) {
        double decode = time(before.get(i), payloads[i], count);
        double field = time(after.get(i), payloads[i], count);
        line.append(String.format(" %s decode %.3f us, field %.3f us;", names[i], decode, field));
      }
      if (round > 0) {
        System.out.println(line + " " + count + " reads each");
      }
    }
  }

  private static double time(ToIntFunction<byte[]> read, byte[] bytes, int count) {
    long sink = 0;
    long start = CPU.getCurrentThreadCpuTime();
    for (int i = 0; i < count; i++) {
      sink += read.applyAsInt(bytes);
    }
    long nanos = CPU.getCurrentThreadCpuTime() - start;
    if (sink == 42) {
      System.out.print("");
    }
    return nanos / 1000.0 / count;
  }
}
