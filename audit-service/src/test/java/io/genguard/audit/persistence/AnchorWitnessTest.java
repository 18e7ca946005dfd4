package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.persistence.AnchorWitness.WitnessCheck;
import io.genguard.audit.persistence.AnchorWitness.Witnessed;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Comparing an anchor file with its witness: what agrees, and every way the two part. */
class AnchorWitnessTest {
  private static final String TOPIC = "audit.anchors";

  private static String line(long seq, char hash) {
    return "{\"seq\":"
        + seq
        + ",\"hash\":\""
        + String.valueOf(hash).repeat(64)
        + "\",\"anchoredAt\":\"2026-12-03T10:00:0"
        + (seq % 10)
        + "Z\"}";
  }

  private static AnchorLog.Anchors file(String... lines) {
    List<AnchorLog.AnchorLine> parsed = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      parsed.add(AnchorLog.parse("test file", i + 1, lines[i]));
    }
    return new AnchorLog.Anchors(parsed, false);
  }

  private static List<Witnessed> witness(String... lines) {
    List<Witnessed> records = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      records.add(new Witnessed(0, i, lines[i], 1));
    }
    return records;
  }

  @Test
  void shouldAgreeWhenTheFileHoldsEveryWitnessedLineAndCountNewerLinesAsNotYetWitnessed() {
    WitnessCheck check =
        AnchorWitness.check(
            TOPIC,
            file(line(4, 'a'), line(9, 'b'), line(12, 'c')),
            witness(line(4, 'a'), line(9, 'b'), line(9, 'b')));

    assertThat(check.valid()).as(check.summary()).isTrue();
    assertThat(check.witnessed()).as("a line sent twice counts once").isEqualTo(2);
    assertThat(check.matched()).isEqualTo(2);
    assertThat(check.notYetWitnessed()).isEqualTo(1);
    assertThat(check.summary()).contains("1 newer file line(s) not witnessed yet");
  }

  @Test
  void shouldKeepAHundredProblemsAndCountTheRest() {
    String[] witnessed = new String[250];
    for (int i = 0; i < witnessed.length; i++) {
      witnessed[i] = line(i + 1, 'a');
    }

    WitnessCheck check = AnchorWitness.check(TOPIC, file(), witness(witnessed));

    assertThat(check.problems()).hasSize(101);
    assertThat(check.problems().get(0))
        .isEqualTo(
            "seq 1, witnessed at offset 0, is not in the anchor file: lines were removed from it");
    assertThat(check.problems().get(100)).isEqualTo("... and 150 more problem(s)");
  }

  @Test
  void shouldShowLinesCutOffTheEndOfTheFile() {
    WitnessCheck check =
        AnchorWitness.check(
            TOPIC, file(line(4, 'a')), witness(line(4, 'a'), line(9, 'b'), line(12, 'c')));

    assertThat(check.valid()).isFalse();
    assertThat(check.problems())
        .containsExactly(
            "seq 9, witnessed at offset 1, is not in the anchor file: lines were removed from it",
            "seq 12, witnessed at offset 2, is not in the anchor file: lines were removed from it");
  }

  @Test
  void shouldShowALineRewrittenAfterItWasWitnessedEvenWithAValidLookingHash() {
    WitnessCheck check =
        AnchorWitness.check(
            TOPIC, file(line(4, 'a'), line(9, 'f')), witness(line(4, 'a'), line(9, 'b')));

    assertThat(check.problems())
        .containsExactly(
            "file line 2 (seq 9) is not the line witnessed at offset 1: it was rewritten after it"
                + " was witnessed");
  }

  @Test
  void shouldShowALineInsertedBetweenWitnessedLines() {
    WitnessCheck check =
        AnchorWitness.check(
            TOPIC,
            file(line(4, 'a'), line(6, 'd'), line(9, 'b')),
            witness(line(4, 'a'), line(9, 'b')));

    assertThat(check.problems())
        .containsExactly(
            "file line 2 (seq 6) was never witnessed, though newer lines were: it was inserted");
  }

  @Test
  void shouldFailAnEmptiedWitnessButAcceptTwoEmptySides() {
    assertThat(AnchorWitness.check(TOPIC, file(line(4, 'a')), witness()).problems())
        .containsExactly(
            "the topic holds no anchor line, while the file has 1: the witness was emptied, or"
                + " never ran");
    assertThat(AnchorWitness.check(TOPIC, file(), witness()).valid()).isTrue();
  }

  @Test
  void shouldNameRecordsThatSomethingElseWroteToTheTopic() {
    WitnessCheck check =
        AnchorWitness.check(
            TOPIC,
            file(line(4, 'a'), line(9, 'b')),
            witness(line(4, 'a'), "{\"hello\":1}", line(9, 'b'), line(5, 'e'), "x".repeat(5000)));

    assertThat(check.witnessed()).isEqualTo(2);
    assertThat(check.problems()).hasSize(3);
    assertThat(check.problems().get(0))
        .startsWith(
            "offset 1 is not an anchor line (Anchor witness topic audit.anchors partition 0")
        .endsWith("): something else writes the topic");
    assertThat(check.problems().get(1))
        .isEqualTo(
            "offset 3 (seq 5) does not follow the line before it (seq 9): something else writes"
                + " the topic");
    assertThat(check.problems().get(2))
        .isEqualTo(
            "offset 4 holds 5000 characters, not an anchor line: something else writes the topic");
  }

  @Test
  void shouldRefuseATopicWithMoreThanOnePartition() {
    WitnessCheck check =
        AnchorWitness.check(
            TOPIC, file(line(4, 'a')), List.of(new Witnessed(1, 0, line(4, 'a'), 2)));

    assertThat(check.problems())
        .containsExactly(
            "the topic has 2 partitions; a witness has one, since the order of its lines is"
                + " evidence");
  }

  @Test
  void shouldListTheWitnessedHeadsForTheChainCheck() {
    assertThat(AnchorWitness.anchors(TOPIC, witness(line(4, 'a'), "junk", line(9, 'b'))))
        .containsExactly(
            new ChainVerifier.Anchor(4, "a".repeat(64)),
            new ChainVerifier.Anchor(9, "b".repeat(64)));
  }
}
