package io.genguard.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A request's attributes travel with its output, verdict and gate outcome. They are the one field
 * that outside producers can make as large as an event; where carrying them would push an event
 * over {@link EventCodec#MAX_EVENT_BYTES}, the event carries this marker instead, and the earlier
 * event (the request, the output) still has them.
 */
public final class CarriedAttributes {
  /** The one attribute left when the others did not fit. */
  public static final String OMITTED = "genguard.attributes-omitted";

  private CarriedAttributes() {}

  /** The marker that replaces {@code attributes}, saying what was left out and why. */
  public static Map<String, String> omitted(Map<String, String> attributes) {
    return Map.of(
        OMITTED,
        attributes.size()
            + " attributes ("
            + bytes(attributes)
            + " bytes) left out: with them this event would exceed the "
            + EventCodec.MAX_EVENT_BYTES
            + "-byte event limit; the request and the output event keep them");
  }

  /** The attributes' keys and values, in UTF-8 bytes. */
  public static long bytes(Map<String, String> attributes) {
    long bytes = 0;
    for (Map.Entry<String, String> entry : attributes.entrySet()) {
      bytes +=
          entry.getKey().getBytes(StandardCharsets.UTF_8).length
              + entry.getValue().getBytes(StandardCharsets.UTF_8).length;
    }
    return bytes;
  }
}
