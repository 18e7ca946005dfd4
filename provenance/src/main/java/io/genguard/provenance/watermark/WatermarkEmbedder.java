package io.genguard.provenance.watermark;

/**
 * Embeds the watermark at sampling time: adds delta to the logits of the green tokens of the
 * current context (Kirchenbauer et al. 2023, Algorithm 2, "soft" red list). Works on any model's
 * logits given the watermark token id of every logit index. Not thread-safe; one per sampling
 * thread.
 */
public final class WatermarkEmbedder {
  private final GreenList greenList;

  public WatermarkEmbedder(WatermarkKey key, WatermarkParameters parameters) {
    this.greenList = new GreenList(key, parameters);
  }

  public String keyId() {
    return greenList.keyId();
  }

  public WatermarkParameters parameters() {
    return greenList.parameters();
  }

  /**
   * Adds delta to every green logit.
   *
   * @param logits the model's next-token logits over its vocabulary, changed in place
   * @param vocabularyTokenIds the watermark token id of each logit index ({@code
   *     WordTokenizer.tokenId} of the entry's text), or null when indexes are the ids themselves
   * @param context watermark token ids of everything before the next token (prompt included); at
   *     least h of them
   * @param contextLength how many entries of {@code context} are valid
   * @return how many tokens were green
   */
  public int bias(float[] logits, int[] vocabularyTokenIds, int[] context, int contextLength) {
    if (vocabularyTokenIds != null && vocabularyTokenIds.length != logits.length) {
      throw new IllegalArgumentException(
          "Vocabulary has "
              + vocabularyTokenIds.length
              + " token ids but the model gave "
              + logits.length
              + " logits");
    }
    GreenList.ContextSeed seed = greenList.seed(context, contextLength);
    float delta = (float) greenList.parameters().delta();
    int green = 0;
    for (int i = 0; i < logits.length; i++) {
      int tokenId = vocabularyTokenIds == null ? i : vocabularyTokenIds[i];
      if (seed.isGreen(tokenId)) {
        logits[i] += delta;
        green++;
      }
    }
    return green;
  }
}
