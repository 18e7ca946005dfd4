package io.genguard.provenance;

import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import io.genguard.schemas.ReplacingFiles;
import io.genguard.schemas.ReplacingFiles.Links;
import io.genguard.schemas.ReplacingFiles.OnStop;
import io.genguard.schemas.ReplacingFiles.Replacement;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every key provenance needs, from one place: the watermark keys (secret, for embedding and
 * detection), the signing keys (secret, generator only) and the verification keys (public).
 *
 * <p>Two ways to load them. A process that signs (the generator, the embedded stack) uses {@link
 * #fromEnvironmentOrDirectory}: per key kind, the environment variables if set ({@link
 * WatermarkKeyRing#KEYS_VARIABLE}, {@link SigningKeyRing#KEYS_VARIABLE}, {@link
 * VerificationKeyRing#KEYS_VARIABLE}), otherwise key files in a key directory ({@value
 * #WATERMARK_FILE}, {@value #SIGNING_FILE}), created with fresh random keys and owner-only
 * permissions when absent, so a local stack that restarts on the same data directory keeps its
 * keys. A process that only verifies (the moderation job, the audit service's explanations, {@code
 * audit replay}) uses {@link #forVerifier}: it never reads, creates or trusts a signing key, and
 * trusts exactly the configured public keys ({@link VerificationKeyRing#KEYS_VARIABLE} and the key
 * directory's {@value #VERIFICATION_FILE}, which a signer writes with {@link
 * #publishVerificationKeys}). Otherwise a verifier without the signing keys made a key of its own,
 * which anyone who can read its key directory could sign with. Nor does a verifier make a watermark
 * key: without {@link WatermarkKeyRing#KEYS_VARIABLE} or a {@value #WATERMARK_FILE} it holds none
 * ({@link WatermarkKeyRing#none}) and reports every watermark as not checked, where a random key of
 * its own called every output NOT_DETECTED. {@link #toString()} shows ids only.
 *
 * <p>A key file that group or others can write is refused on a POSIX file system: whoever can write
 * it can swap in their own keys. One they can only read is accepted, as secrets mounted by Docker
 * (0444) and Kubernetes (0644 by default) are.
 *
 * @param signing the signing keys, or null in a verifier's keys ({@link #forVerifier})
 * @param verification the public keys manifests are verified with: a signer's own signing keys'
 *     public halves plus any configured ones; a verifier's configured ones only
 */
public record ProvenanceKeys(
    WatermarkKeyRing watermark, SigningKeyRing signing, VerificationKeyRing verification) {

  public static final String WATERMARK_FILE = "watermark-keys";
  public static final String SIGNING_FILE = "signing-keys";

  /**
   * Public keys a verifier trusts besides {@link VerificationKeyRing#KEYS_VARIABLE}, in the form
   * that variable takes, one {@code id:base64} a line; written by {@link #publishVerificationKeys}.
   */
  public static final String VERIFICATION_FILE = "verification-keys";

  /**
   * A signer's keys: from the environment where set, the key directory for the rest (created when
   * absent).
   */
  public static ProvenanceKeys fromEnvironmentOrDirectory(
      Map<String, String> environment, Path keyDirectory) {
    WatermarkKeyRing watermark = watermarkKeys(environment, keyDirectory);
    SigningKeyRing signing =
        SigningKeyRing.fromEnvironment(environment)
            .orElseGet(
                () ->
                    SigningKeyRing.parse(
                        readOrCreate(
                            keyDirectory.resolve(SIGNING_FILE),
                            () -> SigningKey.generate("sign-local-1").toConfigEntry() + "\n"),
                        environment.get(SigningKeyRing.ACTIVE_VARIABLE),
                        keyDirectory.resolve(SIGNING_FILE).toString()));
    Set<String> revoked =
        KeyEntries.parseIds(
            environment.get(VerificationKeyRing.REVOKED_VARIABLE),
            VerificationKeyRing.REVOKED_VARIABLE);
    String active = signing.active().id();
    if (revoked.contains(active)) {
      // Every manifest it signed would be INVALID wherever the revocation is configured.
      throw new IllegalArgumentException(
          "The active signing key '"
              + active
              + "' is listed in "
              + VerificationKeyRing.REVOKED_VARIABLE
              + ": sign with another key ("
              + SigningKeyRing.KEYS_VARIABLE
              + " and "
              + SigningKeyRing.ACTIVE_VARIABLE
              + ") before revoking this one");
    }
    VerificationKeyRing verification = signing.verificationKeys();
    Optional<VerificationKeyRing> configured = VerificationKeyRing.fromEnvironment(environment);
    if (configured.isPresent()) {
      verification = verification.with(configured.get());
    }
    return new ProvenanceKeys(
        watermark,
        signing,
        verification
            .without(revoked)
            .withV1NotAfter(VerificationKeyRing.v1NotAfterFromEnvironment(environment)));
  }

  /**
   * A verifier's keys: the watermark keys from {@link WatermarkKeyRing#KEYS_VARIABLE} or the key
   * directory's {@value #WATERMARK_FILE} if it exists, no signing keys, and as verification keys
   * only those configured: {@link VerificationKeyRing#KEYS_VARIABLE} and the key directory's
   * {@value #VERIFICATION_FILE} if it exists (entries may carry a not-after date there). {@link
   * SigningKeyRing#KEYS_VARIABLE} and a {@value #SIGNING_FILE} in the directory are ignored, and no
   * key file is created. Without watermark keys the watermark ring is empty ({@link
   * WatermarkKeyRing#none}) and every watermark is not checked, the reason saying what to
   * configure; without verification keys the ring is empty and every manifest is INVALID for an
   * unknown key, the reason saying what to configure. The ids listed in {@link
   * VerificationKeyRing#REVOKED_VARIABLE} are left out whichever source lists them, so a manifest
   * under a revoked key is INVALID for an unknown key.
   */
  public static ProvenanceKeys forVerifier(Map<String, String> environment, Path keyDirectory) {
    WatermarkKeyRing watermark =
        WatermarkKeyRing.fromEnvironment(environment)
            .orElseGet(() -> existingWatermarkKeys(environment, keyDirectory));
    return new ProvenanceKeys(
        watermark, null, verifierTrust(environment, keyDirectory).verification());
  }

  /**
   * For a verifier's start log: which verification keys {@link #forVerifier} trusts with these
   * settings and where each comes from ({@link VerificationKeyRing#KEYS_VARIABLE}, the key
   * directory's {@value #VERIFICATION_FILE}, or both), and which it refuses although one of them
   * lists it ({@link VerificationKeyRing#REVOKED_VARIABLE}). A key removed from the variable but
   * still in a file shows here with the file as its source.
   */
  public static String describeVerifierTrust(Map<String, String> environment, Path keyDirectory) {
    return verifierTrust(environment, keyDirectory).description();
  }

  /** A verifier's verification keys and the line that says where they came from. */
  private record VerifierTrust(VerificationKeyRing verification, String description) {}

  /**
   * The verification keys of {@link #forVerifier}: the key directory's {@value #VERIFICATION_FILE}
   * and {@link VerificationKeyRing#KEYS_VARIABLE}, less the ids in {@link
   * VerificationKeyRing#REVOKED_VARIABLE}, which win over both.
   */
  private static VerifierTrust verifierTrust(Map<String, String> environment, Path keyDirectory) {
    VerificationKeyRing fromFile = new VerificationKeyRing(Map.of());
    Path published = keyDirectory.resolve(VERIFICATION_FILE);
    if (Files.exists(published)) {
      fromFile = VerificationKeyRing.parse(readExisting(published), published.toString(), true);
    }
    VerificationKeyRing fromVariable =
        VerificationKeyRing.fromEnvironment(environment)
            .orElseGet(() -> new VerificationKeyRing(Map.of()));
    Set<String> revoked =
        KeyEntries.parseIds(
            environment.get(VerificationKeyRing.REVOKED_VARIABLE),
            VerificationKeyRing.REVOKED_VARIABLE);
    VerificationKeyRing all = fromFile.with(fromVariable);
    VerificationKeyRing trusted =
        all.without(revoked)
            .withV1NotAfter(VerificationKeyRing.v1NotAfterFromEnvironment(environment));

    StringBuilder line = new StringBuilder("Verification keys trusted: ");
    if (trusted.ids().isEmpty()) {
      line.append("none (every manifest is INVALID for an unknown key)");
    }
    String separator = "";
    for (String id : trusted.ids()) {
      line.append(separator).append(id).append(" (").append(sources(id, fromFile, fromVariable));
      trusted.notAfter(id).ifPresent(instant -> line.append(", not after ").append(instant));
      line.append(')');
      separator = ", ";
    }
    separator = "; refused, listed in " + VerificationKeyRing.REVOKED_VARIABLE + ": ";
    for (String id : revoked) {
      if (all.ids().contains(id)) {
        line.append(separator)
            .append(id)
            .append(" (in ")
            .append(sources(id, fromFile, fromVariable));
        line.append(')');
        separator = ", ";
      }
    }
    trusted
        .v1NotAfter()
        .ifPresent(
            instant ->
                line.append("; ")
                    .append(ProvenanceManifest.FORMAT_V1)
                    .append(" manifests only if generated at or before ")
                    .append(instant)
                    .append(" (")
                    .append(VerificationKeyRing.V1_NOT_AFTER_VARIABLE)
                    .append(')'));
    line.append("; key file ").append(published.toAbsolutePath());
    if (!Files.exists(published)) {
      line.append(" (absent)");
    }
    return new VerifierTrust(trusted, line.toString());
  }

  private static String sources(
      String id, VerificationKeyRing fromFile, VerificationKeyRing fromVariable) {
    boolean inFile = fromFile.ids().contains(id);
    boolean inVariable = fromVariable.ids().contains(id);
    if (inFile && inVariable) {
      return VERIFICATION_FILE + " and " + VerificationKeyRing.KEYS_VARIABLE;
    }
    return inFile ? VERIFICATION_FILE : VerificationKeyRing.KEYS_VARIABLE;
  }

  /**
   * Writes the public halves of this signer's signing keys to {@code keyDirectory}'s {@value
   * #VERIFICATION_FILE}, replacing what it held, for the verifiers that share the directory ({@link
   * #forVerifier}): the embedded stack, whose moderation and explanations run beside the generator.
   * A key dropped from the signing keys is dropped here too.
   *
   * @throws IllegalStateException on a verifier's keys, which have none to publish
   */
  public Path publishVerificationKeys(Path keyDirectory) {
    if (signing == null) {
      throw new IllegalStateException(
          "These keys were loaded for verifying only; there are no signing keys to publish");
    }
    Path file = keyDirectory.resolve(VERIFICATION_FILE);
    String content =
        // No commas in the comment: entries are separated by commas as well as by lines.
        "# Public halves of the signing keys (from "
            + SigningKeyRing.KEYS_VARIABLE
            + " or "
            + SIGNING_FILE
            + ") that\n# the verifiers of this key directory trust. Written again at every start.\n"
            + signing.verificationKeys().toConfigEntries();
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      removeOlderTemporaryFiles(file);
      // A link at the name is replaced, not written through, as the move of before did.
      try (Replacement replacement =
          ReplacingFiles.open(
              file, OnStop.REMOVE, Links.REPLACE, null, OWNER_ONLY, ProvenanceKeys::note)) {
        replacement.stream().write(content.getBytes(StandardCharsets.UTF_8));
        replacement.commit();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Could not write the verification key file " + file, e);
    }
    return file;
  }

  /** Keys from the key directory only (created when absent). */
  public static ProvenanceKeys loadOrCreate(Path keyDirectory) {
    return fromEnvironmentOrDirectory(Map.of(), keyDirectory);
  }

  /**
   * Signing keys from a key file of {@code id:base64seed} lines (the last one signs), created with
   * one fresh key named {@code freshKeyId} and owner-only permissions when absent. Adding a line
   * rotates to a new key; verifiers keep the old ones' public halves.
   */
  public static SigningKeyRing signingKeysAt(Path file, String freshKeyId) {
    return SigningKeyRing.parse(
        readOrCreate(file, () -> SigningKey.generate(freshKeyId).toConfigEntry() + "\n"),
        null,
        file.toString());
  }

  /** Fresh random keys held in memory only, for tests and benchmarks. */
  public static ProvenanceKeys ephemeral() {
    SigningKeyRing signing = SigningKeyRing.of(SigningKey.generate("sign-ephemeral"));
    return new ProvenanceKeys(
        WatermarkKeyRing.of(WatermarkKey.generate("wm-ephemeral")),
        signing,
        signing.verificationKeys());
  }

  private static WatermarkKeyRing watermarkKeys(
      Map<String, String> environment, Path keyDirectory) {
    return WatermarkKeyRing.fromEnvironment(environment)
        .orElseGet(
            () ->
                WatermarkKeyRing.parse(
                    readOrCreate(
                        keyDirectory.resolve(WATERMARK_FILE),
                        () -> WatermarkKey.generate("wm-local-1").toConfigEntry() + "\n"),
                    environment.get(WatermarkKeyRing.ACTIVE_VARIABLE),
                    keyDirectory.resolve(WATERMARK_FILE).toString()));
  }

  /** A verifier's watermark keys from the key directory's file, or none when it does not exist. */
  private static WatermarkKeyRing existingWatermarkKeys(
      Map<String, String> environment, Path keyDirectory) {
    Path file = keyDirectory.resolve(WATERMARK_FILE);
    if (!Files.exists(file)) {
      return WatermarkKeyRing.none(
          WatermarkKeyRing.KEYS_VARIABLE
              + " is not set and "
              + file.toAbsolutePath()
              + " does not exist; give this verifier the generators' watermark keys there");
    }
    return WatermarkKeyRing.parse(
        readExisting(file), environment.get(WatermarkKeyRing.ACTIVE_VARIABLE), file.toString());
  }

  /** A key file that must exist, refused when others can write it (see the class comment). */
  private static String readExisting(Path file) {
    try {
      refuseIfWritableByOthers(file);
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read key file " + file, e);
    }
  }

  private static String readOrCreate(Path file, java.util.function.Supplier<String> fresh) {
    try {
      removeOlderTemporaryFiles(file);
      if (!Files.exists(file)) {
        Files.createDirectories(file.toAbsolutePath().getParent());
        // Write a complete file under a temporary name, owner-only from its creation, then link it
        // into place: creating a link fails if the name exists, so concurrent starters all end up
        // reading the same keys (commitIfAbsent is false for all but the first: read theirs).
        try (Replacement replacement =
            ReplacingFiles.open(
                file, OnStop.REMOVE, Links.FOLLOW, null, OWNER_ONLY, ProvenanceKeys::note)) {
          replacement.stream().write(fresh.get().getBytes(StandardCharsets.UTF_8));
          replacement.commitIfAbsent();
        }
      }
      refuseIfWritableByOthers(file);
      String content = Files.readString(file, StandardCharsets.UTF_8);
      if (content.isBlank()) {
        throw new IllegalStateException(
            "Key file "
                + file
                + " is empty; delete it to have fresh keys generated, or fill it with"
                + " id:base64 lines");
      }
      return content;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read or create key file " + file, e);
    }
  }

  /**
   * Refuses a key file that group or others can write, as ssh does: they could replace the signing
   * key with their own (forging manifests the verifiers trust) or the watermark key. Readable by
   * them is accepted, since mounted secrets are world-readable (see the class comment).
   */
  private static void refuseIfWritableByOthers(Path file) throws IOException {
    Set<PosixFilePermission> permissions;
    try {
      permissions = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException e) {
      return; // Not a POSIX file system (Windows): the directory's ACLs apply.
    }
    if (permissions.contains(PosixFilePermission.GROUP_WRITE)
        || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IllegalStateException(
          "Key file "
              + file
              + " is writable by group or others ("
              + PosixFilePermissions.toString(permissions)
              + "), who could replace the keys in it; run chmod 600 "
              + file
              + " (or chmod go-w) and start again");
    }
  }

  /**
   * What the key files are created with ({@link ReplacingFiles} creates their temporary file so,
   * before a key is written to it); ignored where the file system has no POSIX permissions
   * (Windows), where the directory's ACLs apply.
   */
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  /**
   * Removes the temporary files of {@code file} that the forty-fourth session's code left when it
   * was killed while writing it: {@code Files.createTempFile(directory, FILE, ".new")}, so {@code
   * FILE<digits>.new}, when over a minute old and open in no process ({@link
   * ReplacingFiles#removeOlderTemporaryFiles}); nothing when the directory does not exist yet.
   */
  private static void removeOlderTemporaryFiles(Path file) {
    Path directory = file.toAbsolutePath().getParent();
    ReplacingFiles.removeOlderTemporaryFiles(
        directory,
        Pattern.compile(Pattern.quote(file.getFileName().toString()) + "[0-9]{1,20}\\.new"),
        ProvenanceKeys::note);
  }

  private static final System.Logger LOG = System.getLogger(ProvenanceKeys.class.getName());

  /** What {@link ReplacingFiles} says (an atomic move refused, a temporary file removed). */
  private static void note(String line) {
    LOG.log(System.Logger.Level.WARNING, line);
  }
}
