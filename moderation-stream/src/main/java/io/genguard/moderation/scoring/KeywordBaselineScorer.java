package io.genguard.moderation.scoring;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The naive baseline: a plain profanity word list. A text containing a listed word scores 1 for
 * unsafe and harassment (and hate, for words marked as slurs), 0 otherwise. Its scores are
 * indicators, not calibrated probabilities; it exists as the comparison row of the quality report,
 * and as a dependency-free fallback.
 */
public final class KeywordBaselineScorer implements ContentScorer {
  /** Factory and version name. */
  public static final String NAME = "keyword-baseline";

  private static final String RESOURCE = "/scoring/keyword-baseline-words.txt";

  private final Set<String> profanity;
  private final Set<String> slurs;

  public KeywordBaselineScorer(Set<String> profanity, Set<String> slurs) {
    this.profanity = Set.copyOf(profanity);
    this.slurs = Set.copyOf(slurs);
  }

  /** The scorer with the word list shipped in the jar. */
  public static KeywordBaselineScorer loadDefault() {
    Set<String> profanity = new HashSet<>();
    Set<String> slurs = new HashSet<>();
    try (InputStream in = KeywordBaselineScorer.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("Word list " + RESOURCE + " is not on the classpath");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        if (line.startsWith("hate:")) {
          String word = line.substring("hate:".length());
          slurs.add(word);
          profanity.add(word);
        } else {
          profanity.add(line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RESOURCE, e);
    }
    return new KeywordBaselineScorer(profanity, slurs);
  }

  /** Every word of the list (profanity and slurs). */
  public Set<String> words() {
    return profanity;
  }

  @Override
  public List<ContentScores> scoreBatch(List<String> texts) {
    List<ContentScores> out = new ArrayList<>(texts.size());
    for (String text : texts) {
      boolean profane = false;
      boolean slur = false;
      for (String word : HashedNgramFeatures.words(TextNormalizer.normalize(text))) {
        profane |= profanity.contains(word);
        slur |= slurs.contains(word);
      }
      Map<Category, Double> categories = new EnumMap<>(Category.class);
      for (Category category : Category.values()) {
        categories.put(category, 0.0);
      }
      categories.put(Category.HARASSMENT, profane ? 1.0 : 0.0);
      categories.put(Category.HATE, slur ? 1.0 : 0.0);
      out.add(new ContentScores(profane ? 1.0 : 0.0, categories));
    }
    return out;
  }

  @Override
  public Map<String, String> versions() {
    return Map.of(NAME, "1.0.0 (" + profanity.size() + " words)");
  }
}
