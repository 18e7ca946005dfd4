// Experiment (twenty-fourth session): how long PolicyLoader.parse takes to refuse hostile YAML.
// Before the 3 MiB check ahead of parsing, the "long-scalar" case (one 30 MB line) took 182 s; the
// other cases were refused by the parser in milliseconds. To rerun, copy it into
// moderation-stream/src/test/java/io/genguard/moderation/policy/ and run
// mvn -B -o test -pl moderation-stream -Dtest=HostileYamlProbeTest (lines starting PROBE).
package io.genguard.moderation.policy;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class HostileYamlProbeTest {
  private static void probe(String name, String yaml) {
    long started = System.nanoTime();
    String outcome;
    try {
      PolicyLoader.parse(yaml, name);
      outcome = "parsed";
    } catch (Throwable e) {
      String message = String.valueOf(e.getMessage());
      outcome = e.getClass().getSimpleName() + " " + message.substring(0, Math.min(160, message.length()));
    }
    System.out.println(
        "PROBE " + name + " ms=" + (System.nanoTime() - started) / 1_000_000 + " " + outcome);
  }

  @Test
  void probe() {
    probe("deep-flow", "a: " + "[".repeat(200_000) + "]".repeat(200_000));
    probe(
        "deep-block",
        "a:\n"
            + IntStream.range(0, 5000)
                .mapToObj(i -> " ".repeat(i + 1) + "k" + i + ":\n")
                .reduce("", String::concat));
    probe(
        "aliases",
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            + "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n");
    probe("scalar-3m", "policyId: " + "x".repeat(3_000_000) + "\n");
    probe("lines-4m", ("# " + "x".repeat(98) + "\n").repeat(40_000) + "policyId: x\n");
    probe("long-scalar", "policyId: " + "x".repeat(30_000_000) + "\n");
  }
}
