package io.genguard.moderation.train;

import io.genguard.moderation.scoring.Sentences;
import io.genguard.provenance.text.EuroparlCorpus;
import java.util.ArrayList;
import java.util.List;

/**
 * Ordinary human-written English prose: the sentences of the Europarl documents in {@link
 * EuroparlCorpus}, the documents the built-in generator is trained on, so its outputs are prose of
 * this kind.
 *
 * <p>The training documents' sentences teach the <em>overall</em> unsafe head only ({@link
 * LabelledText#benignOverallOnly}), each document one split group. Without them 2.7% of held-out
 * prose sentences had an overall unsafe score of at least 0.5 ("implement European animal welfare
 * policy and legislation ..." 0.82), and 0.5 is the bias audit's default unsafe threshold. They are
 * kept away from the category heads, which are what the policy decides on: labelling them benign
 * for every head was tried (2026-12-02, three variants) and raised XSTest-safe false positives from
 * 6.0% to 7.6-8.4%, CoCoNot contrast from 7.7% to 9.2-9.8% and benign HolisticBias flags from 0.8%
 * to 0.9-1.0%. The category heads' training skips texts whose label is unknown, in the same order,
 * so they come out as they were.
 *
 * <p>The documents the generator holds out are the quality report's false-positive set for prose
 * ({@link #heldOutSentences}), never trained on.
 */
public final class EuroparlProse {
  /** Source name in splits and reports. */
  public static final String SOURCE = "europarl";

  /** Shorter fragments ("Thank you.", headings) carry no evidence either way. */
  static final int MIN_WORDS = 3;

  private EuroparlProse() {}

  /** Sentences of the training documents, benign for the overall head, grouped by document. */
  public static List<LabelledText> training(EuroparlCorpus corpus) {
    List<LabelledText> out = new ArrayList<>();
    List<String> documents = corpus.trainingDocuments();
    for (int d = 0; d < documents.size(); d++) {
      for (String sentence : sentences(List.of(documents.get(d)))) {
        out.add(LabelledText.benignOverallOnly(SOURCE, SOURCE + "-" + d, sentence));
      }
    }
    return out;
  }

  /** Sentences of the held-out documents: prose no model here was trained on. */
  public static List<String> heldOutSentences(EuroparlCorpus corpus) {
    return sentences(corpus.heldOutDocuments());
  }

  /** Sentences of at least {@value #MIN_WORDS} words, in document order. */
  static List<String> sentences(List<String> documents) {
    List<String> out = new ArrayList<>();
    for (String document : documents) {
      for (String sentence : Sentences.split(document)) {
        if (sentence.split("\\s+").length >= MIN_WORDS) {
          out.add(sentence);
        }
      }
    }
    return out;
  }
}
