package io.genguard.moderation.pipeline;

import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.CarriedAttributes;
import io.genguard.schemas.EventTooLargeException;
import io.genguard.schemas.Topics;

/** Encodes verdicts for moderation.verdicts, always within the event limit. */
public final class VerdictBytes {
  private VerdictBytes() {}

  /**
   * The verdict's bytes. A verdict carries the output's attributes, and an output may have been
   * written with nearly an event's worth of them by a producer other than GenGuard's; then the
   * verdict carries {@link CarriedAttributes}' marker instead (the output event keeps them), so
   * that the job never writes a verdict every reader would refuse, nor fails on one for ever.
   */
  public static byte[] encode(ModerationVerdict verdict) {
    try {
      return Topics.MODERATION_VERDICTS.codec().encode(verdict);
    } catch (EventTooLargeException e) {
      return Topics.MODERATION_VERDICTS
          .codec()
          .encode(
              ModerationVerdict.newBuilder(verdict)
                  .setAttributes(CarriedAttributes.omitted(verdict.getAttributes()))
                  .build());
    }
  }
}
