package io.genguard.moderation.train;

import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.moderation.bias.IdentityLexicon.Entry;
import io.genguard.moderation.bias.IdentityLexicon.Mention;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Counterfactual copies of training texts for the stereotype head (counterfactual data
 * augmentation, Zmigrod et al. 2019; Garg et al. 2019): every group the text names is swapped for
 * another group, the label kept. A demeaning generalisation stays demeaning whoever it is about,
 * and a neutral statement stays neutral; so the copies break the link between a group's name and
 * the label that ToxiGen's per-group proportions of hateful statements put there, and the head has
 * to learn the stereotype, not the group.
 *
 * <p>Slurs are neither swapped out nor swapped in: a slur is evidence on its own. A phrase that
 * needed a person noun ("black people") is replaced by one that needs one too, so the noun stays.
 */
final class CounterfactualAugmentation {
  private final IdentityLexicon lexicon;
  private final List<Entry> bare;
  private final List<Entry> withPersonNoun;

  CounterfactualAugmentation(IdentityLexicon lexicon) {
    this.lexicon = lexicon;
    List<Entry> plain = new ArrayList<>();
    List<Entry> qualified = new ArrayList<>();
    for (Entry entry : lexicon.entries()) {
      if (!entry.slur()) {
        (entry.needsPersonNoun() ? qualified : plain).add(entry);
      }
    }
    this.bare = List.copyOf(plain);
    this.withPersonNoun = List.copyOf(qualified);
  }

  /**
   * The text with every non-slur group mention swapped for a random other group, as lower-case
   * words; null when the text names no group that can be swapped.
   */
  String swap(String text, Random random) {
    List<String> words = IdentityLexicon.words(text);
    List<Mention> mentions = lexicon.mentions(words);
    List<String> out = new ArrayList<>(words.size() + 4);
    int next = 0;
    boolean swapped = false;
    for (Mention mention : mentions) {
      Entry entry = mention.entry();
      if (entry.slur()) {
        continue;
      }
      List<Entry> pool = entry.needsPersonNoun() ? withPersonNoun : bare;
      Entry replacement = null;
      for (int attempt = 0; attempt < 20 && replacement == null; attempt++) {
        Entry candidate = pool.get(random.nextInt(pool.size()));
        if (!candidate.groupId().equals(entry.groupId())) {
          replacement = candidate;
        }
      }
      if (replacement == null) {
        continue;
      }
      out.addAll(words.subList(next, mention.start()));
      out.addAll(replacement.words());
      next = mention.start() + entry.words().size();
      swapped = true;
    }
    if (!swapped) {
      return null;
    }
    out.addAll(words.subList(next, words.size()));
    return String.join(" ", out);
  }
}
