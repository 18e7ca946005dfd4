package io.genguard.generator.sampling;

import io.genguard.generator.backend.SamplingSettings;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws the next token from logits with temperature, top-k and top-p (nucleus, Holtzman et al.
 * 2020), in that order, from a seeded {@link SplittableRandom}: the same seed and the same logits
 * give the same tokens on every JVM (SplittableRandom's algorithm is specified). Not thread-safe;
 * one per generated sequence.
 */
public final class TokenSampler {
  /** Position bits of a nucleus sort key for vocabularies up to 2^20 entries. */
  private static final int MIN_POSITION_BITS = 20;

  private final double temperature;
  private final int topK;
  private final double topP;
  private final SplittableRandom random;

  private int[] candidates = new int[0];
  private double[] weights = new double[0];
  private long[] order = new long[0];

  public TokenSampler(SamplingSettings settings) {
    this.temperature = settings.temperature();
    this.topK = settings.topK();
    this.topP = settings.topP();
    this.random = new SplittableRandom(settings.seed());
  }

  /** Logits that describe no distribution: a NaN, or nothing but -infinity. */
  public static final class InvalidLogitsException extends IllegalArgumentException {
    InvalidLogitsException(String message) {
      super(message);
    }
  }

  /**
   * The index of the next token. Logits of -infinity are never drawn. Logits of +infinity, where
   * there are any, are the only ones drawn, with equal chances (the limit of the softmax as they
   * grow), top-k and top-p applying among them; greedy decoding takes the first.
   *
   * @throws InvalidLogitsException if a logit is NaN (a broken model; sampling around it would hide
   *     that) or none is above -infinity
   */
  public int next(float[] logits) {
    logits = onlyInfiniteIfAny(logits);
    int best = argmax(logits);
    if (temperature == 0.0) {
      return best;
    }
    double max = logits[best] / temperature;
    if (!Double.isFinite(max)) {
      // A temperature so small that a logit divided by it overflows: the weights would be NaN and
      // the draw would fall through to the last candidate. Its limit is greedy decoding.
      return best;
    }
    int count = selectCandidates(logits);
    double total = 0;
    for (int i = 0; i < count; i++) {
      double weight = Math.exp(logits[candidates[i]] / temperature - max);
      weights[i] = weight;
      total += weight;
    }
    if (topP < 1.0) {
      count = nucleus(count, total);
      total = 0;
      for (int i = 0; i < count; i++) {
        total += weights[i];
      }
    }
    double target = random.nextDouble() * total;
    for (int i = 0; i < count; i++) {
      target -= weights[i];
      if (target < 0) {
        return candidates[i];
      }
    }
    return candidates[count - 1];
  }

  /**
   * The logits themselves, or where some are +infinity, a copy with those at 0 and all others at
   * -infinity: the softmax of infinite logits is NaN, and sampling would silently take the last
   * candidate.
   */
  private static float[] onlyInfiniteIfAny(float[] logits) {
    boolean anyInfinite = false;
    for (int i = 0; i < logits.length; i++) {
      if (Float.isNaN(logits[i])) {
        throw new InvalidLogitsException(
            "the logit of token "
                + i
                + " of "
                + logits.length
                + " is NaN; the model's output is not a distribution");
      }
      anyInfinite |= logits[i] == Float.POSITIVE_INFINITY;
    }
    if (!anyInfinite) {
      return logits;
    }
    float[] limit = new float[logits.length];
    for (int i = 0; i < logits.length; i++) {
      limit[i] = logits[i] == Float.POSITIVE_INFINITY ? 0f : Float.NEGATIVE_INFINITY;
    }
    return limit;
  }

  /** Fills {@code candidates} with the finite logits (the top k of them if top-k is on). */
  private int selectCandidates(float[] logits) {
    ensureCapacity(logits.length);
    int count = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] != Float.NEGATIVE_INFINITY) {
        candidates[count++] = i;
      }
    }
    if (topK > 0 && topK < count) {
      keepTopK(logits, count);
      count = topK;
    }
    return count;
  }

  /**
   * Keeps the smallest prefix, by decreasing weight, whose mass reaches top-p of the total. Looks
   * at the heaviest 64 first and widens by 4x until the mass is reached, so peaked distributions do
   * not pay for sorting the whole vocabulary.
   */
  private int nucleus(int count, double total) {
    int positionBits = positionBits(count);
    for (int width = Math.min(64, count); ; width = Math.min(count, width * 4)) {
      int kept = heaviest(count, width, positionBits);
      double cumulative = 0;
      for (int i = 0; i < kept; i++) {
        cumulative += weights[positionOf(order[i], positionBits)];
        if (cumulative >= topP * total) {
          return keep(i + 1, positionBits);
        }
      }
      if (width == count) {
        return keep(kept, positionBits);
      }
    }
  }

  /**
   * How many low bits of a nucleus sort key carry the candidate's position: 20, as always, for up
   * to 2^20 candidates (so the same seed draws the same tokens as before), and as many as the
   * largest position needs beyond that (at most 31). Fewer bits would cut the position, and the
   * draw would return another token than the one weighed.
   */
  static int positionBits(int count) {
    return Math.max(MIN_POSITION_BITS, Integer.SIZE - Integer.numberOfLeadingZeros(count - 1));
  }

  /**
   * Puts the sort keys of the {@code width} heaviest weights into {@code order}, heaviest first.
   */
  private int heaviest(int count, int width, int positionBits) {
    long[] heap = order;
    int size = 0;
    long positionMask = (1L << positionBits) - 1;
    for (int i = 0; i < count; i++) {
      // Non-negative doubles sort like their bits; the low bits carry the position instead, which
      // only cuts the weight's least significant mantissa bits (ties then go to the later one).
      long key = (Double.doubleToLongBits(weights[i]) & ~positionMask) | i;
      if (size < width) {
        heap[size] = key;
        siftUp(heap, size++);
      } else if (key > heap[0]) {
        heap[0] = key;
        siftDown(heap, size);
      }
    }
    Arrays.sort(heap, 0, size);
    for (int i = 0, j = size - 1; i < j; i++, j--) {
      long swap = heap[i];
      heap[i] = heap[j];
      heap[j] = swap;
    }
    return size;
  }

  /** Keeps the first {@code kept} entries of {@code order} as the candidates. */
  private int keep(int kept, int positionBits) {
    int[] keptCandidates = new int[kept];
    double[] keptWeights = new double[kept];
    for (int i = 0; i < kept; i++) {
      int position = positionOf(order[i], positionBits);
      keptCandidates[i] = candidates[position];
      keptWeights[i] = weights[position];
    }
    System.arraycopy(keptCandidates, 0, candidates, 0, kept);
    System.arraycopy(keptWeights, 0, weights, 0, kept);
    return kept;
  }

  private static int positionOf(long key, int positionBits) {
    return (int) (key & ((1L << positionBits) - 1));
  }

  /**
   * Moves the {@code topK} largest logits to the front of {@code candidates}: a min-heap of size k
   * over sortable keys, O(V log k) instead of sorting the vocabulary. Ties keep the lower index.
   */
  private void keepTopK(float[] logits, int count) {
    long[] heap = order;
    int size = 0;
    for (int i = 0; i < count; i++) {
      long key = sortKey(logits[candidates[i]], candidates[i]);
      if (size < topK) {
        heap[size] = key;
        siftUp(heap, size++);
      } else if (key > heap[0]) {
        heap[0] = key;
        siftDown(heap, size);
      }
    }
    Arrays.sort(heap, 0, size);
    for (int i = 0; i < size; i++) {
      candidates[i] = (int) ~heap[size - 1 - i];
    }
  }

  /** Orders by logit, then by lower index (the index is stored complemented). */
  private static long sortKey(float logit, int index) {
    int bits = Float.floatToIntBits(logit);
    long sortable = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
    return (sortable << 32) | (~index & 0xFFFFFFFFL);
  }

  private static void siftUp(long[] heap, int position) {
    while (position > 0) {
      int parent = (position - 1) / 2;
      if (heap[parent] <= heap[position]) {
        return;
      }
      long swap = heap[parent];
      heap[parent] = heap[position];
      heap[position] = swap;
      position = parent;
    }
  }

  private static void siftDown(long[] heap, int size) {
    int position = 0;
    while (true) {
      int left = 2 * position + 1;
      if (left >= size) {
        return;
      }
      int smallest = left + 1 < size && heap[left + 1] < heap[left] ? left + 1 : left;
      if (heap[position] <= heap[smallest]) {
        return;
      }
      long swap = heap[position];
      heap[position] = heap[smallest];
      heap[smallest] = swap;
      position = smallest;
    }
  }

  private void ensureCapacity(int size) {
    if (candidates.length < size) {
      candidates = new int[size];
      weights = new double[size];
      order = new long[size];
    }
  }

  private static int argmax(float[] logits) {
    int best = -1;
    float bestValue = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] > bestValue) {
        bestValue = logits[i];
        best = i;
      }
    }
    if (best < 0) {
      throw new InvalidLogitsException(
          "No token has a finite logit; the model produced no distribution");
    }
    return best;
  }
}
