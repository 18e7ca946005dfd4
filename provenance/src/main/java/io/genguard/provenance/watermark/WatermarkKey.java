package io.genguard.provenance.watermark;

import io.genguard.provenance.KeyEntries;
import java.util.Base64;
import java.util.Objects;

/**
 * One secret watermark key with its public id. The secret never appears in {@link #toString()};
 * only the id travels with outputs, so old ids stay detectable after rotation.
 */
public final class WatermarkKey {
  /** Shorter secrets would make the green lists guessable. */
  public static final int MIN_SECRET_BYTES = 16;

  private final String id;
  private final byte[] secret;

  public WatermarkKey(String id, byte[] secret) {
    this.id = KeyEntries.requireValidId(id, "watermark key");
    Objects.requireNonNull(secret, "secret");
    if (secret.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException(
          "Watermark key '"
              + id
              + "' has "
              + secret.length
              + " secret bytes; at least "
              + MIN_SECRET_BYTES
              + " are required (32 random bytes, base64-encoded, are recommended)");
    }
    this.secret = secret.clone();
  }

  /** A fresh random 32-byte key. */
  public static WatermarkKey generate(String id) {
    byte[] secret = new byte[32];
    new java.security.SecureRandom().nextBytes(secret);
    return new WatermarkKey(id, secret);
  }

  public String id() {
    return id;
  }

  /** A copy of the secret, for the green-list function and key files only. */
  byte[] secret() {
    return secret.clone();
  }

  /** {@code id:base64(secret)}, the form {@link WatermarkKeyRing#parse} reads. Never log it. */
  public String toConfigEntry() {
    return id + ":" + Base64.getEncoder().encodeToString(secret);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof WatermarkKey key
        && key.id.equals(id)
        && java.security.MessageDigest.isEqual(key.secret, secret);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "WatermarkKey[id=" + id + ", secret=<redacted " + secret.length + " bytes>]";
  }
}
