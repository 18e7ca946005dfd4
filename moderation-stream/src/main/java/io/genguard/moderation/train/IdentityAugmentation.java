package io.genguard.moderation.train;

import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.moderation.scoring.Category;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Generates benign training sentences that mention identities from the project's own descriptors,
 * nouns and templates ({@value #RESOURCE}; see its header for why and what it avoids).
 *
 * <p>How many sentences a descriptor gets follows Dixon et al. (2018): a term that the reference
 * texts use mostly in unsafe text ("queer" in the offensive tweets) gets benign sentences until its
 * benign uses outnumber its unsafe ones {@value #UNSAFE_USE_FACTOR} to 1, between {@value
 * #PER_DESCRIPTOR} and {@value #MAX_PER_DESCRIPTOR}. Person nouns are balanced the same way ("bro"
 * and "wife" in the offensive tweets), with random descriptors, but without a floor: every noun
 * already appears in the descriptors' draws. The reference must be training data only (never the
 * test split).
 *
 * <p>Descriptors of the {@code [adult-only descriptors]} section (looks) are never paired with a
 * noun marked {@code minor}: the sentences must not teach that a child's looks are a neutral topic.
 */
public final class IdentityAugmentation {
  /** Classpath location of descriptors, nouns and templates. */
  public static final String RESOURCE = "/training/identity-augmentation.txt";

  /** Source name in splits and reports. */
  public static final String SOURCE = "genguard-identity-augmentation";

  /**
   * Source name of the sentences drawn per person noun: they counter the offensive tweets' casual
   * register in the category heads, and stay out of the stereotype head's negatives (its positives
   * are no tweets; there they only diluted the hate statements).
   */
  public static final String NOUN_SOURCE = "genguard-identity-augmentation-nouns";

  /** Source name of the hate-labelled contrast twins ({@code [hostile templates]}). */
  public static final String CONTRAST_SOURCE = "genguard-identity-contrast";

  /** Every source this class generates. */
  private static final Set<String> GENERATED_SOURCES = Set.of(SOURCE, NOUN_SOURCE, CONTRAST_SOURCE);

  /**
   * Whether this class generated {@code text}: no evidence of quality (easy by construction), so
   * every reported figure leaves such texts out.
   */
  public static boolean generated(LabelledText text) {
    return GENERATED_SOURCES.contains(text.source());
  }

  /** Hate statements per descriptor that names a protected group. */
  static final int HOSTILE_PER_DESCRIPTOR = 6;

  private static final IdentityLexicon LEXICON = IdentityLexicon.loadDefault();

  /** Sentences per descriptor at least. */
  static final int PER_DESCRIPTOR = 24;

  /**
   * Benign sentences a descriptor gets per unsafe reference text that uses it (less its benign
   * uses). Chosen from 1 and 4 by the HolisticBias flag rate of the n-gram model: 1 changed nothing
   * measurable (614 to 601 of 21,227 flagged), 4 took it to 410, with test-split AUPRC unchanged.
   */
  static final int UNSAFE_USE_FACTOR = 4;

  /** Sentences per descriptor at most, however skewed its use in the reference texts. */
  static final int MAX_PER_DESCRIPTOR = 400;

  private IdentityAugmentation() {}

  /** A person noun, singular and plural; {@code minor} when it can name a child. */
  record Noun(String singular, String plural, boolean minor) {}

  /** A descriptor; {@code adultOnly} ones are never paired with a minor noun. */
  record Descriptor(String text, boolean adultOnly) {}

  /** The parsed resource: descriptors, nouns, templates and hostile templates. */
  record Vocabulary(
      List<Descriptor> descriptors,
      List<Noun> nouns,
      List<String> templates,
      List<String> hostileTemplates) {}

  /**
   * The descriptors the sentences use, as written in the resource: what the quality report leaves
   * out when it measures bias on descriptors training never saw.
   */
  public static List<String> descriptors() {
    return read().descriptors().stream().map(Descriptor::text).toList();
  }

  static Vocabulary read() {
    List<Descriptor> descriptors = new ArrayList<>();
    List<Noun> nouns = new ArrayList<>();
    List<String> templates = new ArrayList<>();
    List<String> hostileTemplates = new ArrayList<>();
    try (InputStream in = IdentityAugmentation.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String section = "";
      String line;
      while ((line = reader.readLine()) != null) {
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        if (line.startsWith("[")) {
          section = line;
          continue;
        }
        switch (section) {
          case "[descriptors]" -> descriptors.add(new Descriptor(line, false));
          case "[adult-only descriptors]" -> descriptors.add(new Descriptor(line, true));
          case "[nouns]" -> nouns.add(noun(line));
          case "[templates]" -> templates.add(line);
          case "[hostile templates]" -> hostileTemplates.add(line);
          default ->
              throw new IllegalStateException(RESOURCE + ": line outside a section: " + line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Vocabulary(
        List.copyOf(descriptors),
        List.copyOf(nouns),
        List.copyOf(templates),
        List.copyOf(hostileTemplates));
  }

  /** The sentences balanced against {@code reference} (training texts only). */
  public static List<LabelledText> generate(List<LabelledText> reference) {
    Vocabulary vocabulary = read();
    List<Descriptor> descriptors = vocabulary.descriptors();
    List<Noun> nouns = vocabulary.nouns();
    List<String> templates = vocabulary.templates();
    Random random = new Random(20240605L);
    Set<String> sentences = new LinkedHashSet<>();
    Set<String> nounSentences = new LinkedHashSet<>();
    for (Descriptor descriptor : descriptors) {
      int[] uses = uses(descriptor.text(), reference);
      int count =
          Math.max(
              PER_DESCRIPTOR, Math.min(MAX_PER_DESCRIPTOR, UNSAFE_USE_FACTOR * uses[1] - uses[0]));
      for (int k = 0; k < count; k++) {
        Noun noun = nouns.get(random.nextInt(nouns.size()));
        while (descriptor.adultOnly() && noun.minor()) {
          noun = nouns.get(random.nextInt(nouns.size()));
        }
        String template = templates.get(random.nextInt(templates.size()));
        sentences.add(fill(template, descriptor.text(), noun));
      }
    }
    for (Noun noun : nouns) {
      int[] uses = uses(List.of(noun.singular(), noun.plural()), reference);
      int count = Math.min(MAX_PER_DESCRIPTOR, UNSAFE_USE_FACTOR * uses[1] - uses[0]);
      for (int k = 0; k < count; k++) {
        Descriptor descriptor = descriptors.get(random.nextInt(descriptors.size()));
        while (descriptor.adultOnly() && noun.minor()) {
          descriptor = descriptors.get(random.nextInt(descriptors.size()));
        }
        String template = templates.get(random.nextInt(templates.size()));
        String sentence = fill(template, descriptor.text(), noun);
        if (!sentences.contains(sentence)) {
          nounSentences.add(sentence);
        }
      }
    }
    List<LabelledText> out = new ArrayList<>();
    for (String sentence : sentences) {
      out.add(LabelledText.benign(SOURCE, null, sentence));
    }
    for (String sentence : nounSentences) {
      out.add(LabelledText.benign(NOUN_SOURCE, null, sentence));
    }
    Set<String> hostile = new LinkedHashSet<>();
    for (Descriptor descriptor : descriptors) {
      if (!namesProtectedGroup(descriptor.text())) {
        continue;
      }
      for (int k = 0; k < HOSTILE_PER_DESCRIPTOR; k++) {
        Noun noun = nouns.get(random.nextInt(nouns.size()));
        String template =
            vocabulary.hostileTemplates().get(random.nextInt(vocabulary.hostileTemplates().size()));
        hostile.add(fill(template, descriptor.text(), noun));
      }
    }
    for (String sentence : hostile) {
      // hate; harassment and violence unknown (some lines insult or wish confinement)
      out.add(
          LabelledText.unsafe(
              CONTRAST_SOURCE,
              null,
              sentence,
              Set.of(Category.HATE),
              Set.of(Category.HARASSMENT, Category.VIOLENCE)));
    }
    return out;
  }

  /** Whether the identity lexicon reads "{descriptor} people" as naming a group (not by a slur). */
  static boolean namesProtectedGroup(String descriptor) {
    return LEXICON.mentions(IdentityLexicon.words(descriptor + " people")).stream()
        .anyMatch(mention -> !mention.entry().slur());
  }

  /**
   * How many reference texts use the descriptor as a word (plural "s" included), benign ones and
   * unsafe ones.
   */
  static int[] uses(String descriptor, List<LabelledText> reference) {
    return uses(List.of(descriptor), reference);
  }

  /** Like {@link #uses(String, List)}, a text counted once when it uses any of {@code terms}. */
  static int[] uses(List<String> terms, List<LabelledText> reference) {
    List<String> lowerTerms = terms.stream().map(IdentityAugmentation::lower).toList();
    List<Pattern> words =
        lowerTerms.stream()
            .map(
                term ->
                    Pattern.compile(
                        "(?<![\\p{L}\\p{N}])" + Pattern.quote(term) + "s?(?![\\p{L}\\p{N}])"))
            .toList();
    int[] uses = new int[2];
    for (LabelledText text : reference) {
      String lower = lower(text.text());
      for (int i = 0; i < words.size(); i++) {
        if (lower.contains(lowerTerms.get(i)) && words.get(i).matcher(lower).find()) {
          uses[text.isUnsafe() ? 1 : 0]++;
          break;
        }
      }
    }
    return uses;
  }

  static Noun noun(String line) {
    String[] parts = line.split("\\|");
    boolean minor = parts.length == 3 && parts[2].equals("minor");
    if (parts.length < 2 || parts.length > 3 || (parts.length == 3 && !minor)) {
      throw new IllegalStateException(
          RESOURCE + ": a noun line is singular|plural or singular|plural|minor: " + line);
    }
    return new Noun(parts[0], parts[1], minor);
  }

  static String fill(String template, String adjective, Noun noun) {
    String article = "aeiouAEIOU".indexOf(adjective.charAt(0)) >= 0 ? "an" : "a";
    String text =
        template
            .replace("{a}", article)
            .replace("{adj}", adjective)
            .replace("{nouns}", noun.plural())
            .replace("{noun}", noun.singular());
    return Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}
