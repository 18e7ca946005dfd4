package io.genguard.provenance.manifest;

import java.math.BigInteger;

/**
 * Checks a raw Ed25519 public key before it is trusted: the JDK accepts any 32 bytes as a public
 * key, including encodings of no curve point (every signature then fails) and points of small order
 * (the identity, or points of order 2, 4 or 8), under which signatures can be forged for any
 * message without a private key: with A the identity, (R = identity, S = 0) verifies everything.
 */
final class Ed25519Points {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger D =
      BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
  private static final BigInteger SQRT_MINUS_ONE =
      BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P);

  private Ed25519Points() {}

  /** Why {@code raw} (32 bytes, RFC 8032 encoding) is not a usable public key, or null if it is. */
  static String problem(byte[] raw) {
    byte[] bigEndian = new byte[32];
    for (int i = 0; i < 32; i++) {
      bigEndian[i] = raw[31 - i];
    }
    boolean xOdd = (bigEndian[0] & 0x80) != 0;
    bigEndian[0] &= 0x7f;
    BigInteger y = new BigInteger(1, bigEndian);
    if (y.compareTo(P) >= 0) {
      return "its y coordinate is not reduced modulo 2^255-19";
    }
    // RFC 8032, 5.1.3: x^2 = (y^2 - 1) / (d y^2 + 1).
    BigInteger y2 = y.multiply(y).mod(P);
    BigInteger u = y2.subtract(BigInteger.ONE).mod(P);
    BigInteger v = D.multiply(y2).add(BigInteger.ONE).mod(P);
    BigInteger x2 = u.multiply(v.modInverse(P)).mod(P);
    BigInteger x = x2.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
    if (!x.multiply(x).mod(P).equals(x2)) {
      x = x.multiply(SQRT_MINUS_ONE).mod(P);
    }
    if (!x.multiply(x).mod(P).equals(x2)) {
      return "it encodes no point of the curve";
    }
    if (x.signum() == 0 && xOdd) {
      return "it encodes no point of the curve";
    }
    if (x.testBit(0) != xOdd) {
      x = P.subtract(x);
    }
    // Small order: 8 * point is the identity (0, 1).
    BigInteger[] point = {x, y};
    for (int i = 0; i < 3; i++) {
      point = add(point, point);
    }
    if (point[0].signum() == 0 && point[1].equals(BigInteger.ONE)) {
      return "it is a point of small order, under which signatures can be forged";
    }
    return null;
  }

  /** Affine addition on -x^2 + y^2 = 1 + d x^2 y^2 (complete for Ed25519). */
  private static BigInteger[] add(BigInteger[] a, BigInteger[] b) {
    BigInteger x1x2 = a[0].multiply(b[0]).mod(P);
    BigInteger y1y2 = a[1].multiply(b[1]).mod(P);
    BigInteger dxxyy = D.multiply(x1x2).mod(P).multiply(y1y2).mod(P);
    BigInteger x = a[0].multiply(b[1]).add(a[1].multiply(b[0])).mod(P);
    BigInteger y = y1y2.add(x1x2).mod(P);
    return new BigInteger[] {
      x.multiply(BigInteger.ONE.add(dxxyy).modInverse(P)).mod(P),
      y.multiply(BigInteger.ONE.subtract(dxxyy).mod(P).modInverse(P)).mod(P)
    };
  }
}
