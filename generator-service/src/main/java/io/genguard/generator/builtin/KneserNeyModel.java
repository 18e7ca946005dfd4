package io.genguard.generator.builtin;

import io.genguard.provenance.text.WordTokenizer;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * An interpolated Kneser-Ney word n-gram language model (Kneser and Ney 1995; interpolated form and
 * per-order absolute discounts D = n1 / (n1 + 2 n2) as in Chen and Goodman 1998, section 3):
 *
 * <pre>
 *   P_n(w | ctx) = max(c_n(ctx w) - D_n, 0) / c_n(ctx .) + D_n * N1+(ctx .) / c_n(ctx .) * P_{n-1}(w | ctx')
 * </pre>
 *
 * where c_N are raw counts at the highest order, c_n for n &lt; N are continuation counts (the
 * number of distinct words seen before the n-gram), ctx' drops the oldest word of ctx, and the
 * unigram level interpolates with the uniform distribution. Words are {@link WordTokenizer} tokens;
 * id 0 is the unknown word (corpus words seen fewer than a minimum number of times), id 1 pads the
 * start of a document. Immutable and thread-safe once built.
 */
public final class KneserNeyModel {
  public static final int UNKNOWN = 0;
  public static final int START = 1;
  static final String UNKNOWN_WORD = "<unk>";
  static final String START_WORD = "<s>";

  private static final int MAGIC = 0x4B4E4C4D; // "KNLM"

  /** 2: a CRC-32C of everything before it ends the file. */
  private static final int FORMAT_VERSION = 2;

  /**
   * Arrays are read in pieces of this many entries, growing as their data arrives: a corrupt length
   * then costs at most about twice the bytes the file really holds, never the length it claims.
   */
  private static final int READ_CHUNK = 1 << 16;

  /** Ids are packed 16 bits each into a long key of up to four ids. */
  static final int MAX_VOCABULARY = 65_535;

  private final int order;
  private final String[] words;
  private final int[] watermarkIds;
  private final Map<String, Integer> index;
  private final double[] unigram;
  private final Level[] levels; // levels[n] for n = 2..order

  private KneserNeyModel(int order, String[] words, double[] unigram, Level[] levels) {
    this.order = order;
    this.words = words;
    this.unigram = unigram;
    this.levels = levels;
    this.index = new HashMap<>(words.length * 2);
    this.watermarkIds = new int[words.length];
    for (int i = 0; i < words.length; i++) {
      index.put(words[i], i);
      watermarkIds[i] = WordTokenizer.tokenId(words[i]);
    }
  }

  /** Counts of one order, grouped by context (the first n-1 ids), contexts sorted by key. */
  private record Level(
      double discount, long[] contexts, int[] start, int[] total, int[] next, int[] count) {}

  public int order() {
    return order;
  }

  public int vocabularySize() {
    return words.length;
  }

  public String word(int id) {
    return words[id];
  }

  /** The id of a normalised token, or {@link #UNKNOWN}. */
  public int id(String token) {
    return index.getOrDefault(token, UNKNOWN);
  }

  /** {@link WordTokenizer#tokenId} of every vocabulary entry, indexed by model id. */
  public int[] watermarkIds() {
    return watermarkIds.clone();
  }

  int[] watermarkIdsView() {
    return watermarkIds;
  }

  /**
   * Fills {@code probabilities} (length = vocabulary size) with P(next | history), using the last
   * order-1 ids of {@code history[0..length)}; the history must start with order-1 {@link #START}
   * pads.
   */
  public void distribution(int[] history, int length, double[] probabilities) {
    System.arraycopy(unigram, 0, probabilities, 0, unigram.length);
    for (int n = 2; n <= order; n++) {
      Level level = levels[n];
      long key = pack(history, length - (n - 1), n - 1);
      int context = Arrays.binarySearch(level.contexts, key);
      if (context < 0) {
        // A longer context containing this one was never seen either.
        break;
      }
      int from = level.start[context];
      int to = level.start[context + 1];
      double total = level.total[context];
      double backoff = level.discount * (to - from) / total;
      for (int w = 0; w < probabilities.length; w++) {
        probabilities[w] *= backoff;
      }
      for (int i = from; i < to; i++) {
        probabilities[level.next[i]] += Math.max(level.count[i] - level.discount, 0.0) / total;
      }
    }
  }

  /** Trains on documents: each is tokenized, mapped to ids and padded with start symbols. */
  public static KneserNeyModel train(List<String> documents, int order, int minimumCount) {
    if (order < 2 || order > 4) {
      throw new IllegalArgumentException("n-gram order must be 2, 3 or 4, got " + order);
    }
    List<List<String>> tokenized = new ArrayList<>(documents.size());
    Map<String, Integer> frequency = new HashMap<>();
    for (String document : documents) {
      List<String> tokens = WordTokenizer.tokenize(document);
      tokenized.add(tokens);
      for (String token : tokens) {
        frequency.merge(token, 1, Integer::sum);
      }
    }
    List<String> kept =
        frequency.entrySet().stream()
            .filter(entry -> entry.getValue() >= minimumCount)
            .sorted(
                Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue)
                    .reversed()
                    .thenComparing(Map.Entry::getKey))
            .limit(MAX_VOCABULARY - 2L)
            .map(Map.Entry::getKey)
            .toList();
    String[] words = new String[kept.size() + 2];
    words[UNKNOWN] = UNKNOWN_WORD;
    words[START] = START_WORD;
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < kept.size(); i++) {
      words[i + 2] = kept.get(i);
      ids.put(kept.get(i), i + 2);
    }

    // Highest order: raw counts of every n-gram, documents padded with order-1 start symbols.
    Map<Long, Integer> highest = new HashMap<>();
    for (List<String> tokens : tokenized) {
      int[] sequence = new int[tokens.size() + order - 1];
      Arrays.fill(sequence, 0, order - 1, START);
      for (int i = 0; i < tokens.size(); i++) {
        sequence[order - 1 + i] = ids.getOrDefault(tokens.get(i), UNKNOWN);
      }
      for (int end = order; end <= sequence.length; end++) {
        highest.merge(pack(sequence, end - order, order), 1, Integer::sum);
      }
    }

    Level[] levels = new Level[order + 1];
    Map<Long, Integer> counts = highest;
    for (int n = order; n >= 2; n--) {
      levels[n] = group(counts, n);
      counts = continuationCounts(counts, n);
    }
    double[] unigram = unigramLevel(counts, words.length);
    return new KneserNeyModel(order, words, unigram, levels);
  }

  /** N1+(. ngram): for each (n-1)-gram, how many distinct words precede it among n-gram types. */
  private static Map<Long, Integer> continuationCounts(Map<Long, Integer> ngrams, int n) {
    Map<Long, Integer> continuation = new HashMap<>();
    long mask = (1L << (16 * (n - 1))) - 1;
    for (Long key : ngrams.keySet()) {
      continuation.merge(key & mask, 1, Integer::sum);
    }
    return continuation;
  }

  private static Level group(Map<Long, Integer> ngrams, int n) {
    long[] keys = ngrams.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
    int n1 = 0;
    int n2 = 0;
    for (int c : ngrams.values()) {
      if (c == 1) {
        n1++;
      } else if (c == 2) {
        n2++;
      }
    }
    double discount = n1 + 2 * n2 == 0 ? 0.5 : (double) n1 / (n1 + 2.0 * n2);
    // Sorted by the full key, n-grams of one context are contiguous (the context is the high bits).
    List<Long> contexts = new ArrayList<>();
    List<Integer> starts = new ArrayList<>();
    int[] next = new int[keys.length];
    int[] count = new int[keys.length];
    long previous = -1;
    for (int i = 0; i < keys.length; i++) {
      long context = keys[i] >>> 16;
      if (context != previous) {
        contexts.add(context);
        starts.add(i);
        previous = context;
      }
      next[i] = (int) (keys[i] & 0xFFFF);
      count[i] = ngrams.get(keys[i]);
    }
    starts.add(keys.length);
    int[] start = starts.stream().mapToInt(Integer::intValue).toArray();
    int[] total = new int[contexts.size()];
    for (int c = 0; c < total.length; c++) {
      for (int i = start[c]; i < start[c + 1]; i++) {
        total[c] += count[i];
      }
    }
    return new Level(
        discount,
        contexts.stream().mapToLong(Long::longValue).toArray(),
        start,
        total,
        next,
        count);
  }

  private static double[] unigramLevel(Map<Long, Integer> continuation, int vocabulary) {
    int n1 = 0;
    int n2 = 0;
    long total = 0;
    for (int c : continuation.values()) {
      total += c;
      if (c == 1) {
        n1++;
      } else if (c == 2) {
        n2++;
      }
    }
    double discount = n1 + 2 * n2 == 0 ? 0.5 : (double) n1 / (n1 + 2.0 * n2);
    double uniformShare = discount * continuation.size() / total / vocabulary;
    double[] unigram = new double[vocabulary];
    Arrays.fill(unigram, uniformShare);
    for (Map.Entry<Long, Integer> entry : continuation.entrySet()) {
      unigram[(int) (long) entry.getKey()] += Math.max(entry.getValue() - discount, 0.0) / total;
    }
    return unigram;
  }

  /** Packs {@code count} ids starting at {@code from}, oldest in the highest bits. */
  static long pack(int[] ids, int from, int count) {
    long key = 0;
    for (int i = from; i < from + count; i++) {
      key = (key << 16) | ids[i];
    }
    return key;
  }

  /** Writes the model in this class's binary format, a CRC-32C of its bytes last. */
  public void write(OutputStream out) throws IOException {
    DataOutputStream file = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
    CheckedOutputStream checked = new CheckedOutputStream(file, new CRC32C());
    DataOutputStream data = new DataOutputStream(checked);
    data.writeInt(MAGIC);
    data.writeInt(FORMAT_VERSION);
    data.writeInt(order);
    data.writeInt(words.length);
    for (String word : words) {
      data.writeUTF(word);
    }
    for (double p : unigram) {
      data.writeDouble(p);
    }
    for (int n = 2; n <= order; n++) {
      Level level = levels[n];
      data.writeDouble(level.discount);
      writeLongs(data, level.contexts);
      writeInts(data, level.start);
      writeInts(data, level.total);
      writeInts(data, level.next);
      writeInts(data, level.count);
    }
    file.writeLong(checked.getChecksum().getValue());
    file.flush();
  }

  /**
   * Reads a model {@link #write} wrote. Whatever the bytes, it returns a model whose every lookup
   * stays in bounds or throws an {@link IOException} saying what is wrong: lengths are checked
   * before anything is allocated for them (or arrays grow only as their data arrives), the
   * structure is checked, and the checksum last.
   */
  public static KneserNeyModel read(InputStream in) throws IOException {
    CheckedInputStream checked =
        new CheckedInputStream(new BufferedInputStream(in, 1 << 16), new CRC32C());
    DataInputStream data = new DataInputStream(checked);
    int magic = data.readInt();
    int format = data.readInt();
    if (magic != MAGIC || format != FORMAT_VERSION) {
      throw new IOException(
          "Not a GenGuard Kneser-Ney model file of format "
              + FORMAT_VERSION
              + " (magic "
              + Integer.toHexString(magic)
              + ", format "
              + format
              + ")");
    }
    int order = data.readInt();
    if (order < 2 || order > 4) {
      throw new IOException("model file declares n-gram order " + order + "; expected 2, 3 or 4");
    }
    int vocabulary = data.readInt();
    if (vocabulary < 2 || vocabulary > MAX_VOCABULARY) {
      throw new IOException(
          "model file declares " + vocabulary + " words; expected between 2 and " + MAX_VOCABULARY);
    }
    String[] words = new String[vocabulary];
    for (int i = 0; i < words.length; i++) {
      words[i] = data.readUTF();
    }
    double[] unigram = new double[words.length];
    for (int i = 0; i < unigram.length; i++) {
      unigram[i] = data.readDouble();
    }
    Level[] levels = new Level[order + 1];
    for (int n = 2; n <= order; n++) {
      Level level =
          new Level(
              data.readDouble(),
              readLongs(data),
              readInts(data),
              readInts(data),
              readInts(data),
              readInts(data));
      checkLevel(level, n, vocabulary);
      levels[n] = level;
    }
    long computed = checked.getChecksum().getValue();
    long stored = data.readLong();
    if (stored != computed) {
      throw new IOException(
          "model file checksum mismatch (CRC-32C "
              + Long.toHexString(computed)
              + ", stored "
              + Long.toHexString(stored)
              + ")");
    }
    return new KneserNeyModel(order, words, unigram, levels);
  }

  /** Checks what {@link #distribution} relies on: contexts sorted, slices and ids in range. */
  private static void checkLevel(Level level, int n, int vocabulary) throws IOException {
    int contexts = level.contexts.length;
    int ngrams = level.next.length;
    if (level.start.length != contexts + 1
        || level.total.length != contexts
        || level.count.length != ngrams) {
      throw new IOException("model file has inconsistent array lengths at order " + n);
    }
    if (level.start[0] != 0 || level.start[contexts] != ngrams) {
      throw new IOException("model file's n-gram slices do not cover order " + n);
    }
    for (int c = 0; c < contexts; c++) {
      if (level.start[c] >= level.start[c + 1]
          || (c > 0 && level.contexts[c - 1] >= level.contexts[c])
          || level.total[c] <= 0) {
        throw new IOException("model file has a malformed context " + c + " at order " + n);
      }
    }
    for (int next : level.next) {
      if (next < 0 || next >= vocabulary) {
        throw new IOException("model file names word " + next + " outside its vocabulary");
      }
    }
  }

  private static void writeInts(DataOutputStream out, int[] values) throws IOException {
    out.writeInt(values.length);
    for (int value : values) {
      out.writeInt(value);
    }
  }

  private static void writeLongs(DataOutputStream out, long[] values) throws IOException {
    out.writeInt(values.length);
    for (long value : values) {
      out.writeLong(value);
    }
  }

  private static int[] readInts(DataInputStream in) throws IOException {
    int length = readLength(in);
    int[] values = new int[Math.min(length, READ_CHUNK)];
    for (int i = 0; i < length; i++) {
      if (i == values.length) {
        values = Arrays.copyOf(values, (int) Math.min(length, 2L * values.length));
      }
      values[i] = in.readInt();
    }
    return values;
  }

  private static long[] readLongs(DataInputStream in) throws IOException {
    int length = readLength(in);
    long[] values = new long[Math.min(length, READ_CHUNK)];
    for (int i = 0; i < length; i++) {
      if (i == values.length) {
        values = Arrays.copyOf(values, (int) Math.min(length, 2L * values.length));
      }
      values[i] = in.readLong();
    }
    return values;
  }

  private static int readLength(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      throw new IOException("model file declares an array of " + length + " entries");
    }
    return length;
  }
}
