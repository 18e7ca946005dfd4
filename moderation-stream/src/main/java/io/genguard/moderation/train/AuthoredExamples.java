package io.genguard.moderation.train;

import io.genguard.moderation.scoring.Category;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Labelled examples written for this project where public data is thin (see the header of the
 * resource for the reason and the rules they follow). Format: one example per line, {@code
 * categories<TAB>text}, where categories is {@code safe} or a comma-separated list of category ids;
 * lines starting with {@code #} are comments.
 */
public final class AuthoredExamples {
  /** Classpath location of the authored examples. */
  public static final String RESOURCE = "/training/authored-examples.tsv";

  /** Source name used in splits and reports. */
  public static final String SOURCE = "genguard-authored";

  private AuthoredExamples() {}

  /** Reads the resource; an absent resource is an error, not an empty list. */
  public static List<LabelledText> load() {
    try (InputStream in = AuthoredExamples.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "Authored examples " + RESOURCE + " are not on the classpath");
      }
      return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RESOURCE, e);
    }
  }

  static List<LabelledText> parse(BufferedReader reader, String origin) throws IOException {
    List<LabelledText> out = new ArrayList<>();
    String line;
    int lineNumber = 0;
    while ((line = reader.readLine()) != null) {
      lineNumber++;
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int tab = line.indexOf('\t');
      if (tab <= 0 || tab == line.length() - 1) {
        throw new IllegalArgumentException(
            origin + " line " + lineNumber + ": expected 'categories<TAB>text', got: " + line);
      }
      String labels = line.substring(0, tab).strip();
      String text = line.substring(tab + 1).strip();
      if (labels.equals("safe")) {
        out.add(LabelledText.benign(SOURCE, null, text));
        continue;
      }
      Set<Category> positives = EnumSet.noneOf(Category.class);
      for (String id : labels.split(",")) {
        try {
          positives.add(Category.fromId(id));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              origin + " line " + lineNumber + ": " + e.getMessage(), e);
        }
      }
      if (positives.contains(Category.SEXUAL_MINORS)) {
        positives.add(Category.SEXUAL);
      }
      out.add(LabelledText.unsafe(SOURCE, null, text, positives, Set.of()));
    }
    return out;
  }
}
