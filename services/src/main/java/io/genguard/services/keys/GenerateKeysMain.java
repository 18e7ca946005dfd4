package io.genguard.services.keys;

import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import java.io.PrintStream;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Prints a fresh watermark key and signing key as .env lines, for a first deployment or a rotation
 * (append the new entries to the existing lists; the last entry becomes active; keep the old ones
 * so existing outputs still verify). Secrets go to stdout only: redirect them into the .env file,
 * never into the repository.
 *
 * <pre>
 *   docker compose run --rm --no-deps generator io.genguard.services.keys.GenerateKeysMain [suffix]
 * </pre>
 */
public final class GenerateKeysMain {
  private GenerateKeysMain() {}

  public static void main(String[] args) {
    String suffix = args.length > 0 ? args[0] : LocalDate.now(ZoneOffset.UTC).toString();
    print(System.out, suffix);
  }

  static void print(PrintStream out, String suffix) {
    if (!suffix.matches("[A-Za-z0-9._-]{1,40}")) {
      throw new IllegalArgumentException(
          "key id suffix '" + suffix + "' must be 1-40 letters, digits, '.', '_' or '-'");
    }
    WatermarkKey watermark = WatermarkKey.generate("wm-" + suffix);
    SigningKey signing = SigningKey.generate("sign-" + suffix);
    out.println(
        "# New provenance keys (" + suffix + "). Rotation: append each entry to the existing list");
    out.println("# with a comma; the last entry is the active one. Never commit these lines.");
    out.println(WatermarkKeyRing.KEYS_VARIABLE + "=" + watermark.toConfigEntry());
    out.println(SigningKeyRing.KEYS_VARIABLE + "=" + signing.toConfigEntry());
    out.println(
        VerificationKeyRing.KEYS_VARIABLE + "=" + signing.id() + ":" + signing.publicKeyBase64());
  }
}
