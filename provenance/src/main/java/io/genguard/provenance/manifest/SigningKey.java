package io.genguard.provenance.manifest;

import io.genguard.provenance.KeyEntries;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * An Ed25519 signing key (RFC 8032) with its id. Configured as the 32-byte private seed in base64;
 * the public key is derived from it. {@link #toString()} never shows the seed.
 */
public final class SigningKey {
  public static final int SEED_BYTES = 32;

  private final String id;
  private final byte[] seed;
  private final PrivateKey privateKey;
  private final PublicKey publicKey;

  private SigningKey(String id, byte[] seed) {
    this.id = KeyEntries.requireValidId(id, "signing key");
    if (seed.length != SEED_BYTES) {
      throw new IllegalArgumentException(
          "Signing key '"
              + id
              + "' has "
              + seed.length
              + " bytes; an Ed25519 private key is exactly 32 bytes (base64 of 32 random bytes)");
    }
    this.seed = seed.clone();
    KeyPair pair = derive(this.seed);
    this.privateKey = pair.getPrivate();
    this.publicKey = pair.getPublic();
  }

  /** The key whose RFC 8032 private key is {@code seed} (32 bytes). */
  public static SigningKey fromSeed(String id, byte[] seed) {
    return new SigningKey(id, seed);
  }

  /** A fresh random key. */
  public static SigningKey generate(String id) {
    byte[] seed = new byte[SEED_BYTES];
    new SecureRandom().nextBytes(seed);
    return new SigningKey(id, seed);
  }

  public String id() {
    return id;
  }

  PrivateKey privateKey() {
    return privateKey;
  }

  public PublicKey publicKey() {
    return publicKey;
  }

  /** The Ed25519 signature of {@code message}, in base64. */
  public String sign(byte[] message) {
    try {
      java.security.Signature signature = java.security.Signature.getInstance("Ed25519");
      signature.initSign(privateKey);
      signature.update(message);
      return java.util.Base64.getEncoder().encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed for key '" + id + "'", e);
    }
  }

  /** The raw 32-byte public key in base64, the form {@code GENGUARD_VERIFICATION_KEYS} takes. */
  public String publicKeyBase64() {
    return Base64.getEncoder().encodeToString(VerificationKeyRing.rawPublicKey(publicKey));
  }

  /** {@code id:base64(seed)}, the form {@link SigningKeyRing#parse} reads. Never log it. */
  public String toConfigEntry() {
    return id + ":" + Base64.getEncoder().encodeToString(seed);
  }

  @Override
  public String toString() {
    return "SigningKey[id=" + id + ", public=" + publicKeyBase64() + ", private=<redacted>]";
  }

  /**
   * The JDK derives an Ed25519 key pair only through its generator, which takes the 32 private
   * bytes from the SecureRandom it is given; a SecureRandom that yields exactly the seed makes the
   * derivation deterministic.
   */
  private static KeyPair derive(byte[] seed) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(seed));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is required (JDK 15 or later)", e);
    }
  }

  /** Yields the seed once; anything beyond it would make derivation silently random. */
  private static final class SeedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] seed;
    private boolean used;

    SeedRandom(byte[] seed) {
      this.seed = seed;
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (used || bytes.length != seed.length) {
        throw new IllegalStateException("Ed25519 key derivation asked for unexpected random bytes");
      }
      used = true;
      System.arraycopy(seed, 0, bytes, 0, bytes.length);
    }

    @Override
    public String toString() {
      return "SeedRandom[<redacted>]";
    }

    @Override
    public boolean equals(Object other) {
      return other == this;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(new int[] {seed.length});
    }
  }
}
