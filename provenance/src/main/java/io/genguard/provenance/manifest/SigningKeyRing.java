package io.genguard.provenance.manifest;

import io.genguard.provenance.KeyEntries;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Ed25519 signing keys: the active one signs; all of them are published for verification, so
 * manifests signed before a rotation stay verifiable. {@link #toString()} shows ids only.
 *
 * <p>Environment: {@value #KEYS_VARIABLE}{@code =id1:base64seed,id2:base64seed} and optionally
 * {@value #ACTIVE_VARIABLE}{@code =id2} (default: the last key listed).
 */
public final class SigningKeyRing {
  public static final String KEYS_VARIABLE = "GENGUARD_SIGNING_KEYS";
  public static final String ACTIVE_VARIABLE = "GENGUARD_SIGNING_ACTIVE_KEY";

  private final Map<String, SigningKey> keys;
  private final String activeId;

  public SigningKeyRing(List<SigningKey> keys, String activeId) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("A signing key ring needs at least one key");
    }
    Map<String, SigningKey> byId = new LinkedHashMap<>();
    for (SigningKey key : keys) {
      if (byId.put(key.id(), key) != null) {
        throw new IllegalArgumentException("Signing key id '" + key.id() + "' appears twice");
      }
    }
    if (!byId.containsKey(activeId)) {
      throw new IllegalArgumentException(
          "Active signing key id '" + activeId + "' is not among the keys " + byId.keySet());
    }
    this.keys = byId;
    this.activeId = activeId;
  }

  public static SigningKeyRing of(SigningKey key) {
    return new SigningKeyRing(List.of(key), key.id());
  }

  /** Parses {@code id:base64seed} entries; {@code activeId} null means the last entry. */
  public static SigningKeyRing parse(String entries, String activeId, String what) {
    List<SigningKey> keys = new ArrayList<>();
    for (KeyEntries.Entry entry : KeyEntries.parse(entries, what)) {
      keys.add(SigningKey.fromSeed(entry.id(), entry.bytes()));
    }
    String active =
        activeId == null || activeId.isBlank() ? keys.get(keys.size() - 1).id() : activeId.strip();
    return new SigningKeyRing(keys, active);
  }

  /** The ring from {@value #KEYS_VARIABLE} / {@value #ACTIVE_VARIABLE}, if the first is set. */
  public static Optional<SigningKeyRing> fromEnvironment(Map<String, String> environment) {
    String entries = environment.get(KEYS_VARIABLE);
    if (entries == null || entries.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(parse(entries, environment.get(ACTIVE_VARIABLE), KEYS_VARIABLE));
  }

  /** The same keys plus {@code key}, which becomes active. */
  public SigningKeyRing rotateTo(SigningKey key) {
    List<SigningKey> all = new ArrayList<>(keys.values());
    all.add(key);
    return new SigningKeyRing(all, key.id());
  }

  public SigningKey active() {
    return keys.get(activeId);
  }

  public List<SigningKey> keys() {
    return List.copyOf(keys.values());
  }

  /** The public half of every key, for a {@link ManifestVerifier}. */
  public VerificationKeyRing verificationKeys() {
    Map<String, java.security.PublicKey> publicKeys = new LinkedHashMap<>();
    keys.forEach((id, key) -> publicKeys.put(id, key.publicKey()));
    return new VerificationKeyRing(publicKeys);
  }

  /** Entries in the form {@link #parse} reads, newline-separated, for a key file. Never log it. */
  public String toConfigEntries() {
    StringBuilder out = new StringBuilder();
    for (SigningKey key : keys.values()) {
      out.append(key.toConfigEntry()).append('\n');
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "SigningKeyRing[active=" + activeId + ", ids=" + keys.keySet() + "]";
  }
}
