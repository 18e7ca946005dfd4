package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores each text whole and, when it has several sentences, each sentence on its own; every score
 * is the highest of the pieces ("any part unsafe"). The models pack short sentences together into
 * one window (MiniLM) or chunk (n-gram), so a harmful sentence next to one long benign sentence was
 * scored as part of their mix and could come out low: "You worthless piece of garbage, everyone
 * hates you and nobody wants you here." is held alone and was released with a sentence about a
 * budget meeting after it. On its own, a sentence is scored as the models were trained to score
 * short texts.
 *
 * <p>At most {@value #MAX_SENTENCES} sentences of a text are scored alone (the first ones; the
 * whole text is still scored in its windows, which cover the rest as before). Costs one model call
 * per sentence more: about 2-3 times the model work for an ordinary multi-sentence output.
 */
public final class SentenceMaxScorer implements ContentScorer {
  /** Version recorded in every verdict, beside the wrapped scorer's. */
  public static final String VERSION = "1.0.0";

  /** Recorded under this name in {@link #versions()}. */
  public static final String NAME = "sentence-max";

  /** Sentences of one text scored on their own, at most. */
  public static final int MAX_SENTENCES = 64;

  private final ContentScorer scorer;

  public SentenceMaxScorer(ContentScorer scorer) {
    this.scorer = scorer;
  }

  @Override
  public List<ContentScores> scoreBatch(List<String> texts) {
    List<String> pieces = new ArrayList<>(texts.size() * 4);
    int[] firstPiece = new int[texts.size() + 1];
    for (int i = 0; i < texts.size(); i++) {
      firstPiece[i] = pieces.size();
      String text = texts.get(i);
      pieces.add(text);
      List<String> sentences = Sentences.split(text);
      if (sentences.size() > 1) {
        pieces.addAll(sentences.subList(0, Math.min(MAX_SENTENCES, sentences.size())));
      }
    }
    firstPiece[texts.size()] = pieces.size();
    List<ContentScores> scored = scorer.scoreBatch(pieces);
    List<ContentScores> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      out.add(highest(scored.subList(firstPiece[i], firstPiece[i + 1])));
    }
    return out;
  }

  private static ContentScores highest(List<ContentScores> pieces) {
    if (pieces.size() == 1) {
      return pieces.get(0);
    }
    double unsafe = 0;
    Map<Category, Double> categories = new EnumMap<>(Category.class);
    for (ContentScores piece : pieces) {
      unsafe = Math.max(unsafe, piece.unsafe());
      piece.categories().forEach((category, score) -> categories.merge(category, score, Math::max));
    }
    return new ContentScores(unsafe, categories);
  }

  @Override
  public Map<String, String> versions() {
    Map<String, String> versions = new LinkedHashMap<>(scorer.versions());
    versions.put(NAME, VERSION);
    return versions;
  }

  /** The scorer it wraps. */
  public ContentScorer wrapped() {
    return scorer;
  }

  @Override
  public void close() {
    scorer.close();
  }
}
