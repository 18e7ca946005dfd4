package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores each text whole and, when it has several sentences, each sentence on its own; every score
 * is the highest of the whole text's and {@value #PIECE_WEIGHT} times each sentence's ("any part
 * unsafe"). The models pack short sentences together into one window (MiniLM) or chunk (n-gram), so
 * a harmful sentence next to one long benign sentence was scored as part of their mix and could
 * come out low: "You worthless piece of garbage, everyone hates you and nobody wants you here." is
 * held alone and was released with a sentence about a budget meeting after it. On its own, a
 * sentence is scored as the models were trained to score short texts.
 *
 * <p>Version 1.1.0 (2026-12-04) scores pieces rather than bare sentences, and weighs them: a list
 * header ending in a colon ("Here is what you should do:", "**Update Your Phone:**") is scored with
 * the sentence after it, and a piece without a letter or digit joins the next one; each piece's
 * scores count {@value #PIECE_WEIGHT} times. Version 1.0.0 scored every sentence at full weight,
 * and the highest of up to 65 scores crosses a threshold more often than one score does: on the
 * validation split it added 9 unsafe texts held and 36 benign ones flagged, mostly list headers and
 * fragments of assistant answers read alone. The weight and the joining were chosen on the
 * validation split (the fewest benign flags keeping 8 of those 9), which is not held out: the
 * shipped heads are trained on it too (cross-fitting pools train and validation, and the final
 * heads fit all folds). The version was then kept only because it met a bar on the test split, set
 * before the test split was measured (benign flags down by at least 5, unsafe ones by at most 6;
 * moderation-stream/QUALITY.md, "How to read"), so the test split took part in this choice.
 *
 * <p>Version 1.3.0 (2026-12-06) scores every piece of a text, where 1.1.0 scored only the first 64
 * alone: a harmful sentence after 64 benign ones was scored only inside the whole text's windows,
 * packed with benign sentences, the dilution the pieces are there to prevent. The work stays
 * bounded by the text's length: a model call costs about as much for a short piece as for a
 * sentence (nearly as much for three characters as for eighty), so in a text of more than {@value
 * #PIECES_AS_THEY_ARE} pieces, runs of pieces shorter than {@value #MIN_PIECE_CHARS} characters are
 * joined until they reach it, and longer pieces stay alone ({@link #joinShort}): such a text has at
 * most two pieces for every {@value #MIN_PIECE_CHARS} characters, and a short piece is read with
 * other short ones only. With every piece alone, a 20,000-character text of 5,000 three-character
 * sentences took 36-40 s to score; joined, 11-12 s, against 2-4 s for its whole text alone and 4-5
 * s for 240 sentences of 80 characters (one shared 2-core machine). Pieces are scored alone up to
 * {@value #MAX_PIECE_CHARS} characters, all of any text screening lets through ({@link
 * TextScreening#DEFAULT_MAX_CHARS}). Texts of up to {@value #PIECES_AS_THEY_ARE} pieces, every text
 * of the evaluation sets (at most 51), score as with 1.1.0. (1.2.0 named the affection clauses
 * tried in the twenty-first session and not kept.)
 *
 * <p>Costs one model call per piece more: about 2-3 times the model work for an ordinary
 * multi-sentence output.
 */
public final class SentenceMaxScorer implements ContentScorer {
  /** Version recorded in every verdict, beside the wrapped scorer's. */
  public static final String VERSION = "1.3.0";

  /** Recorded under this name in {@link #versions()}. */
  public static final String NAME = "sentence-max";

  /** Pieces of a text scored as they are; a text with more has its short pieces joined. */
  public static final int PIECES_AS_THEY_ARE = 64;

  /** In a text of more than {@link #PIECES_AS_THEY_ARE} pieces, the shortest piece scored. */
  public static final int MIN_PIECE_CHARS = 40;

  /**
   * Characters of one text's pieces scored on their own, at most (the first pieces'): those of the
   * longest text screening lets through, so that every piece of a screened text is.
   */
  public static final int MAX_PIECE_CHARS = TextScreening.DEFAULT_MAX_CHARS;

  /** What a piece's scores count for against the whole text's. */
  public static final double PIECE_WEIGHT = 0.9;

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
      List<String> own = pieces(text);
      if (own.size() > PIECES_AS_THEY_ARE) {
        own = joinShort(own);
      }
      if (own.size() > 1) {
        int chars = 0;
        for (String piece : own) {
          chars += piece.length();
          if (chars > MAX_PIECE_CHARS) {
            break;
          }
          pieces.add(piece);
        }
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

  /**
   * The text's sentences, each list header joined to the sentence after it and each piece without a
   * letter or digit to the next one; a header or such piece at the end stays a piece of its own.
   */
  public static List<String> pieces(String text) {
    List<String> pieces = new ArrayList<>();
    String pending = null;
    for (String sentence : Sentences.split(text)) {
      String piece = pending == null ? sentence : pending + " " + sentence;
      if (isHeader(sentence) || !hasWord(piece)) {
        pending = piece;
      } else {
        pieces.add(piece);
        pending = null;
      }
    }
    if (pending != null) {
      if (!pieces.isEmpty() && !hasWord(pending)) {
        pieces.set(pieces.size() - 1, pieces.get(pieces.size() - 1) + " " + pending);
      } else {
        pieces.add(pending);
      }
    }
    return pieces;
  }

  /**
   * The pieces with each run of pieces shorter than {@link #MIN_PIECE_CHARS} joined until it
   * reaches that length or a longer piece follows, which stays alone: a short piece is read with
   * short ones only, fewer than twice that many characters in all, and the text has at most two
   * pieces for every {@value #MIN_PIECE_CHARS} characters.
   */
  static List<String> joinShort(List<String> pieces) {
    List<String> joined = new ArrayList<>();
    StringBuilder pending = new StringBuilder();
    for (String piece : pieces) {
      if (piece.length() >= MIN_PIECE_CHARS) {
        // Alone, and never with a short piece, which would be read diluted by it.
        if (pending.length() > 0) {
          joined.add(pending.toString());
          pending.setLength(0);
        }
        joined.add(piece);
        continue;
      }
      if (pending.length() > 0) {
        pending.append(' ');
      }
      pending.append(piece);
      if (pending.length() >= MIN_PIECE_CHARS) {
        joined.add(pending.toString());
        pending.setLength(0);
      }
    }
    if (pending.length() > 0) {
      joined.add(pending.toString());
    }
    return joined;
  }

  /** Ends in a colon, perhaps inside Markdown emphasis or code ("**Steps:**"). */
  private static boolean isHeader(String sentence) {
    int end = sentence.length();
    while (end > 0 && "*_#`".indexOf(sentence.charAt(end - 1)) >= 0) {
      end--;
    }
    return end > 0 && sentence.charAt(end - 1) == ':';
  }

  private static boolean hasWord(String piece) {
    return piece.codePoints().anyMatch(Character::isLetterOrDigit);
  }

  /** The whole text's scores (first) against its weighted pieces', the highest of each. */
  private static ContentScores highest(List<ContentScores> scored) {
    if (scored.size() == 1) {
      return scored.get(0);
    }
    ContentScores whole = scored.get(0);
    double unsafe = whole.unsafe();
    Map<Category, Double> categories = new EnumMap<>(Category.class);
    categories.putAll(whole.categories());
    for (ContentScores piece : scored.subList(1, scored.size())) {
      unsafe = Math.max(unsafe, PIECE_WEIGHT * piece.unsafe());
      piece
          .categories()
          .forEach(
              (category, score) -> categories.merge(category, PIECE_WEIGHT * score, Math::max));
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
