package io.genguard.generator.djl;

/** File names of a DJL backend model directory. */
public final class DjlModelDirectory {
  /**
   * The TorchScript export: forward(input_ids int64 [batch, time]) returns logits [batch, time, V].
   */
  public static final String MODEL_FILE = "model.pt";

  /** One vocabulary entry per line; line n (from 0) is token id n. */
  public static final String VOCABULARY_FILE = "vocab.txt";

  /**
   * Optional: name, version, eos (the entry that ends a text), unknown (the unknown-word entry).
   */
  public static final String PROPERTIES_FILE = "genguard-model.properties";

  private DjlModelDirectory() {}
}
