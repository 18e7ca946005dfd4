// The audit writer's canonical JSON work per plumbing output (fifty-first session, issue 2): the
// writes before (payload, then the verdict again without its time for the judgement digest, then
// each projection JSON column from its node) against one write (CanonicalJson.writeFields) whose
// text gives the payload, the columns and the judgement digest. Thread CPU time per output (its
// output, verdict and gate outcome), rounds alternating; the texts of both are compared every
// round. Not part of the build; from the repository root, after
// `mvn -B -o -q verify -pl audit-service -am -DskipTests -Dspotless.check.skip=true` and a build of
// local-stack (`./genguard` builds it; its classpath file lists the dependencies):
//   CP="audit-service/target/classes:audit-service/target/test-classes:$(cat local-stack/target/classpath.txt)"
//   javac -d /tmp/canonical-write-bench -cp "$CP" docs/experiments/canonical-write-once/CanonicalWriteBench.java
//   java -Xmx1g -XX:+UseParallelGC -cp "/tmp/canonical-write-bench:$CP" CanonicalWriteBench
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.AuditChain;
import io.genguard.events.v1.Decision;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

public class CanonicalWriteBench {
  // The projections' JSON columns (AuditWriter.Projections), per event type.
  static final List<String> OUTPUT = List.of("watermark", "manifest", "cost", "attributes");
  static final List<String> VERDICT =
      List.of("categoryScores", "reasons", "provenance", "scorerVersions", "model", "attributes");
  static final List<String> OUTCOME = List.of("reasons");

  record Event(SpecificRecord record, List<String> columns, boolean verdict) {}

  static long before(Event e, List<String> out) {
    ObjectNode tree = CanonicalJson.toTree(e.record());
    String payload = CanonicalJson.write(tree);
    long n = payload.length();
    if (out != null) out.add(payload);
    if (e.verdict()) {
      String digest =
          AuditChain.payloadSha256(
              CanonicalJson.write(CanonicalJson.withField(tree, "decidedAt", Instant.EPOCH)));
      n += digest.length();
      if (out != null) out.add(digest);
    }
    for (String column : e.columns()) {
      String text = CanonicalJson.write(tree.get(column));
      n += text.length();
      if (out != null) out.add(text);
    }
    return n;
  }

  static long after(Event e, List<String> out) {
    ObjectNode tree = CanonicalJson.toTree(e.record());
    CanonicalJson.Written written = CanonicalJson.writeFields(tree);
    String payload = written.text();
    long n = payload.length();
    if (out != null) out.add(payload);
    if (e.verdict()) {
      String digest =
          AuditChain.payloadSha256(written.withField(tree, "decidedAt", Instant.EPOCH));
      n += digest.length();
      if (out != null) out.add(digest);
    }
    for (String column : e.columns()) {
      String text = written.field(column);
      n += text.length();
      if (out != null) out.add(text);
    }
    return n;
  }

  public static void main(String[] args) {
    int outputs = 2_000;
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < outputs; i++) {
      AuditEvents.Scenario s =
          AuditEvents.Scenario.of(
              "bench-" + i, "default", Decision.RELEASE, Instant.parse("2026-12-07T20:00:00Z").plusMillis(i));
      events.add(new Event(AuditEvents.output(s), OUTPUT, false));
      events.add(new Event(AuditEvents.verdict(s), VERDICT, true));
      events.add(new Event(AuditEvents.gateOutcome(s), OUTCOME, false));
    }
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    for (Event e : events) {
      before(e, a);
      after(e, b);
    }
    if (!a.equals(b)) throw new AssertionError("the texts differ");
    System.out.println("texts equal: " + a.size() + " strings of " + events.size() + " events");
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    long sink = 0;
    int passes = 10;
    for (int round = 1; round <= 12; round++) {
      long t0 = cpu.getCurrentThreadCpuTime();
      for (int p = 0; p < passes; p++) for (Event e : events) sink += before(e, null);
      long t1 = cpu.getCurrentThreadCpuTime();
      for (int p = 0; p < passes; p++) for (Event e : events) sink += after(e, null);
      long t2 = cpu.getCurrentThreadCpuTime();
      System.out.printf(
          "round %2d: before %.2f us, after %.2f us of CPU per output (%d)%n",
          round, (t1 - t0) / 1e3 / (outputs * passes), (t2 - t1) / 1e3 / (outputs * passes), sink);
    }
  }
}
