package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.persistence.ChainVerifier.Anchor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Anchor lines kept compactly for verification: what they answer, and the heads merged. */
class AnchorIndexTest {
  private static String hash(char c) {
    return String.valueOf(c).repeat(64);
  }

  private static AnchorLog.AnchorLine line(int number, long seq, char hash) {
    return AnchorLog.parse(
        "test", number, "{\"seq\":" + seq + ",\"hash\":\"" + hash(hash).toUpperCase() + "\"}");
  }

  private static AnchorIndex index(AnchorLog.AnchorLine... lines) {
    AnchorIndex index = new AnchorIndex();
    for (AnchorLog.AnchorLine line : lines) {
      index.add(line.line(), line);
    }
    return index;
  }

  @Test
  void shouldAnswerForEachLineItsSeqPlaceAnchorAndText() {
    AnchorIndex index = new AnchorIndex();
    // More than its first arrays hold, so that it grows.
    for (int i = 1; i <= 200; i++) {
      index.add(i + 1, line(i, i * 10L, (char) ('a' + i % 6)));
    }

    assertThat(index.size()).isEqualTo(200);
    assertThat(index.seq(199)).isEqualTo(2000);
    assertThat(index.place(199)).isEqualTo(201);
    assertThat(index.anchor(0)).isEqualTo(new Anchor(10, hash('b')));
    assertThat(index.anchors()).hasSize(200).element(5).isEqualTo(new Anchor(60, hash('a')));
    assertThat(index.first(1000)).isEqualTo(99);
    assertThat(index.first(1001)).isEqualTo(-1);
    assertThat(index.first(5)).isEqualTo(-1);
    assertThat(index.sameText(0, line(1, 10, 'b').text())).isTrue();
    assertThat(index.sameText(0, line(1, 10, 'c').text())).isFalse();
    assertThat(index.sameText(1, index, 1)).isTrue();
    assertThat(index.sameText(1, index, 2)).isFalse();
  }

  @Test
  void shouldFindTheFirstOfSeveralLinesWithOneSeq() {
    AnchorIndex index = index(line(1, 3, 'a'), line(2, 9, 'b'), line(3, 9, 'c'), line(4, 12, 'd'));

    assertThat(index.first(9)).isEqualTo(1);
    assertThat(index.first(12)).isEqualTo(3);
  }

  @Test
  void shouldRefuseALineOutOfSeqOrder() {
    AnchorIndex index = index(line(1, 9, 'a'));

    assertThatThrownBy(() -> index.add(2, line(2, 3, 'b')))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("seq 3 comes after seq 9");
  }

  @Test
  void shouldMergeHeadsInSeqOrderEachOnceKeepingOnesThatDisagree() {
    AnchorIndex file = index(line(1, 3, 'a'), line(2, 9, 'b'), line(3, 9, 'b'), line(4, 12, 'c'));
    AnchorIndex witness = index(line(1, 3, 'a'), line(2, 9, 'f'), line(3, 15, 'd'));
    AnchorIndex given = AnchorIndex.of(new Anchor(7, hash('e').toUpperCase()));

    List<Anchor> merged = AnchorIndex.merged(List.of(given, file, witness));

    assertThat(merged)
        .containsExactly(
            new Anchor(3, hash('a')),
            new Anchor(7, hash('e')),
            new Anchor(9, hash('b')),
            new Anchor(9, hash('f')),
            new Anchor(12, hash('c')),
            new Anchor(15, hash('d')));
    assertThat(AnchorIndex.merged(List.of(new AnchorIndex()))).isEmpty();
  }
}
