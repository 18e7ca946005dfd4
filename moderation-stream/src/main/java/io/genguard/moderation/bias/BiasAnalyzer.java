package io.genguard.moderation.bias;

import io.genguard.moderation.scoring.NgramLogisticModel;
import io.genguard.moderation.scoring.NormalizedText;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Demographic bias in one text: which groups it mentions (the {@link IdentityLexicon}), which of
 * them it is aimed at, and an implicit-stereotype signal.
 *
 * <p>Aimed at: the group is named by a slur, or the mention sits in a generalizing or hostile
 * construction ("X are ...", "all X", "those X", "you X", "hate/deport/ban X"). That alone is not
 * an offence (plenty of fair statements generalize); policy calls it targeted bias only together
 * with a high hate, harassment or violence score.
 *
 * <p>Stereotype signal: a calibrated logistic head over hashed n-grams trained by the train command
 * to tell ToxiGen's implicitly hateful statements (no slurs, still demeaning) from neutral
 * statements about the same groups and other benign text that mentions people; it is reported only
 * when the text mentions a group (0 otherwise). Thread-safe.
 */
public final class BiasAnalyzer implements Function<String, BiasFindings> {
  /** Classpath location of the stereotype model. */
  public static final String STEREOTYPE_RESOURCE = "/models/stereotype/stereotype-ngram.bin.gz";

  /** The stereotype model's head name. */
  public static final String STEREOTYPE_HEAD = "stereotype";

  /** Words right before a mention that aim the sentence at the group. */
  static final Set<String> CUES_BEFORE =
      Set.of(
          "all",
          "those",
          "these",
          "you",
          "typical",
          "most",
          "every",
          "bunch",
          "filthy",
          "dirty",
          "stupid",
          "damn",
          "fucking",
          "hate",
          "hates",
          "kill",
          "deport",
          "ban",
          "exterminate",
          "despise",
          "against",
          "no",
          "fuck",
          "blame",
          "never",
          "trust",
          "lazy",
          "disgusting",
          "inferior",
          "subhuman");

  /** Words right after a mention (or its person noun) that generalize about the group. */
  static final Set<String> CUES_AFTER =
      Set.of(
          "are",
          "aren't",
          "were",
          "should",
          "shouldn't",
          "can't",
          "cannot",
          "never",
          "always",
          "all",
          "don't",
          "do",
          "will",
          "won't",
          "belong",
          "need",
          "deserve",
          "ruin",
          "ruined",
          "destroy",
          "steal",
          "smell",
          "breed",
          "get",
          "have",
          "just",
          "only",
          "must",
          "tend",
          "want",
          "can",
          "control",
          "run",
          "own",
          "take",
          "cause",
          "bring",
          "commit",
          "spread",
          "hate",
          "act",
          "lie",
          "refuse",
          "think",
          "look",
          "is",
          "isn't",
          "was");

  private final IdentityLexicon lexicon;
  private final NgramLogisticModel stereotypeModel;
  private final String stereotypeVersion;

  public BiasAnalyzer(
      IdentityLexicon lexicon, NgramLogisticModel stereotypeModel, String stereotypeVersion) {
    if (!stereotypeModel.heads().containsKey(STEREOTYPE_HEAD)) {
      throw new IllegalArgumentException(
          "the stereotype model has no '" + STEREOTYPE_HEAD + "' head");
    }
    this.lexicon = lexicon;
    this.stereotypeModel = stereotypeModel;
    this.stereotypeVersion = stereotypeVersion;
  }

  /** The lexicon and stereotype model in the jar. */
  public static BiasAnalyzer loadDefault() {
    try (InputStream in = BiasAnalyzer.class.getResourceAsStream(STEREOTYPE_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "Stereotype model "
                + STEREOTYPE_RESOURCE
                + " is not on the classpath; run the train command (--model stereotype)");
      }
      byte[] bytes = in.readAllBytes();
      NgramLogisticModel model = NgramLogisticModel.read(new java.io.ByteArrayInputStream(bytes));
      return new BiasAnalyzer(
          IdentityLexicon.loadDefault(),
          model,
          model.modelVersion() + "+sha256:" + IdentityLexicon.shortDigest(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + STEREOTYPE_RESOURCE, e);
    }
  }

  @Override
  public BiasFindings apply(String text) {
    return analyze(text);
  }

  /** Groups, targeted groups and stereotype signal of one text. */
  public BiasFindings analyze(String text) {
    return analyze(NormalizedText.of(text));
  }

  /** {@link #analyze(String)} reading the words {@code text} holds (normalized once, shared). */
  public BiasFindings analyze(NormalizedText text) {
    List<String> words = text.words();
    List<IdentityLexicon.Mention> mentions = lexicon.mentions(words);
    if (mentions.isEmpty()) {
      return BiasFindings.NONE;
    }
    TreeSet<String> groups = new TreeSet<>();
    TreeSet<String> targeted = new TreeSet<>();
    for (IdentityLexicon.Mention mention : mentions) {
      String group = mention.entry().groupId();
      groups.add(group);
      if (mention.entry().slur() || inTargetingConstruction(words, mention)) {
        targeted.add(group);
      }
    }
    double stereotype = stereotypeModel.probability(STEREOTYPE_HEAD, text);
    return new BiasFindings(new ArrayList<>(groups), new ArrayList<>(targeted), stereotype);
  }

  /** Group ids mentioned in a text (no model call). */
  public List<String> groups(String text) {
    TreeSet<String> groups = new TreeSet<>();
    for (IdentityLexicon.Mention mention : lexicon.mentions(IdentityLexicon.words(text))) {
      groups.add(mention.entry().groupId());
    }
    return new ArrayList<>(groups);
  }

  static boolean inTargetingConstruction(List<String> words, IdentityLexicon.Mention mention) {
    for (int k = Math.max(0, mention.start() - 2); k < mention.start(); k++) {
      if (CUES_BEFORE.contains(words.get(k))) {
        return true;
      }
    }
    int after = mention.end();
    if (after < words.size() && IdentityLexicon.PERSON_NOUNS.contains(words.get(after))) {
      after++;
    }
    return after < words.size() && CUES_AFTER.contains(words.get(after));
  }

  /** Versions of the lexicon and stereotype model, for verdicts. */
  public Map<String, String> versions() {
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put("identity-lexicon", lexicon.version());
    versions.put("stereotype-ngram", stereotypeVersion);
    return versions;
  }
}
