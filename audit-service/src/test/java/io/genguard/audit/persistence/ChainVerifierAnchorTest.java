package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.persistence.ChainVerifier.Anchor;
import org.junit.jupiter.api.Test;

/** A head given as a seq and a hash, as the API's parameters and the CLI's options give it. */
class ChainVerifierAnchorTest {
  private static final String HASH = "ab".repeat(32);

  @Test
  void shouldReadAHeadOrNothing() {
    assertThat(Anchor.given("fromSeq", "42", "fromHash", HASH)).isEqualTo(new Anchor(42, HASH));
    assertThat(Anchor.given("fromSeq", null, "fromHash", null)).isNull();
  }

  @Test
  void shouldNameWhatIsWrongWithAHead() {
    assertThatThrownBy(() -> Anchor.given("--from-seq", "42", "--from-hash", null))
        .hasMessageStartingWith("--from-seq and --from-hash go together");
    assertThatThrownBy(() -> Anchor.given("fromSeq", null, "fromHash", HASH))
        .hasMessageStartingWith("fromSeq and fromHash go together");
    assertThatThrownBy(() -> Anchor.given("fromSeq", "42", "fromHash", "xyz"))
        .hasMessage("fromHash 'xyz' is not 64 hexadecimal characters");
    assertThatThrownBy(() -> Anchor.given("fromSeq", "4x", "fromHash", HASH))
        .hasMessage("fromSeq '4x' is not a whole number");
    assertThatThrownBy(() -> Anchor.given("fromSeq", "0", "fromHash", HASH))
        .hasMessage("fromSeq is a record number, at least 1; got 0");
  }
}
