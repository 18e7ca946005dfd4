package io.genguard.generator.djl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a small causal language model as a TorchScript archive, without Python: nothing can be
 * downloaded here, and DJL has no API to script or trace a model, so tests and the benchmark build
 * their model with this class and load it through the same DJL path as any user's export.
 *
 * <p>The model, for input ids x of shape [batch, time]:
 *
 * <pre>
 *   h      = embedding[x]                                     [batch, time, d]
 *   hidden = tanh(h @ selfWeight + cumsum(h, time) @ contextWeight)
 *   logits = hidden @ projection                              [batch, time, vocabulary]
 * </pre>
 *
 * Position t sees only tokens up to t (the prefix sum), so it is causal like GPT-2.
 *
 * <p>Archive layout (the format {@code torch.jit.save} writes, file format version 3): a zip whose
 * entries share one top folder, holding {@code version}, {@code code/__torch__.py} (the module's
 * TorchScript source, compiled by the loader), {@code data.pkl} (the module object, pickle protocol
 * 2, tensors as persistent ids of {@code torch._utils._rebuild_tensor_v2}), {@code constants.pkl}
 * (an empty tuple) and {@code data/N} (little-endian float32 storages). Format reference: PyTorch's
 * {@code caffe2/serialize/inline_container.cc} and {@code
 * torch/csrc/jit/serialization/unpickler.cpp}.
 */
public final class TorchScriptLanguageModelWriter {
  private static final String FOLDER = "genguard_lm";

  private static final String SOURCE =
      String.join(
          "\n",
          "class CausalLm(Module):",
          "  __parameters__ = [\"embedding\", \"self_weight\", \"context_weight\", \"projection\","
              + " ]",
          "  __buffers__ = []",
          "  embedding : Tensor",
          "  self_weight : Tensor",
          "  context_weight : Tensor",
          "  projection : Tensor",
          "  training : bool",
          "  def forward(self: __torch__.CausalLm,",
          "    input_ids: Tensor) -> Tensor:",
          "    h = torch.embedding(self.embedding, input_ids)",
          "    context = torch.cumsum(h, 1)",
          "    mixed = torch.add(torch.matmul(h, self.self_weight), torch.matmul(context,"
              + " self.context_weight))",
          "    hidden = torch.tanh(mixed)",
          "    return torch.matmul(hidden, self.projection)",
          "");

  private TorchScriptLanguageModelWriter() {}

  /** Weights of the model; matrices are row-major. */
  public record Weights(
      int vocabulary,
      int dimension,
      float[] embedding,
      float[] selfWeight,
      float[] contextWeight,
      float[] projection) {
    public Weights {
      check(embedding, vocabulary * dimension, "embedding");
      check(selfWeight, dimension * dimension, "selfWeight");
      check(contextWeight, dimension * dimension, "contextWeight");
      check(projection, dimension * vocabulary, "projection");
    }

    private static void check(float[] values, int expected, String name) {
      if (values.length != expected) {
        throw new IllegalArgumentException(
            name + " has " + values.length + " values, expected " + expected);
      }
    }
  }

  /** Writes {@code model.pt} and {@code vocab.txt} into {@code directory}. */
  public static void writeModelDirectory(Path directory, Weights weights, List<String> vocabulary)
      throws IOException {
    if (vocabulary.size() != weights.vocabulary()) {
      throw new IllegalArgumentException(
          "vocabulary has " + vocabulary.size() + " entries, the weights " + weights.vocabulary());
    }
    Files.createDirectories(directory);
    try (OutputStream out =
        Files.newOutputStream(directory.resolve(DjlModelDirectory.MODEL_FILE))) {
      write(weights, out);
    }
    Files.write(
        directory.resolve(DjlModelDirectory.VOCABULARY_FILE), vocabulary, StandardCharsets.UTF_8);
  }

  public static void write(Weights weights, OutputStream out) throws IOException {
    int v = weights.vocabulary();
    int d = weights.dimension();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      stored(zip, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
      stored(zip, "code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
      Pickle data = new Pickle();
      data.global("__torch__", "CausalLm")
          .emptyTuple()
          .op(0x81) // NEWOBJ
          .op('}')
          .op('('); // EMPTY_DICT, MARK
      data.string("embedding").tensor("0", v, d);
      data.string("self_weight").tensor("1", d, d);
      data.string("context_weight").tensor("2", d, d);
      data.string("projection").tensor("3", d, v);
      data.string("training").op(0x89); // NEWFALSE: eval mode
      data.op('u').op('b').op('.'); // SETITEMS, BUILD, STOP
      stored(zip, "data.pkl", data.bytes());
      stored(zip, "constants.pkl", new Pickle().emptyTuple().op('.').bytes());
      stored(zip, "data/0", floats(weights.embedding()));
      stored(zip, "data/1", floats(weights.selfWeight()));
      stored(zip, "data/2", floats(weights.contextWeight()));
      stored(zip, "data/3", floats(weights.projection()));
    }
  }

  private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    ZipEntry entry = new ZipEntry(FOLDER + "/" + name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(bytes.length);
    entry.setCompressedSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    entry.setCrc(crc.getValue());
    zip.putNextEntry(entry);
    zip.write(bytes);
    zip.closeEntry();
  }

  private static byte[] floats(float[] values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      buffer.putFloat(value);
    }
    return buffer.array();
  }

  /** The pickle opcodes TorchScript's unpickler reads (protocol 2). */
  private static final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle() {
      out.write(0x80); // PROTO
      out.write(2);
    }

    Pickle op(int opcode) {
      out.write(opcode);
      return this;
    }

    Pickle global(String module, String name) {
      out.write('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      return this;
    }

    Pickle emptyTuple() {
      return op(')');
    }

    Pickle string(String value) {
      byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
      out.write('X'); // BINUNICODE
      out.writeBytes(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length).array());
      out.writeBytes(bytes);
      return this;
    }

    Pickle integer(int value) {
      out.write('J'); // BININT, 4-byte little-endian
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
      return this;
    }

    /** A contiguous float32 matrix whose storage is the archive record data/{key}. */
    Pickle tensor(String key, int rows, int columns) {
      global("torch._utils", "_rebuild_tensor_v2");
      op('('); // MARK: the argument tuple
      op('('); // MARK: the persistent id
      string("storage")
          .global("torch", "FloatStorage")
          .string(key)
          .string("cpu")
          .integer(rows * columns);
      op('t'); // TUPLE
      op('Q'); // BINPERSID
      integer(0); // storage offset
      op('(').integer(rows).integer(columns).op('t'); // size
      op('(').integer(columns).integer(1).op('t'); // stride
      op(0x89); // requires_grad = False
      global("collections", "OrderedDict").emptyTuple().op('R'); // backward hooks
      op('t'); // TUPLE
      op('R'); // REDUCE
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
