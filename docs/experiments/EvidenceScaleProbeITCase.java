// Experiment (twenty-sixth session): how long an evidence bundle takes to make and to check, and
// how large it is, by the number of records between a request's records and the anchor after them
// (its links). The chain is written by the real audit writer on the real PostgreSQL, the anchor
// file signed. To rerun, copy it into audit-service/src/test/java/io/genguard/audit/evidence/ and
// run mvn -B -o verify -pl audit-service -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
// -Dit.test=EvidenceScaleProbeITCase. The fill takes about a minute.
package io.genguard.audit.evidence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.events.v1.Decision;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvidenceScaleProbeITCase {
  private static final int[] LINKS = {100, 10_000, 100_000, 500_000};

  @TempDir Path dir;

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("evidence_scale_probe");
    ObjectMapper json = new ObjectMapper();
    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
      Path anchorFile = dir.resolve("anchors.jsonl");
      AnchorLog anchors =
          new AnchorLog(
              anchorFile,
              Clock.systemUTC(),
              ProvenanceKeys.signingKeysAt(dir.resolve("keys"), "anchor-1"));
      VerificationKeyRing keys =
          VerificationKeyRing.parse(
              Files.readString(AnchorLog.publicKeyFile(anchorFile)), "keys");
      long written = 0;
      long filled = System.nanoTime();
      for (int links : LINKS) {
        // One probe request, then enough other requests that the anchor after it is `links` away.
        String probe = "probe-" + links;
        writer.write(AuditEvents.story(Scenario.of(probe, "acme", Decision.REVIEW, Instant.now())));
        written += 4;
        long target = written - 4 + links;
        int n = 0;
        while (written < target) {
          List<IncomingEvent> batch = new ArrayList<>();
          for (int i = 0; i < 250 && written < target; i++) {
            batch.addAll(
                AuditEvents.story(
                    Scenario.of("fill-" + links + "-" + n++, "t" + (n % 20), Decision.RELEASE, Instant.now())));
            written += 4;
          }
          writer.write(batch);
        }
        anchors.publish(database.dataSource());
      }
      System.out.println(
          "PROBE filled " + written + " records in " + (System.nanoTime() - filled) / 1_000_000 + " ms");
      for (int links : LINKS) {
        StringBuilder builds = new StringBuilder();
        StringBuilder checks = new StringBuilder();
        long bytes = 0;
        long heldLinks = 0;
        boolean complete = false;
        for (int round = 0; round < 3; round++) {
          long t = System.nanoTime();
          ObjectNode bundle =
              EvidenceBundle.build(
                      database.dataSource(),
                      new EvidenceBundle.Request(
                          "probe-" + links, null, anchorFile, null, "probe", EvidenceBundle.MAX_LINKS),
                      Instant.now())
                  .orElseThrow();
          builds.append(round == 0 ? "" : ", ").append((System.nanoTime() - t) / 1_000_000);
          byte[] text = json.writeValueAsBytes(bundle);
          bytes = text.length;
          t = System.nanoTime();
          EvidenceCheck.Result result =
              EvidenceCheck.check(new String(text, java.nio.charset.StandardCharsets.UTF_8), keys);
          checks.append(round == 0 ? "" : ", ").append((System.nanoTime() - t) / 1_000_000);
          heldLinks = result.links();
          complete = result.complete();
        }
        System.out.println(
            "PROBE "
                + heldLinks
                + " links: build "
                + builds
                + " ms; check (parse included) "
                + checks
                + " ms; "
                + bytes
                + " bytes; complete "
                + complete);
      }
    }
  }
}
