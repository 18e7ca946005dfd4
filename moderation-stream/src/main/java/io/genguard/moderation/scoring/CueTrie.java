package io.genguard.moderation.scoring;

import java.util.List;

/**
 * Words of which a rule needs at least one (a rule's cue: space-separated entries): "kill*" stands
 * for every word that begins with "kill", "cut" for that word only. A rule whose cue is absent from
 * a sentence is not run on it, so most sentences cost a few microseconds instead of a few hundred.
 * One walk over the sentence's letters finds every rule cued, without allocating. The tests check
 * that the cues change no result.
 */
final class CueTrie {
  private final CueTrie[] next = new CueTrie[27];
  private int stemRules;
  private int wordRules;

  /** A trie of each rule's cue, in rule order: bit r of a mask stands for {@code cues.get(r)}. */
  static CueTrie of(List<String> cues) {
    if (cues.size() > Integer.SIZE) {
      throw new IllegalStateException("a rule mask holds at most 32 rules");
    }
    CueTrie root = new CueTrie();
    for (int r = 0; r < cues.size(); r++) {
      for (String entry : cues.get(r).split(" ")) {
        boolean stem = entry.endsWith("*");
        CueTrie node = root;
        for (char c : (stem ? entry.substring(0, entry.length() - 1) : entry).toCharArray()) {
          int i = index(c);
          if (node.next[i] == null) {
            node.next[i] = new CueTrie();
          }
          node = node.next[i];
        }
        if (stem) {
          node.stemRules |= 1 << r;
        } else {
          node.wordRules |= 1 << r;
        }
      }
    }
    return root;
  }

  /** Bit r is set when rule r's cue is among the single-spaced, lower-case {@code words}. */
  int rulesCued(String words) {
    int rules = 0;
    CueTrie node = this;
    for (int i = 0; i <= words.length(); i++) {
      char c = i < words.length() ? words.charAt(i) : ' ';
      if (c == ' ') {
        if (node != null) {
          rules |= node.wordRules;
        }
        node = this;
      } else if (node != null) {
        node = node.next[index(c)];
        if (node != null) {
          rules |= node.stemRules;
        }
      }
    }
    return rules;
  }

  private static int index(char c) {
    return c >= 'a' && c <= 'z' ? c - 'a' : 26;
  }
}
