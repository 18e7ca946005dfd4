package io.genguard.moderation.scoring;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a tiny but real ONNX text classifier, so that the "bring your own Hugging Face classifier"
 * path runs end to end offline: inputs {@code input_ids} and {@code attention_mask} [batch, tokens]
 * (int64), output {@code logits} [batch, 2] = x * [-1, 1] + [0.5, -0.5] with x = 0.001 * the mean
 * token id over the unmasked tokens. The protobuf is encoded by hand (ONNX IR 7, opset 11), with
 * the all-MiniLM-L6-v2 tokenizer and a config.json naming the labels. Public for the tests of the
 * commands and the job that load it.
 */
public final class TinyOnnxClassifier {
  static final double SCALE = 0.001;

  /** A config.json with two labels, {@code neutral} and {@code toxic} (the second logit). */
  public static final String CONFIG =
      "{\"architectures\": [\"TinyClassifier\"], \"id2label\": {\"0\": \"neutral\", \"1\":"
          + " \"toxic\"}, \"label2id\": {\"neutral\": 0, \"toxic\": 1}}";

  private TinyOnnxClassifier() {}

  /** Expected logits for a window of token ids. */
  static double[] logits(long[] ids) {
    double sum = 0;
    for (long id : ids) {
      sum += id;
    }
    double x = SCALE * sum / ids.length;
    return new double[] {-x + 0.5, x - 0.5};
  }

  public static Path write(Path folder, String configJson) throws IOException {
    return write(folder, configJson, false);
  }

  /**
   * @param externalWeights keep the weights tensor in {@code weights.bin} beside the model (ONNX
   *     external data, as exports over 2 GB do), not inside {@code model.onnx}
   * @param extraInputs more graph inputs (int64 [batch, tokens]) the graph does not use
   */
  static Path write(Path folder, String configJson, boolean externalWeights, String... extraInputs)
      throws IOException {
    Files.createDirectories(folder);
    Files.write(folder.resolve("model.onnx"), model(externalWeights, extraInputs));
    if (externalWeights) {
      Files.write(folder.resolve("weights.bin"), floats(-1f, 1f));
    }
    try (InputStream in =
        TinyOnnxClassifier.class.getResourceAsStream(OnnxTextModel.MINILM_TOKENIZER)) {
      Files.copy(in, folder.resolve("tokenizer.json"));
    }
    Files.writeString(folder.resolve("config.json"), configJson);
    return folder;
  }

  static byte[] model() throws IOException {
    return model(false);
  }

  static byte[] model(boolean externalWeights, String... extraInputs) throws IOException {
    Proto graph =
        new Proto()
            .message(
                1,
                node(
                    "Cast",
                    new String[] {"attention_mask"},
                    new String[] {"mask_f"},
                    attributeInt("to", 1)))
            .message(
                1,
                node(
                    "Cast",
                    new String[] {"input_ids"},
                    new String[] {"ids_f"},
                    attributeInt("to", 1)))
            .message(1, node("Mul", new String[] {"ids_f", "mask_f"}, new String[] {"masked"}))
            .message(
                1,
                node(
                    "ReduceSum",
                    new String[] {"masked"},
                    new String[] {"total"},
                    attributeInts("axes", 1),
                    attributeInt("keepdims", 1)))
            .message(
                1,
                node(
                    "ReduceSum",
                    new String[] {"mask_f"},
                    new String[] {"count"},
                    attributeInts("axes", 1),
                    attributeInt("keepdims", 1)))
            .message(1, node("Div", new String[] {"total", "count"}, new String[] {"mean"}))
            .message(1, node("Mul", new String[] {"mean", "scale"}, new String[] {"x"}))
            .message(1, node("MatMul", new String[] {"x", "weights"}, new String[] {"xw"}))
            .message(1, node("Add", new String[] {"xw", "bias"}, new String[] {"logits"}))
            .string(2, "tiny-classifier")
            .message(5, floatTensor("scale", new long[] {1}, (float) SCALE))
            .message(
                5,
                externalWeights
                    ? externalTensor("weights", new long[] {1, 2}, "weights.bin", 8)
                    : floatTensor("weights", new long[] {1, 2}, -1f, 1f))
            .message(5, floatTensor("bias", new long[] {2}, 0.5f, -0.5f))
            .message(11, valueInfo("input_ids", 7, "batch", "tokens"))
            .message(11, valueInfo("attention_mask", 7, "batch", "tokens"))
            .message(12, valueInfo("logits", 1, "batch", 2L));
    for (String input : extraInputs) {
      graph.message(11, valueInfo(input, 7, "batch", "tokens"));
    }
    return new Proto()
        .varint(1, 7) // ir_version
        .string(2, "genguard-test")
        .message(7, graph)
        .message(
            8, new Proto().string(1, "").varint(2, 11)) // opset_import: default domain, opset 11
        .bytes();
  }

  private static Proto node(String op, String[] inputs, String[] outputs, Proto... attributes) {
    Proto node = new Proto();
    for (String input : inputs) {
      node.string(1, input);
    }
    for (String output : outputs) {
      node.string(2, output);
    }
    node.string(3, op + "_" + outputs[0]).string(4, op);
    for (Proto attribute : attributes) {
      node.message(5, attribute);
    }
    return node;
  }

  private static Proto attributeInt(String name, long value) {
    return new Proto().string(1, name).varint(3, value).varint(20, 2); // type INT
  }

  private static Proto attributeInts(String name, long... values) {
    Proto attribute = new Proto().string(1, name);
    for (long value : values) {
      attribute.varint(8, value);
    }
    return attribute.varint(20, 7); // type INTS
  }

  private static Proto floatTensor(String name, long[] dims, float... values) {
    Proto tensor = new Proto();
    for (long dim : dims) {
      tensor.varint(1, dim);
    }
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return tensor.varint(2, 1).string(8, name).rawBytes(9, raw.array()); // FLOAT, raw_data
  }

  /** A float tensor whose data is in a file beside the model (data_location EXTERNAL). */
  private static Proto externalTensor(String name, long[] dims, String location, int length) {
    Proto tensor = new Proto();
    for (long dim : dims) {
      tensor.varint(1, dim);
    }
    return tensor
        .varint(2, 1)
        .string(8, name)
        .message(13, new Proto().string(1, "location").string(2, location))
        .message(13, new Proto().string(1, "offset").string(2, "0"))
        .message(13, new Proto().string(1, "length").string(2, String.valueOf(length)))
        .varint(14, 1);
  }

  static byte[] floats(float... values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return raw.array();
  }

  private static Proto valueInfo(String name, int elementType, Object... dims) {
    Proto shape = new Proto();
    for (Object dim : dims) {
      shape.message(
          1,
          dim instanceof String s ? new Proto().string(2, s) : new Proto().varint(1, (Long) dim));
    }
    Proto tensorType = new Proto().varint(1, elementType).message(2, shape);
    return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
  }

  /** Minimal protobuf writer: varint and length-delimited fields. */
  static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long value) {
      writeVarint(((long) field << 3));
      writeVarint(value);
      return this;
    }

    Proto string(int field, String value) {
      return rawBytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto message) {
      return rawBytes(field, message.bytes());
    }

    Proto rawBytes(int field, byte[] value) {
      writeVarint(((long) field << 3) | 2);
      writeVarint(value.length);
      out.writeBytes(value);
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }

    private void writeVarint(long value) {
      while ((value & ~0x7FL) != 0) {
        out.write((int) ((value & 0x7F) | 0x80));
        value >>>= 7;
      }
      out.write((int) value);
    }
  }
}
