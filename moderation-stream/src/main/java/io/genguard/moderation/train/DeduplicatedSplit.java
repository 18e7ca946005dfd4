package io.genguard.moderation.train;

import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.TextNormalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Deduplicates a pool of labelled texts and splits it into train, validation and test so that no
 * text, near-duplicate or split group crosses splits.
 *
 * <ol>
 *   <li>Near-duplicates: texts whose normalized forms are equal, or whose word-trigram sets have an
 *       estimated Jaccard similarity of at least {@value #NEAR_DUPLICATE_JACCARD} (MinHash, 64
 *       permutations, banded LSH to find candidates; Broder 1997), form one cluster. A cluster
 *       keeps one text, with labels merged: positive wins over negative, known over unknown, so
 *       that a text any source calls unsafe is unsafe.
 *   <li>Clusters that share a text's split group (e.g. one JailbreakBench behaviour) are joined. A
 *       group is named by the normalized text it is about (a behaviour's goal), and a cluster that
 *       holds that text joins the group whichever of its texts is kept: AdvBench, HarmBench and
 *       StrongREJECT copy JailbreakBench goals, word for word or nearly, and such a copy kept in
 *       another split than its behaviour's attack prompts and responses would put the behaviour on
 *       both sides. The kept text takes the group, so cross-fitting folds it with them too.
 *   <li>Each joined component goes to one split by a hash of its smallest normalized text: 70%
 *       train, 15% validation, 15% test. The split depends only on the texts, never on load order,
 *       so the train and quality commands agree without a manifest.
 * </ol>
 *
 * <p>Validation is not held out from the shipped content models: {@link CrossFitting} pools it with
 * train (calibration, stacking and the thresholds' evidence come from out-of-fold margins) and the
 * shipped heads are trained on all folds, so a choice made on the validation split is made on texts
 * those models were fitted on. Only the stereotype head leaves it out of its weights (it calibrates
 * on it). Test is never trained on, but keep-or-reject bars read it (the model cards, "What the
 * test split was used for", list them from QUALITY.md's notes): there is no untouched development
 * split.
 */
public final class DeduplicatedSplit {
  static final double NEAR_DUPLICATE_JACCARD = 0.8;
  private static final int PERMUTATIONS = 64;
  private static final int BANDS = 16;
  private static final int ROWS = PERMUTATIONS / BANDS;

  /** Which part of the data a text belongs to. */
  public enum Split {
    TRAIN,
    VALIDATION,
    TEST
  }

  private final Map<Split, List<LabelledText>> splits;
  private final int inputCount;
  private final int duplicatesRemoved;
  private final int labelConflicts;

  private DeduplicatedSplit(
      Map<Split, List<LabelledText>> splits, int inputCount, int duplicatesRemoved, int conflicts) {
    this.splits = splits;
    this.inputCount = inputCount;
    this.duplicatesRemoved = duplicatesRemoved;
    this.labelConflicts = conflicts;
  }

  public List<LabelledText> get(Split split) {
    return splits.get(split);
  }

  public int inputCount() {
    return inputCount;
  }

  public int duplicatesRemoved() {
    return duplicatesRemoved;
  }

  /**
   * Clusters whose members disagreed (one said unsafe, another benign) and were merged to unsafe.
   */
  public int labelConflicts() {
    return labelConflicts;
  }

  /** Deduplicates and splits {@code pool}. */
  public static DeduplicatedSplit of(List<LabelledText> pool) {
    int n = pool.size();
    String[] normalized = new String[n];
    long[][] signatures = new long[n][];
    for (int i = 0; i < n; i++) {
      normalized[i] = TextNormalizer.splitKey(pool.get(i).text());
      signatures[i] = minHash(normalized[i]);
    }
    UnionFind duplicates = new UnionFind(n);
    Map<String, Integer> byText = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Integer first = byText.putIfAbsent(normalized[i], i);
      if (first != null) {
        duplicates.union(first, i);
      }
    }
    for (int band = 0; band < BANDS; band++) {
      Map<Long, Integer> buckets = new HashMap<>();
      for (int i = 0; i < n; i++) {
        long key = band;
        for (int r = 0; r < ROWS; r++) {
          key = key * 0x9E3779B97F4A7C15L + signatures[i][band * ROWS + r];
        }
        Integer other = buckets.putIfAbsent(key, i);
        if (other != null
            && duplicates.find(other) != duplicates.find(i)
            && estimatedJaccard(signatures[other], signatures[i]) >= NEAR_DUPLICATE_JACCARD) {
          duplicates.union(other, i);
        }
      }
    }
    // One representative per near-duplicate cluster, labels merged.
    Map<Integer, Integer> representativeOf = new LinkedHashMap<>();
    Map<Integer, byte[]> mergedLabels = new HashMap<>();
    // The groups whose own text (a behaviour's goal) is in the cluster, smallest first.
    Map<Integer, TreeSet<String>> anchoredGroups = new HashMap<>();
    int conflicts = 0;
    for (int i = 0; i < n; i++) {
      int root = duplicates.find(i);
      String ownGroup = pool.get(i).group();
      if (normalized[i].equals(ownGroup)) {
        anchoredGroups.computeIfAbsent(root, r -> new TreeSet<>()).add(ownGroup);
      }
      byte[] labels = pool.get(i).labels();
      Integer rep = representativeOf.putIfAbsent(root, i);
      if (rep == null) {
        mergedLabels.put(root, labels.clone());
      } else {
        byte[] merged = mergedLabels.get(root);
        if (merged[Heads.UNSAFE] != labels[Heads.UNSAFE]) {
          conflicts++;
        }
        for (int h = 0; h < merged.length; h++) {
          merged[h] = (byte) Math.max(merged[h], labels[h]);
        }
      }
    }
    // Join the kept texts that share a split group. Only kept texts can leak, so removed
    // duplicates do not join groups (a prompt template reused across behaviours would otherwise
    // chain every behaviour into one component), except a group's own text (its goal): the copy
    // kept for it joins the group.
    UnionFind components = new UnionFind(n);
    Map<String, Integer> byGroup = new HashMap<>();
    Map<Integer, String> groupOf = new HashMap<>();
    for (Map.Entry<Integer, Integer> entry : representativeOf.entrySet()) {
      int rep = entry.getValue();
      TreeSet<String> groups = new TreeSet<>();
      if (pool.get(rep).group() != null) {
        groups.add(pool.get(rep).group());
      }
      groups.addAll(anchoredGroups.getOrDefault(entry.getKey(), new TreeSet<>()));
      if (!groups.isEmpty()) {
        groupOf.put(rep, pool.get(rep).group() != null ? pool.get(rep).group() : groups.first());
      }
      for (String group : groups) {
        Integer first = byGroup.putIfAbsent(group, rep);
        if (first != null) {
          components.union(first, rep);
        }
      }
    }
    Map<Integer, String> smallestText = new HashMap<>();
    for (int rep : representativeOf.values()) {
      smallestText.merge(
          components.find(rep), normalized[rep], (a, b) -> a.compareTo(b) <= 0 ? a : b);
    }
    Map<Split, List<LabelledText>> splits = new LinkedHashMap<>();
    for (Split split : Split.values()) {
      splits.put(split, new ArrayList<>());
    }
    for (Map.Entry<Integer, Integer> entry : representativeOf.entrySet()) {
      int rep = entry.getValue();
      LabelledText original = pool.get(rep);
      LabelledText merged =
          new LabelledText(
              original.source(),
              groupOf.get(rep),
              original.text(),
              mergedLabels.get(entry.getKey()));
      splits.get(splitOf(smallestText.get(components.find(rep)))).add(merged);
    }
    int kept = representativeOf.size();
    return new DeduplicatedSplit(splits, n, n - kept, conflicts);
  }

  /** The split for a component identified by its smallest normalized text. */
  static Split splitOf(String key) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < key.length(); i++) {
      h ^= key.charAt(i);
      h *= 0x100000001b3L;
    }
    int bucket = (int) Math.floorMod(mix(h), 100L);
    if (bucket < 70) {
      return Split.TRAIN;
    }
    return bucket < 85 ? Split.VALIDATION : Split.TEST;
  }

  static long[] minHash(String normalized) {
    List<String> words = HashedNgramFeatures.words(normalized);
    long[] signature = new long[PERMUTATIONS];
    Arrays.fill(signature, Long.MAX_VALUE);
    int shingles = Math.max(1, words.size() - 2);
    for (int s = 0; s < shingles; s++) {
      long h = 0xcbf29ce484222325L;
      for (int w = s; w < Math.min(words.size(), s + 3); w++) {
        for (int c = 0; c < words.get(w).length(); c++) {
          h ^= words.get(w).charAt(c);
          h *= 0x100000001b3L;
        }
        h ^= ' ';
        h *= 0x100000001b3L;
      }
      long base = mix(h);
      for (int p = 0; p < PERMUTATIONS; p++) {
        long value = mix(base ^ (0x9E3779B97F4A7C15L * (p + 1)));
        if (value < signature[p]) {
          signature[p] = value;
        }
      }
    }
    return signature;
  }

  static double estimatedJaccard(long[] a, long[] b) {
    int equal = 0;
    for (int i = 0; i < a.length; i++) {
      equal += a[i] == b[i] ? 1 : 0;
    }
    return equal / (double) a.length;
  }

  private static long mix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  private static final class UnionFind {
    private final int[] parent;

    UnionFind(int n) {
      parent = new int[n];
      for (int i = 0; i < n; i++) {
        parent[i] = i;
      }
    }

    int find(int i) {
      while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    }

    void union(int a, int b) {
      int ra = find(a);
      int rb = find(b);
      if (ra != rb) {
        parent[Math.max(ra, rb)] = Math.min(ra, rb);
      }
    }
  }
}
