package io.genguard.moderation.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The sets reserved for evaluation, never trained on: XSTest (safe prompts that look unsafe, and
 * unsafe contrasts), CoCoNot contrast prompts (benign look-alikes), and HolisticBias sentences
 * (descriptor x noun x template) for the moderator's own bias.
 */
public final class EvaluationSets {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Templates of HolisticBias v1.1 that state dislike of the group: not benign, reported apart. */
  public static final List<String> NEGATIVE_TEMPLATES =
      List.of(
          "I hate {plural_noun_phrase}.",
          "I think {plural_noun_phrase} are the worst.",
          "I don't like {plural_noun_phrase}.");

  /**
   * HolisticBias's one descriptor with a plainly sexual sense, and its nouns that always name a
   * minor: "I have friends who are sexy children." sexualizes children, so a moderator should hold
   * it. Such sentences are reported apart, like the dislike templates, not counted as benign.
   * ("hot" also means warm; "girl", "boy", "daughter" and "son" also name adults.)
   */
  public static final java.util.Set<String> SEXUALIZING_DESCRIPTORS = java.util.Set.of("sexy");

  public static final java.util.Set<String> CHILD_NOUNS = java.util.Set.of("child", "kid");

  private final SharedDataSets data;

  public EvaluationSets(Path dataDir) {
    this.data = new SharedDataSets(dataDir);
  }

  /** One XSTest prompt. */
  public record XsTestPrompt(String prompt, boolean safe, String type) {}

  public List<XsTestPrompt> xsTest() {
    List<XsTestPrompt> out = new ArrayList<>();
    for (Map<String, String> row :
        SharedDataSets.csv(data.require("safety/exaggerated-safety/xstest_prompts.csv"))) {
      out.add(
          new XsTestPrompt(row.get("prompt"), row.get("label").equals("safe"), row.get("type")));
    }
    return out;
  }

  /** Classpath resource of {@link #hostileStatements()}. */
  public static final String HOSTILE_STATEMENTS = "/evaluation/hostile-statements.txt";

  /**
   * Classpath resources of {@link #threatProbe(String)}: threats of violence and benign look-alikes
   * that reuse their phrases, one JSON object a line ({@code id}, {@code kind}, {@code text}), so
   * that {@code ./genguard score} reads them as they are. All were written on 2026-12-03: the first
   * after that day's first threat training lines, the second and third each before the next set of
   * them, the fourth before the threat patterns ({@code ThreatPatterns}) existed and the fifth
   * before their second version; the sixth (twelfth session), before their third version (veiled
   * threats), by the same writer minutes before it.
   */
  public static final List<String> THREAT_PROBES =
      List.of(
          "/evaluation/threats-1.jsonl",
          "/evaluation/threats-2.jsonl",
          "/evaluation/threats-3.jsonl",
          "/evaluation/threats-4.jsonl",
          "/evaluation/threats-5.jsonl",
          "/evaluation/threats-6.jsonl");

  /**
   * One line of a probe: {@code held} for a text that should be held (a threat, a hostile
   * statement), not for one that should not (a look-alike, a plain statement).
   */
  public record ProbeText(String id, String text, boolean held) {}

  /**
   * A threat probe ({@link #THREAT_PROBES}). Evaluation only: no training code reads it.
   *
   * @throws IllegalStateException for a line without an id or text, or whose kind is not {@code
   *     threat} or {@code look-alike}
   */
  public static List<ProbeText> threatProbe(String resource) {
    return probe(resource, "threat", "look-alike");
  }

  /**
   * Classpath resources of the self-harm probes: 30 texts each that encourage, plan, instruct or
   * hide self-harm, suicide or disordered eating (kind {@code self-harm}, no methods in detail) and
   * 30 look-alikes (kind {@code look-alike}: crisis lines, recovery, clinical and news text,
   * prevention advice, figurative speech), written and committed on 2026-12-03 (fifteenth session)
   * before the self-harm training pass they measured (not kept), by its writer; never trained on.
   * The third, {@code selfharm-3.jsonl}, was written and committed on 2026-12-03 (sixteenth
   * session) before the self-harm rule ({@code SelfHarmPatterns}) it measures, by the rule's
   * writer, and scored by it once: unseen sentences, not unseen writing. The fourth, {@code
   * selfharm-4.jsonl}, the same way before the rule's second version (1.1.0), after the third's
   * results had been read; its look-alikes share words with its self-harm texts on purpose. The
   * fifth, {@code selfharm-5.jsonl}, many of its texts in an assistant's voice ("Sure! Here are
   * ..."), before the self-harm training pass of the sixteenth session.
   */
  public static final List<String> SELF_HARM_PROBES =
      List.of(
          "/evaluation/selfharm-1.jsonl",
          "/evaluation/selfharm-2.jsonl",
          "/evaluation/selfharm-3.jsonl",
          "/evaluation/selfharm-4.jsonl",
          "/evaluation/selfharm-5.jsonl");

  /**
   * A self-harm probe ({@link #SELF_HARM_PROBES}). Evaluation only: no training code reads it.
   *
   * @throws IllegalStateException for a line without an id or text, or whose kind is not {@code
   *     self-harm} or {@code look-alike}
   */
  public static List<ProbeText> selfHarmProbe(String resource) {
    return probe(resource, "self-harm", "look-alike");
  }

  /**
   * Classpath resource of {@link #childrenProbe()}: benign texts that mention children, ages and
   * family (parenting, school, medicine, law, adult children), written on 2026-12-03 after the
   * quality report showed the sexual-minors head flagging HolisticBias sentences such as "I'm an
   * adult daughter." and before any change meant to fix that. Same format as the threat probes,
   * every kind {@code benign}.
   */
  public static final String CHILDREN_PROBE = "/evaluation/children-1.jsonl";

  /** {@link #CHILDREN_PROBE}'s texts: none should be held. Evaluation only. */
  public static List<String> childrenProbe() {
    return probe(CHILDREN_PROBE, "benign", "benign").stream().map(ProbeText::text).toList();
  }

  /** A probe's lines; {@code positive} is the kind that should be held, {@code negative} not. */
  private static List<ProbeText> probe(String resource, String positive, String negative) {
    List<ProbeText> out = new ArrayList<>();
    int lineNumber = 0;
    for (String line : lines(resource)) {
      lineNumber++;
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode row = JSON.readTree(line);
        String kind = row.path("kind").asText();
        if (!row.hasNonNull("id")
            || !row.path("text").isTextual()
            || !(kind.equals(positive) || kind.equals(negative))) {
          throw new IllegalStateException(
              resource
                  + " line "
                  + lineNumber
                  + ": needs an id, a text and a kind of "
                  + (positive.equals(negative) ? positive : positive + " or " + negative));
        }
        out.add(
            new ProbeText(
                row.get("id").asText(),
                row.get("text").asText(),
                kind.equals(positive) && !positive.equals(negative)));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(
            resource + " line " + lineNumber + ": not JSON: " + e.getOriginalMessage(), e);
      }
    }
    return out;
  }

  /** Classpath resource of {@link #plainGroupStatements()}. */
  public static final String PLAIN_GROUP_STATEMENTS = "/evaluation/group-statements.txt";

  /**
   * Classpath resource of the second probe of statements about groups ({@link #groupProbes()}): 40
   * hostile and 60 plain statements, one JSON object a line ({@code id}, {@code kind} {@code
   * hostile} or {@code plain}, {@code text}), written and committed on 2026-12-03 (thirteenth
   * session) before the change it was meant to measure, never trained on. The plain ones name more
   * groups than the first probe's and include more statements that quote a prejudice to reject it.
   */
  public static final String GROUP_PROBE = "/evaluation/groups-2.jsonl";

  /**
   * Classpath resource of the probe of framed statements about groups ({@link #groupProbes()}): 30
   * that endorse a prejudice inside a frame ("I'm not racist, but ...", "Everyone knows ..."; kind
   * {@code hostile}) and 40 that reject or report one ("The idea that ... is a lazy stereotype.",
   * "We reported the account for posting that ..."; kind {@code plain}), written and committed on
   * 2026-12-03 (thirteenth session) before a trial of framed training statements (not kept;
   * QUALITY.md, "How to read"), by the same writer; never trained on.
   */
  public static final String COUNTER_SPEECH_PROBE = "/evaluation/counter-speech-1.jsonl";

  /**
   * Classpath resource of the fourth probe of statements about groups ({@link #groupProbes()}): 40
   * hostile and 40 plain statements about groups the public training data barely covers (sexism,
   * religions beyond ToxiGen's, age, disability, nationalities, looks, class), written and
   * committed on 2026-12-03 (thirteenth session) before the authored hate statements about the same
   * groups that followed it, by the same writer; never trained on.
   */
  public static final String THIN_GROUPS_PROBE = "/evaluation/groups-3.jsonl";

  /**
   * Classpath resource of the fifth probe of statements about groups ({@link #groupProbes()}): 30
   * prejudices stated inside frames (kind {@code hostile}) and 30 look-alikes (kind {@code plain}:
   * frames around benign statements about groups, frames without a group, reports and rejections of
   * framed prejudice), written and committed on 2026-12-03 (fourteenth session) before the
   * prejudice-frame rule ({@code PrejudiceFrames}), by the same writer; never trained on.
   */
  public static final String FRAMES_PROBE = "/evaluation/frames-1.jsonl";

  /**
   * Classpath resource of the sixth probe of statements about groups ({@link #groupProbes()}): 40
   * plain statements of liking, love, admiration or friendship for a group or its members (kind
   * {@code plain}: none should be held) and 30 hostile ones that open the same way ("I like ..., as
   * long as ...", kind {@code hostile}), written and committed on 2026-12-04 (twentieth session)
   * before the training lines on affection for groups that followed it, by their writer, after the
   * README recorded "I like disabled people." held for hate 0.86; never trained on.
   */
  public static final String AFFECTION_PROBE = "/evaluation/affection-1.jsonl";

  /**
   * The seventh probe (2026-12-04, twenty-first session): 30 more hostile statements that open with
   * affection and 40 plain ones, many in the same "I like GROUP, CLAUSE" shape, written and
   * committed before the affection clauses of {@code SentenceMaxScorer} 1.2.0 and before any model
   * scored them (docs/experiments/affection-clauses-bar.md). Evaluation only.
   */
  public static final String AFFECTION_PROBE_2 = "/evaluation/affection-2.jsonl";

  /** Statements about groups: hostile ones, every one to be held, and plain ones, none to be. */
  public record GroupStatements(List<String> hostile, List<String> plain) {}

  /**
   * The probes of statements about groups, by name: the first ({@link #hostileStatements()} and
   * {@link #plainGroupStatements()}, 2026-12-02), {@link #GROUP_PROBE}, {@link
   * #COUNTER_SPEECH_PROBE}, {@link #THIN_GROUPS_PROBE}, {@link #FRAMES_PROBE}, {@link
   * #AFFECTION_PROBE} and {@link #AFFECTION_PROBE_2}. Evaluation only.
   */
  public static Map<String, GroupStatements> groupProbes() {
    Map<String, GroupStatements> probes = new LinkedHashMap<>();
    probes.put(
        HOSTILE_STATEMENTS.substring(1) + ", " + PLAIN_GROUP_STATEMENTS.substring(1),
        new GroupStatements(hostileStatements(), plainGroupStatements()));
    for (String resource :
        List.of(
            GROUP_PROBE,
            COUNTER_SPEECH_PROBE,
            THIN_GROUPS_PROBE,
            FRAMES_PROBE,
            AFFECTION_PROBE,
            AFFECTION_PROBE_2)) {
      List<ProbeText> texts = probe(resource, "hostile", "plain");
      probes.put(
          resource.substring(1),
          new GroupStatements(
              texts.stream().filter(ProbeText::held).map(ProbeText::text).toList(),
              texts.stream().filter(t -> !t.held()).map(ProbeText::text).toList()));
    }
    return probes;
  }

  /**
   * Short statements of explicit hostility toward demographic groups, written for the quality
   * report (open dislike, dehumanizing, exclusion, sweeping stereotypes, wished harm): every one
   * should be held. Evaluation only: no training code reads them.
   */
  public static List<String> hostileStatements() {
    return statements(HOSTILE_STATEMENTS);
  }

  /**
   * Plain, benign statements about demographic groups in the same short shapes as {@link
   * #hostileStatements()}: none should be held. Evaluation only.
   */
  public static List<String> plainGroupStatements() {
    return statements(PLAIN_GROUP_STATEMENTS);
  }

  private static List<String> statements(String resource) {
    List<String> out = new ArrayList<>();
    for (String line : lines(resource)) {
      String statement = line.strip();
      if (!statement.isEmpty() && !statement.startsWith("#")) {
        out.add(statement);
      }
    }
    return out;
  }

  private static List<String> lines(String resource) {
    try (java.io.InputStream in = EvaluationSets.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the classpath");
      }
      return List.of(
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n"));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + resource, e);
    }
  }

  /** CoCoNot contrast prompts: benign requests that resemble ones a model should refuse. */
  public List<String> coconotContrast() {
    List<String> out = new ArrayList<>();
    for (JsonNode row :
        SharedDataSets.jsonLines(
            data.require("safety/noncompliance/data/coconot_contrast_eval.jsonl"))) {
      out.add(row.path("prompt").asText());
    }
    return out;
  }

  /**
   * One HolisticBias sentence; {@code noun} is null for a standalone noun phrase without a noun ("a
   * wheelchair user"), whose {@code descriptor} is the phrase itself.
   */
  public record HolisticSentence(
      String text,
      String axis,
      String bucket,
      String descriptor,
      boolean dispreferred,
      String noun,
      String template) {
    public boolean negativeTemplate() {
      return NEGATIVE_TEMPLATES.contains(template);
    }

    /** A sexual descriptor on a noun that names a child: not benign, reported apart. */
    public boolean sexualizesChild() {
      return noun != null
          && SEXUALIZING_DESCRIPTORS.contains(descriptor)
          && CHILD_NOUNS.contains(noun);
    }

    /** Neither a dislike template nor a child sexualized: what the benign rates count. */
    public boolean benign() {
      return !negativeTemplate() && !sexualizesChild();
    }
  }

  /**
   * The bucket of HolisticBias's standalone noun phrases ("a wheelchair user"), which have none.
   */
  public static final String STANDALONE_BUCKET = "(standalone)";

  /**
   * A deterministic uniform sample (without replacement) of {@code size} sentences from the
   * sentences HolisticBias v1.1's generator makes (ResponsibleNLP holistic_bias/src/sentences.py):
   * every descriptor with every noun, except that a descriptor with a {@code gender} ("Latina",
   * "trans male") takes only the nouns of that gender, with the descriptor's {@code article} where
   * it gives one ("a US-born woman"); and the standalone noun phrases ("a wheelchair user", "a
   * person with a disability", with every noun where the phrase has a {@code {noun}} slot); each
   * with every template, except that a phrase without a noun takes no template marked {@code
   * must_be_noun}. The generator's descriptor-alone phrases ("I'm Deaf.") and its controls without
   * a descriptor ("I'm a woman.") are not sampled.
   */
  public List<HolisticSentence> holisticBias(int size, long seed) {
    Path dir = data.require("holistic_bias/v1.1");
    try {
      JsonNode descriptors = JSON.readTree(dir.resolve("descriptors.json").toFile());
      JsonNode nouns = JSON.readTree(dir.resolve("nouns.json").toFile());
      JsonNode templates = JSON.readTree(dir.resolve("sentence_templates.json").toFile());
      JsonNode standalone = JSON.readTree(dir.resolve("standalone_noun_phrases.json").toFile());
      // noun, plural, gender group
      List<String[]> allNouns = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> groups = nouns.fields(); groups.hasNext(); ) {
        Map.Entry<String, JsonNode> group = groups.next();
        for (JsonNode pair : group.getValue()) {
          allNouns.add(new String[] {pair.get(0).asText(), pair.get(1).asText(), group.getKey()});
        }
      }
      record Phrase(
          String axis,
          String bucket,
          String descriptor,
          boolean dispreferred,
          String noun,
          String singular,
          String plural) {}
      List<Phrase> phrases = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> axes = descriptors.fields(); axes.hasNext(); ) {
        Map.Entry<String, JsonNode> axis = axes.next();
        for (Iterator<Map.Entry<String, JsonNode>> buckets = axis.getValue().fields();
            buckets.hasNext(); ) {
          Map.Entry<String, JsonNode> bucket = buckets.next();
          for (JsonNode d : bucket.getValue()) {
            String text = d.isTextual() ? d.asText() : d.path("descriptor").asText();
            boolean dispreferred =
                !d.isTextual() && "dispreferred".equals(d.path("preference").asText());
            String gender = d.isTextual() ? null : d.path("gender").asText(null);
            String article =
                d.isTextual() ? article(text) : d.path("article").asText(article(text));
            for (String[] noun : allNouns) {
              if (gender == null || gender.equals(noun[2])) {
                phrases.add(
                    new Phrase(
                        axis.getKey(),
                        bucket.getKey(),
                        text,
                        dispreferred,
                        noun[0],
                        article + " " + text + " " + noun[0],
                        text + " " + noun[1]));
              }
            }
          }
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> axes = standalone.fields(); axes.hasNext(); ) {
        Map.Entry<String, JsonNode> axis = axes.next();
        for (JsonNode p : axis.getValue()) {
          String singular = p.isTextual() ? p.asText() : p.path("noun_phrase").asText();
          String plural = p.isTextual() ? singular : p.path("plural_noun_phrase").asText(singular);
          boolean dispreferred =
              !p.isTextual() && "dispreferred".equals(p.path("preference").asText());
          if (singular.contains("{noun}")) {
            String descriptor = fill(singular, "", "");
            for (String[] noun : allNouns) {
              phrases.add(
                  new Phrase(
                      axis.getKey(),
                      STANDALONE_BUCKET,
                      descriptor,
                      dispreferred,
                      noun[0],
                      fill(singular, article(noun[0]), noun[0]),
                      fill(plural, "", noun[1])));
            }
          } else {
            phrases.add(
                new Phrase(
                    axis.getKey(),
                    STANDALONE_BUCKET,
                    singular,
                    dispreferred,
                    null,
                    singular,
                    plural));
          }
        }
      }
      List<String> allTemplates = new ArrayList<>();
      List<String> anyPhraseTemplates = new ArrayList<>();
      templates
          .fields()
          .forEachRemaining(
              t -> {
                allTemplates.add(t.getKey());
                if (!t.getValue().path("must_be_noun").asBoolean(false)) {
                  anyPhraseTemplates.add(t.getKey());
                }
              });
      // Sentence i of the product is template (i - start[p]) of phrase p's templates.
      long[] start = new long[phrases.size() + 1];
      for (int p = 0; p < phrases.size(); p++) {
        start[p + 1] =
            start[p] + (phrases.get(p).noun() == null ? anyPhraseTemplates : allTemplates).size();
      }
      long total = start[phrases.size()];
      Random random = new Random(seed);
      java.util.Set<Long> chosen = new java.util.LinkedHashSet<>();
      while (chosen.size() < Math.min(size, total)) {
        chosen.add(Math.floorMod(random.nextLong(), total));
      }
      List<HolisticSentence> out = new ArrayList<>();
      for (long index : chosen) {
        int p = java.util.Arrays.binarySearch(start, index);
        p = p >= 0 ? p : -p - 2;
        Phrase phrase = phrases.get(p);
        String template =
            (phrase.noun() == null ? anyPhraseTemplates : allTemplates)
                .get((int) (index - start[p]));
        String text =
            template
                .replace("{noun_phrase}", phrase.singular())
                .replace("{plural_noun_phrase}", phrase.plural());
        out.add(
            new HolisticSentence(
                text,
                phrase.axis(),
                phrase.bucket(),
                phrase.descriptor(),
                phrase.dispreferred(),
                phrase.noun(),
                template));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read HolisticBias from " + dir, e);
    }
  }

  /** A standalone noun phrase with its {article} and {noun} slots filled, trimmed. */
  private static String fill(String phrase, String article, String noun) {
    return phrase.replace("{article}", article).replace("{noun}", noun).strip();
  }

  static String article(String word) {
    String lower = word.toLowerCase(Locale.ROOT);
    boolean vowel = "aeiou".indexOf(lower.charAt(0)) >= 0;
    // Initialisms read letter by letter ("an LGBTQ", "an FTM") and silent-h words.
    if (word.length() > 1
        && Character.isUpperCase(word.charAt(0))
        && Character.isUpperCase(word.charAt(1))) {
      vowel = "AEFHILMNORSX".indexOf(word.charAt(0)) >= 0;
    } else if (lower.startsWith("honor") || lower.startsWith("hour")) {
      vowel = true;
    } else if (lower.startsWith("uni") || lower.startsWith("eu") || lower.startsWith("one")) {
      vowel = false;
    }
    return vowel ? "an" : "a";
  }
}
