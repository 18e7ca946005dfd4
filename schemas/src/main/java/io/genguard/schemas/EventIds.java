package io.genguard.schemas;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Event ids. Derived events use name-based ids (UUIDv3 over their inputs), so reprocessing the same
 * input after a crash yields the same id and the idempotent audit store records it once.
 */
public final class EventIds {
  private EventIds() {}

  public static String random() {
    return UUID.randomUUID().toString();
  }

  /** A stable id from the given parts, joined with a separator that cannot occur in them. */
  public static String nameBased(String... parts) {
    return UUID.nameUUIDFromBytes(String.join("\u0000", parts).getBytes(StandardCharsets.UTF_8))
        .toString();
  }
}
