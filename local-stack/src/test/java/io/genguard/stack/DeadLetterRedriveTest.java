package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.stack.DeadLetterRedrive.HeldPosition;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;

/** Where a redrive commits when dead letters still do not decode, and what the next run reads. */
class DeadLetterRedriveTest {
  @Test
  void shouldCommitWhereItReadToWhenEveryLetterWasHandled() {
    assertThat(DeadLetterRedrive.commitFor(12, List.of(), null))
        .isEqualTo(new OffsetAndMetadata(12));
  }

  @Test
  void shouldHoldThePositionAtTheFirstLetterThatStillDoesNotDecode() {
    OffsetAndMetadata commit = DeadLetterRedrive.commitFor(12, List.of(3L, 7L), null);

    assertThat(commit.offset()).isEqualTo(3);
    HeldPosition held = HeldPosition.parse(commit).orElseThrow();
    assertThat(held).isEqualTo(new HeldPosition(12, Set.of(3L, 7L)));
    assertThat(LongStream.range(3, 14).filter(offset -> !held.handled(offset)))
        .containsExactly(3L, 7L, 12L, 13L);
  }

  @Test
  void shouldKeepWhatTheEarlierRunLeftBeyondWhereThisOneGot() {
    HeldPosition earlier = new HeldPosition(12, Set.of(3L, 7L, 9L));

    // Read up to 8: 3 decodes now, 7 still does not; 9 is not reached yet.
    OffsetAndMetadata halfway = DeadLetterRedrive.commitFor(8, List.of(7L), earlier);
    assertThat(halfway.offset()).isEqualTo(7);
    assertThat(HeldPosition.parse(halfway)).contains(new HeldPosition(12, Set.of(7L, 9L)));

    // Read up to 5, and everything the earlier run left beyond it was handled: on to 12.
    assertThat(DeadLetterRedrive.commitFor(5, List.of(), new HeldPosition(12, Set.of(3L))))
        .isEqualTo(new OffsetAndMetadata(12));
  }

  @Test
  void shouldReadOnNormallyFromTheFirstLetterItCouldNotList() {
    List<Long> many = LongStream.range(1_000_000_000L, 1_000_001_000L).boxed().toList();

    OffsetAndMetadata commit = DeadLetterRedrive.commitFor(2_000_000_000L, many, null);

    assertThat(commit.metadata().length()).isLessThanOrEqualTo(DeadLetterRedrive.MAX_METADATA);
    HeldPosition held = HeldPosition.parse(commit).orElseThrow();
    assertThat(held.readTo()).isGreaterThan(many.get(0)).isLessThan(many.get(many.size() - 1));
    assertThat(held.undecodable())
        .allSatisfy(offset -> assertThat(offset).isLessThan(held.readTo()));
    assertThat(held.handled(held.readTo())).as("read again by the next run").isFalse();
  }

  @Test
  void shouldTreatAPlainOrForeignCommitAsNoHeldPosition() {
    assertThat(HeldPosition.parse(null)).isEmpty();
    assertThat(HeldPosition.parse(new OffsetAndMetadata(5))).isEmpty();
    assertThat(HeldPosition.parse(new OffsetAndMetadata(5, "someone else's"))).isEmpty();
    assertThat(
            HeldPosition.parse(
                new OffsetAndMetadata(5, DeadLetterRedrive.HELD_MARK + " read-to=x undecodable=5")))
        .isEmpty();
  }
}
