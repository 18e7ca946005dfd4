package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which words a category score rests on, by occlusion (leave-one-word-out; for text, Li, Monroe and
 * Jurafsky 2016, "Understanding Neural Networks through Representation Erasure"): every distinct
 * word is removed from the text wherever it occurs, the text is scored again by the same scorer,
 * and the words whose removal lowers the category's score the most are its evidence. It works for
 * any scorer (the MiniLM ensemble as well as the n-gram model) and says exactly what it measured:
 * the score the text gets without that word. Drops are compared in log-odds, so that a word still
 * counts when several saturate the score ("shut up you worthless stupid bitch": 0.99997, and 0.95
 * without "bitch"). Words that only matter together ("go back to your country") show weakly or not
 * at all. One extra scoring per distinct word, at most {@value #MAX_WORDS}, so callers ask for it
 * only for texts that were held.
 */
public final class WordOcclusion {
  /** Distinct words tried per text (the first ones in reading order). */
  public static final int MAX_WORDS = 64;

  /**
   * Smallest drop in log-odds that counts as evidence: removing the word divides the odds of the
   * category by at least e^0.5, about 1.65 (0.90 to 0.84, 0.50 to 0.38, 0.99997 to 0.99995).
   */
  public static final double MIN_LOG_ODDS_DROP = 0.5;

  /** Evidence words reported per category at most. */
  public static final int TOP = 3;

  /**
   * A word with its inner apostrophes ("don't", "o'brien's"). The apostrophe loop is possessive:
   * java.util.regex recurses once per repetition of a greedy group, so a few thousand "a'" threw
   * StackOverflowError; nothing follows the loop, so giving up its backtracking matches the same.
   */
  private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+(?:'[\\p{L}\\p{N}]+)*+");

  private final ContentScorer scorer;

  public WordOcclusion(ContentScorer scorer) {
    this.scorer = scorer;
  }

  /**
   * One evidence word.
   *
   * @param word the word, lower-cased
   * @param scoreWithout the score of the text with every occurrence of the word removed
   */
  public record Evidence(String word, double scoreWithout) {}

  /**
   * The evidence for each of {@code categories}, strongest first; a category without a word whose
   * removal lowers its log-odds by at least {@value #MIN_LOG_ODDS_DROP} gets an empty list.
   *
   * @param scores the text's own scores, from the same scorer
   */
  public Map<Category, List<Evidence>> explain(
      String text, ContentScores scores, Set<Category> categories) {
    Map<Category, List<Evidence>> evidence = new EnumMap<>(Category.class);
    if (categories.isEmpty()) {
      return evidence;
    }
    Occlusions occlusions = Occlusions.of(text);
    List<ContentScores> occluded =
        occlusions.texts().isEmpty() ? List.of() : scorer.scoreBatch(occlusions.texts());
    for (Category category : categories) {
      double[] without = new double[occluded.size()];
      for (int i = 0; i < without.length; i++) {
        without[i] = occluded.get(i).score(category);
      }
      evidence.put(category, strongest(occlusions.words(), scores.score(category), without));
    }
    return evidence;
  }

  /**
   * The evidence for any other score of a text in 0..1 (such as the implicit-stereotype signal),
   * given the function that computed it.
   */
  public static List<Evidence> explain(
      String text, double score, ToDoubleFunction<String> scoring) {
    Occlusions occlusions = Occlusions.of(text);
    double[] without = occlusions.texts().stream().mapToDouble(scoring).toArray();
    return strongest(occlusions.words(), score, without);
  }

  /** The words tried and the text without each (a text that would be empty is left out). */
  private record Occlusions(List<String> words, List<String> texts) {
    static Occlusions of(String text) {
      List<String> words = new ArrayList<>();
      List<String> texts = new ArrayList<>();
      for (String word : distinctWords(text)) {
        String without = without(text, word);
        if (!without.isBlank()) {
          words.add(word);
          texts.add(without);
        }
      }
      return new Occlusions(words, texts);
    }
  }

  private static List<Evidence> strongest(List<String> words, double score, double[] without) {
    double logOdds = logOdds(score);
    List<Evidence> found = new ArrayList<>();
    for (int i = 0; i < words.size(); i++) {
      if (logOdds - logOdds(without[i]) >= MIN_LOG_ODDS_DROP) {
        found.add(new Evidence(words.get(i), without[i]));
      }
    }
    // One text's score minus each: the lowest score without a word is the largest drop.
    found.sort(Comparator.comparingDouble(Evidence::scoreWithout));
    return List.copyOf(found.subList(0, Math.min(TOP, found.size())));
  }

  /** Log-odds of a probability, kept finite at 0 and 1. */
  public static double logOdds(double probability) {
    double p = Math.min(1 - 1e-9, Math.max(1e-9, probability));
    return Math.log(p / (1 - p));
  }

  /** The text's distinct words, lower-cased, in reading order, at most {@value #MAX_WORDS}. */
  static List<String> distinctWords(String text) {
    Set<String> words = new LinkedHashSet<>();
    Matcher matcher = WORD.matcher(text);
    while (matcher.find() && words.size() < MAX_WORDS) {
      words.add(matcher.group().toLowerCase(Locale.ROOT));
    }
    return new ArrayList<>(words);
  }

  /** The text with every whole-word occurrence of {@code word} (any case) removed. */
  public static String without(String text, String word) {
    Pattern occurrence =
        Pattern.compile(
            "(?<![\\p{L}\\p{N}'])" + Pattern.quote(word) + "(?![\\p{L}\\p{N}'])",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    return occurrence.matcher(text).replaceAll("").replaceAll("[ \\t]{2,}", " ").strip();
  }
}
