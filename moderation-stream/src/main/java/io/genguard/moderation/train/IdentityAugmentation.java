package io.genguard.moderation.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * Generates benign training sentences that mention identities from the project's own descriptors,
 * nouns and templates ({@value #RESOURCE}; see its header for why and what it avoids).
 */
public final class IdentityAugmentation {
  /** Classpath location of descriptors, nouns and templates. */
  public static final String RESOURCE = "/training/identity-augmentation.txt";

  /** Source name in splits and reports. */
  public static final String SOURCE = "genguard-identity-augmentation";

  /** Sentences per descriptor. */
  static final int PER_DESCRIPTOR = 24;

  private IdentityAugmentation() {}

  public static List<LabelledText> generate() {
    List<String> descriptors = new ArrayList<>();
    List<String[]> nouns = new ArrayList<>();
    List<String> templates = new ArrayList<>();
    try (InputStream in = IdentityAugmentation.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String section = "";
      String line;
      while ((line = reader.readLine()) != null) {
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        if (line.startsWith("[")) {
          section = line;
          continue;
        }
        switch (section) {
          case "[descriptors]" -> descriptors.add(line);
          case "[nouns]" -> nouns.add(line.split("\\|"));
          case "[templates]" -> templates.add(line);
          default ->
              throw new IllegalStateException(RESOURCE + ": line outside a section: " + line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Random random = new Random(20240605L);
    Set<String> sentences = new LinkedHashSet<>();
    for (String descriptor : descriptors) {
      for (int k = 0; k < PER_DESCRIPTOR; k++) {
        String[] noun = nouns.get(random.nextInt(nouns.size()));
        String template = templates.get(random.nextInt(templates.size()));
        sentences.add(fill(template, descriptor, noun));
      }
    }
    List<LabelledText> out = new ArrayList<>();
    for (String sentence : sentences) {
      out.add(LabelledText.benign(SOURCE, null, sentence));
    }
    return out;
  }

  static String fill(String template, String adjective, String[] noun) {
    String article = "aeiouAEIOU".indexOf(adjective.charAt(0)) >= 0 ? "an" : "a";
    String text =
        template
            .replace("{a}", article)
            .replace("{adj}", adjective)
            .replace("{nouns}", noun[1])
            .replace("{noun}", noun[0]);
    return Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}
