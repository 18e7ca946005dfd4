package io.genguard.provenance.watermark;

import io.genguard.provenance.KeyEntries;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The watermark keys a deployment knows: one active key embeds, every key detects, so rotating in a
 * new key keeps outputs marked with old key ids detectable. {@link #toString()} shows ids only.
 *
 * <p>Environment: {@value #KEYS_VARIABLE}{@code =id1:base64,id2:base64} and optionally {@value
 * #ACTIVE_VARIABLE}{@code =id2} (default: the last key listed, so rotation appends).
 *
 * <p>A verifier given no watermark key holds a ring without keys ({@link #none}): it detects
 * nothing (every detection is {@link DetectionStatus#UNKNOWN_KEY}, "not checked") and cannot embed.
 * It must not make a key of its own: a random key no generator uses would call every output
 * NOT_DETECTED.
 */
public final class WatermarkKeyRing {
  public static final String KEYS_VARIABLE = "GENGUARD_WATERMARK_KEYS";
  public static final String ACTIVE_VARIABLE = "GENGUARD_WATERMARK_ACTIVE_KEY";

  private final Map<String, WatermarkKey> keys;
  private final String activeId;

  /** For a ring without keys, where its keys would have come from (else null). */
  private final String notConfigured;

  public WatermarkKeyRing(List<WatermarkKey> keys, String activeId) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("A watermark key ring needs at least one key");
    }
    Map<String, WatermarkKey> byId = new LinkedHashMap<>();
    for (WatermarkKey key : keys) {
      if (byId.put(key.id(), key) != null) {
        throw new IllegalArgumentException("Watermark key id '" + key.id() + "' appears twice");
      }
    }
    if (!byId.containsKey(activeId)) {
      throw new IllegalArgumentException(
          "Active watermark key id '" + activeId + "' is not among the keys " + byId.keySet());
    }
    this.keys = byId;
    this.activeId = activeId;
    this.notConfigured = null;
  }

  private WatermarkKeyRing(String notConfigured) {
    this.keys = Map.of();
    this.activeId = null;
    this.notConfigured = notConfigured;
  }

  /**
   * A ring without keys, for a verifier given none: detection says "not checked", and {@link
   * #active()} refuses.
   *
   * @param notConfigured where keys would have been read from, e.g. "GENGUARD_WATERMARK_KEYS is not
   *     set and /keys/watermark-keys does not exist", for the reasons detection gives
   */
  public static WatermarkKeyRing none(String notConfigured) {
    if (notConfigured == null || notConfigured.isBlank()) {
      throw new IllegalArgumentException("say where the watermark keys would have come from");
    }
    return new WatermarkKeyRing(notConfigured);
  }

  /** Whether this ring holds no key ({@link #none}). */
  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /** For a ring without keys, where they would have come from ({@link #none}); else empty. */
  public Optional<String> notConfigured() {
    return Optional.ofNullable(notConfigured);
  }

  /** A ring of one key, which is active. */
  public static WatermarkKeyRing of(WatermarkKey key) {
    return new WatermarkKeyRing(List.of(key), key.id());
  }

  /**
   * Parses {@code id:base64} entries; {@code activeId} null means the last entry.
   *
   * @param what where the entries came from, for error messages
   */
  public static WatermarkKeyRing parse(String entries, String activeId, String what) {
    List<WatermarkKey> keys = new ArrayList<>();
    for (KeyEntries.Entry entry : KeyEntries.parse(entries, what)) {
      keys.add(new WatermarkKey(entry.id(), entry.bytes()));
    }
    String active =
        activeId == null || activeId.isBlank() ? keys.get(keys.size() - 1).id() : activeId.strip();
    return new WatermarkKeyRing(keys, active);
  }

  /** The ring from {@value #KEYS_VARIABLE} / {@value #ACTIVE_VARIABLE}, if the first is set. */
  public static Optional<WatermarkKeyRing> fromEnvironment(Map<String, String> environment) {
    String entries = environment.get(KEYS_VARIABLE);
    if (entries == null || entries.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(parse(entries, environment.get(ACTIVE_VARIABLE), KEYS_VARIABLE));
  }

  /** The same keys plus {@code key}, which becomes active: rotation. */
  public WatermarkKeyRing rotateTo(WatermarkKey key) {
    List<WatermarkKey> all = new ArrayList<>(keys.values());
    all.add(key);
    return new WatermarkKeyRing(all, key.id());
  }

  /**
   * The key that embeds.
   *
   * @throws IllegalStateException on a ring without keys ({@link #none})
   */
  public WatermarkKey active() {
    if (isEmpty()) {
      throw new IllegalStateException(
          "No watermark key to embed with: " + notConfigured + " (this key ring only verifies)");
    }
    return keys.get(activeId);
  }

  public Optional<WatermarkKey> find(String id) {
    return Optional.ofNullable(keys.get(id));
  }

  public List<WatermarkKey> keys() {
    return List.copyOf(keys.values());
  }

  public List<String> ids() {
    return List.copyOf(keys.keySet());
  }

  /** Entries in the form {@link #parse} reads, newline-separated, for a key file. Never log it. */
  public String toConfigEntries() {
    StringBuilder out = new StringBuilder();
    for (WatermarkKey key : keys.values()) {
      out.append(key.toConfigEntry()).append('\n');
    }
    return out.toString();
  }

  @Override
  public String toString() {
    if (isEmpty()) {
      return "WatermarkKeyRing[no keys: " + notConfigured + "]";
    }
    return "WatermarkKeyRing[active=" + activeId + ", ids=" + keys.keySet() + "]";
  }
}
