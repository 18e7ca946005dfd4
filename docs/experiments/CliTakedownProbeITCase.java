// Experiment (thirty-second session): how long ./genguard audit retract takes to take a whole
// window down on real PostgreSQL: 20,000 released outputs audited, 5,000 of them in one hour (five
// calls of 1,000); the dry run, the real run, and the repeat with nothing left, each through the
// command as the CLI runs it. To rerun, copy it into
// local-stack/src/test/java/io/genguard/stack/cli/
// and run mvn -B -o verify -pl local-stack -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
// -Dit.test=CliTakedownProbeITCase.
package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CliTakedownProbeITCase {
  private static final int RELEASED = 20_000;
  private static final int IN_WINDOW = 5_000;

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    Instant incident =
        Instant.now().minusSeconds(7_200).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    Instant start = incident.minusSeconds(2 * 86_400);
    String url = infra.createDatabase("cli_takedown_probe");
    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
      long offset = 0;
      for (int from = 0; from < RELEASED; from += 500) {
        List<IncomingEvent> batch = new ArrayList<>();
        for (int i = from; i < from + 500; i++) {
          boolean inWindow = i % (RELEASED / IN_WINDOW) == 0;
          Instant at =
              inWindow
                  ? incident.plusMillis(3_600_000L * i / RELEASED)
                  : start.plusMillis(172_800_000L * i / RELEASED);
          String id = "cli-take-" + i;
          batch.add(
              new IncomingEvent(
                  Topics.GENERATION_REQUESTS.name(),
                  0,
                  offset++,
                  StoreEvents.request(id, id, "t" + (i % 8), at.minusSeconds(1))));
          batch.add(
              new IncomingEvent(
                  Topics.CONTENT_RELEASED.name(),
                  0,
                  offset++,
                  StoreEvents.released(id, "t" + (i % 8), at)));
        }
        writer.write(batch);
      }
    }
    String[] window = {
      "--released-from",
      incident.toString(),
      "--released-before",
      incident.plusSeconds(3_600).toString()
    };
    for (String[] run :
        List.of(
            concat(window, "--dry-run"),
            concat(window, "--reason", "probe"),
            concat(window, "--reason", "probe again"))) {
      long began = System.nanoTime();
      CommandRun result =
          CommandRun.of(new AuditRetractCommand(), CommandRun.withDatabase(infra, url, run));
      long millis = (System.nanoTime() - began) / 1_000_000;
      int retracted = result.out().split("\"releasedEventId\"", -1).length - 1;
      System.out.printf(
          "PROBE %s: exit %d, %d taken down, %d ms%n",
          String.join(" ", run).replace(incident.toString(), "T"),
          result.code(),
          retracted,
          millis);
      assertThat(result.code()).as(result.err()).isIn(0, 3);
    }
  }

  private static String[] concat(String[] first, String... more) {
    List<String> all = new ArrayList<>(List.of(first));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }
}
