package io.genguard.audit.persistence;

import io.genguard.audit.persistence.ChainVerifier.Anchor;
import io.genguard.schemas.ContentHash;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.RandomAccess;

/**
 * Anchor lines as verification keeps them, in seq order: 80 bytes a line however long the line is
 * (its seq, its chain hash, the SHA-256 of its text, and where it is: a file's line number or a
 * topic's offset). A year of anchors (about 525,000 lines) then takes about 40 MB, where the parsed
 * lines held 456-460 MB.
 */
public final class AnchorIndex {
  private static final int HASH = 32;
  private static final byte[] NO_TEXT = new byte[HASH];
  private static final HexFormat HEX = HexFormat.of();

  private long[] seqs = new long[64];
  private long[] places = new long[64];
  private byte[] hashes = new byte[64 * HASH];
  private byte[] digests = new byte[64 * HASH];
  private int size;

  /** An index holding one anchor given on its own (no line, no text). */
  public static AnchorIndex of(Anchor anchor) {
    AnchorIndex index = new AnchorIndex();
    index.add(0, anchor.seq(), HEX.parseHex(anchor.hashHex()), NO_TEXT);
    return index;
  }

  /**
   * Adds a line at {@code place} (its line number in a file, its offset in a topic).
   *
   * @throws IllegalArgumentException if its seq is lower than the last line's
   */
  public void add(long place, AnchorLog.AnchorLine line) {
    add(
        place,
        line.anchor().seq(),
        HEX.parseHex(line.anchor().hashHex()),
        ContentHash.sha256(line.text()));
  }

  private void add(long place, long seq, byte[] hash, byte[] digest) {
    if (size > 0 && seq < seqs[size - 1]) {
      throw new IllegalArgumentException(
          "seq " + seq + " comes after seq " + seqs[size - 1] + "; lines are added in seq order");
    }
    if (size == seqs.length) {
      int grown = size + (size >> 1);
      seqs = Arrays.copyOf(seqs, grown);
      places = Arrays.copyOf(places, grown);
      hashes = Arrays.copyOf(hashes, grown * HASH);
      digests = Arrays.copyOf(digests, grown * HASH);
    }
    seqs[size] = seq;
    places[size] = place;
    System.arraycopy(hash, 0, hashes, size * HASH, HASH);
    System.arraycopy(digest, 0, digests, size * HASH, HASH);
    size++;
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  public long seq(int i) {
    return seqs[i];
  }

  /** Where line {@code i} is: its line number in a file, its offset in a topic. */
  public long place(int i) {
    return places[i];
  }

  public Anchor anchor(int i) {
    return new Anchor(seqs[i], HEX.formatHex(hashes, i * HASH, (i + 1) * HASH));
  }

  /** Whether line {@code i} here and line {@code j} of {@code other} are the same text. */
  public boolean sameText(int i, AnchorIndex other, int j) {
    return Arrays.equals(
        digests, i * HASH, (i + 1) * HASH, other.digests, j * HASH, (j + 1) * HASH);
  }

  /** Whether line {@code i} is {@code text}. */
  public boolean sameText(int i, String text) {
    return Arrays.equals(digests, i * HASH, (i + 1) * HASH, ContentHash.sha256(text), 0, HASH);
  }

  /** The first line with {@code seq}, or -1 when none has it. */
  public int first(long seq) {
    int low = 0;
    int high = size;
    while (low < high) {
      int middle = (low + high) >>> 1;
      if (seqs[middle] < seq) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low < size && seqs[low] == seq ? low : -1;
  }

  /** The lines' anchors, in seq order, made as they are read. */
  public List<Anchor> anchors() {
    return new Anchors();
  }

  private final class Anchors extends AbstractList<Anchor> implements RandomAccess {
    @Override
    public Anchor get(int index) {
      if (index < 0 || index >= size) {
        throw new IndexOutOfBoundsException(index);
      }
      return anchor(index);
    }

    @Override
    public int size() {
      return size;
    }
  }

  /**
   * The anchors of every source, in seq order, each seq and hash once: what the chain is checked
   * against when a file, its witness and a head given by hand all name heads. Kept in 40 bytes an
   * anchor.
   */
  public static List<Anchor> merged(List<AnchorIndex> sources) {
    int total = 0;
    for (AnchorIndex source : sources) {
      total += source.size;
    }
    long[] seqs = new long[total];
    byte[] hashes = new byte[total * HASH];
    int size = 0;
    int[] next = new int[sources.size()];
    while (true) {
      int from = -1;
      for (int s = 0; s < sources.size(); s++) {
        AnchorIndex source = sources.get(s);
        if (next[s] < source.size
            && (from < 0 || source.seqs[next[s]] < sources.get(from).seqs[next[from]])) {
          from = s;
        }
      }
      if (from < 0) {
        return new MergedAnchors(seqs, hashes, size);
      }
      AnchorIndex source = sources.get(from);
      int i = next[from]++;
      boolean known = false;
      for (int k = size - 1; k >= 0 && seqs[k] == source.seqs[i] && !known; k--) {
        known =
            Arrays.equals(
                hashes, k * HASH, (k + 1) * HASH, source.hashes, i * HASH, (i + 1) * HASH);
      }
      if (!known) {
        seqs[size] = source.seqs[i];
        System.arraycopy(source.hashes, i * HASH, hashes, size * HASH, HASH);
        size++;
      }
    }
  }

  private static final class MergedAnchors extends AbstractList<Anchor> implements RandomAccess {
    private final long[] seqs;
    private final byte[] hashes;
    private final int size;

    MergedAnchors(long[] seqs, byte[] hashes, int size) {
      this.seqs = seqs;
      this.hashes = hashes;
      this.size = size;
    }

    @Override
    public Anchor get(int index) {
      if (index < 0 || index >= size) {
        throw new IndexOutOfBoundsException(index);
      }
      return new Anchor(seqs[index], HEX.formatHex(hashes, index * HASH, (index + 1) * HASH));
    }

    @Override
    public int size() {
      return size;
    }
  }
}
