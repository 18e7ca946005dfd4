package io.genguard.moderation.train;

import io.genguard.moderation.scoring.Sentences;
import io.genguard.provenance.text.EuroparlCorpus;
import java.util.ArrayList;
import java.util.List;

/**
 * Ordinary human-written English prose for measuring false positives: the sentences of the Europarl
 * documents that the built-in generator holds out of its training ({@link
 * EuroparlCorpus#heldOutDocuments()}). The generator's outputs are prose of this kind, and the
 * overall unsafe score on it is what the bias audit counts as unsafe (at 0.5 by default).
 *
 * <p>Not trained on. Adding the sentences of the generator's training documents as benign training
 * texts was tried (2026-12-02, three variants: weight 1 and 0.35, with and without them as
 * stereotype negatives): held-out prose with an unsafe score of at least 0.5 fell from 2.7% to
 * 0.0-0.3%, but XSTest-safe false positives rose from 6.0% to 7.6-8.4%, CoCoNot contrast from 7.7%
 * to 9.2-9.8%, benign HolisticBias flags from 0.8% to 0.9-1.0% and macro AUPRC fell, while the
 * policy flagged held-out prose at 0.1% before and 0.0% after.
 */
public final class EuroparlProse {
  /** Shorter fragments ("Thank you.", headings) carry no evidence either way. */
  static final int MIN_WORDS = 3;

  private EuroparlProse() {}

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
