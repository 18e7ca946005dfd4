package io.genguard.schemas;

/**
 * An event whose encoding is larger than {@link EventCodec#MAX_EVENT_BYTES}: every GenGuard reader
 * would refuse it, so it is never written. The producer decides what to write instead.
 */
public final class EventTooLargeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int bytes;

  EventTooLargeException(String type, int bytes) {
    super(
        type
            + " of "
            + bytes
            + " bytes exceeds the event limit of "
            + EventCodec.MAX_EVENT_BYTES
            + " bytes; it was not written");
    this.bytes = bytes;
  }

  /** The size the event would have had. */
  public int bytes() {
    return bytes;
  }
}
