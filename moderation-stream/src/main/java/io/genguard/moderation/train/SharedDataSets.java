package io.genguard.moderation.train;

import static io.genguard.moderation.scoring.Category.HARASSMENT;
import static io.genguard.moderation.scoring.Category.HATE;
import static io.genguard.moderation.scoring.Category.ILLICIT;
import static io.genguard.moderation.scoring.Category.SELF_HARM;
import static io.genguard.moderation.scoring.Category.SEXUAL;
import static io.genguard.moderation.scoring.Category.SEXUAL_MINORS;
import static io.genguard.moderation.scoring.Category.VIOLENCE;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.TextNormalizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads the shared data sets (see the data README) into labelled texts, mapping each source's own
 * taxonomy onto GenGuard's categories. Where a source does not say whether a text falls in a
 * category the label is unknown, so the head for that category neither learns from it nor is
 * evaluated on it. Sets reserved for evaluation (XSTest, CoCoNot contrast, HolisticBias) are read
 * by {@link EvaluationSets} and never by the training loaders here.
 */
public final class SharedDataSets {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CsvMapper CSV = new CsvMapper();

  private final Path dataDir;

  public SharedDataSets(Path dataDir) {
    this.dataDir = dataDir;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** All training sources (before deduplication and splitting). */
  public List<LabelledText> trainingPool() {
    List<LabelledText> all = new ArrayList<>();
    all.addAll(toxigen());
    all.addAll(davidson());
    all.addAll(simpleSafetyTests());
    all.addAll(harmBench());
    all.addAll(strongReject());
    all.addAll(advBench());
    all.addAll(aart());
    all.addAll(jailbreakBench());
    all.addAll(coconotBenign());
    all.addAll(bold());
    return all;
  }

  /** ToxiGen prompts: implicitly hateful or neutral statements about 16 target groups. */
  public List<LabelledText> toxigen() {
    List<LabelledText> out = new ArrayList<>();
    Path dir = require("toxigen");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.sorted().toList()) {
        String name = file.getFileName().toString();
        if (!name.endsWith("_1k.txt")) {
          continue;
        }
        boolean hate = name.startsWith("hate_");
        Set<String> statements = new LinkedHashSet<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          // Each line is several statements joined by a literal backslash-n, each prefixed "- ".
          for (String part : line.split("\\\\n")) {
            String statement = part.strip();
            if (statement.startsWith("-")) {
              statement = statement.substring(1).strip();
            }
            if (!statement.isEmpty()) {
              statements.add(statement);
            }
          }
        }
        for (String statement : statements) {
          out.add(
              hate
                  ? LabelledText.unsafe(
                      "toxigen", null, statement, EnumSet.of(HATE), EnumSet.of(HARASSMENT))
                  : LabelledText.benign("toxigen", null, statement));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read ToxiGen from " + dir, e);
    }
    return out;
  }

  /** Davidson et al. 2017 tweets: hate speech, offensive language, or neither. */
  public List<LabelledText> davidson() {
    List<LabelledText> out = new ArrayList<>();
    for (Map<String, String> row : csv(require("davidson/labeled_data.csv"))) {
      String tweet = row.get("tweet");
      if (tweet == null || tweet.isBlank()) {
        continue;
      }
      switch (row.get("class")) {
        case "0" ->
            out.add(
                LabelledText.unsafe(
                    "davidson", null, tweet, EnumSet.of(HATE), EnumSet.of(HARASSMENT)));
        // Annotators chose "offensive" over "hate": insulting, profane, not hateful.
        case "1" ->
            out.add(
                LabelledText.unsafe(
                    "davidson",
                    null,
                    tweet,
                    EnumSet.of(HARASSMENT),
                    EnumSet.noneOf(Category.class)));
        case "2" -> out.add(LabelledText.benign("davidson", null, tweet));
        default ->
            throw new IllegalStateException("Davidson row with unknown class " + row.get("class"));
      }
    }
    return out;
  }

  /** SimpleSafetyTests: 100 clearly unsafe prompts in five harm areas. */
  public List<LabelledText> simpleSafetyTests() {
    List<LabelledText> out = new ArrayList<>();
    for (Map<String, String> row :
        csv(require("safety/SimpleSafetyTests/SimpleSafetyTests - test cases.csv"))) {
      String area = row.get("harm_area");
      Set<Category> positives =
          switch (area) {
            case "Suicide, Self-Harm, and Eating Disorders" -> EnumSet.of(SELF_HARM);
            case "Physical harm and Violence" -> EnumSet.of(VIOLENCE);
            case "Illegal and Highly Regulated items", "Scams and fraud" -> EnumSet.of(ILLICIT);
            case "Child safety" -> EnumSet.of(SEXUAL_MINORS, SEXUAL);
            default -> throw new IllegalStateException("SimpleSafetyTests harm area " + area);
          };
      out.add(
          LabelledText.unsafe(
              "simple-safety-tests", null, row.get("prompts_final"), positives, Set.of()));
    }
    return out;
  }

  /** HarmBench behaviours (copyright and misinformation are outside GenGuard's categories). */
  public List<LabelledText> harmBench() {
    List<LabelledText> out = new ArrayList<>();
    Path file =
        require("safety/AdversariaLLM/data/behavior_datasets/harmbench_behaviors_text_all.csv");
    for (Map<String, String> row : csv(file)) {
      String category = row.get("SemanticCategory");
      String text = row.get("Behavior");
      switch (category) {
        case "cybercrime_intrusion", "illegal" ->
            out.add(
                LabelledText.unsafe(
                    "harmbench", null, text, EnumSet.of(ILLICIT), EnumSet.of(VIOLENCE)));
        case "chemical_biological" ->
            out.add(
                LabelledText.unsafe(
                    "harmbench", null, text, EnumSet.of(ILLICIT), EnumSet.of(VIOLENCE)));
        case "harassment_bullying" ->
            out.add(
                LabelledText.unsafe(
                    "harmbench", null, text, EnumSet.of(HARASSMENT), EnumSet.of(HATE)));
        case "harmful" -> out.add(LabelledText.unsafe("harmbench", null, text, Set.of(), Set.of()));
        case "copyright", "misinformation_disinformation" -> {}
        default -> throw new IllegalStateException("HarmBench category " + category);
      }
    }
    return out;
  }

  /** StrongREJECT forbidden prompts (disinformation is outside GenGuard's categories). */
  public List<LabelledText> strongReject() {
    List<LabelledText> out = new ArrayList<>();
    Path file = require("safety/AdversariaLLM/data/behavior_datasets/strongreject_dataset.csv");
    for (Map<String, String> row : csv(file)) {
      String category = row.get("category");
      String text = row.get("forbidden_prompt");
      switch (category) {
        case "Non-violent crimes", "Illegal goods and services" ->
            out.add(
                LabelledText.unsafe(
                    "strongreject", null, text, EnumSet.of(ILLICIT), EnumSet.of(VIOLENCE)));
        case "Violence" ->
            out.add(
                LabelledText.unsafe(
                    "strongreject", null, text, EnumSet.of(VIOLENCE), EnumSet.of(ILLICIT)));
        case "Hate, harassment and discrimination" ->
            out.add(
                LabelledText.unsafe(
                    "strongreject", null, text, EnumSet.of(HARASSMENT), EnumSet.of(HATE)));
        case "Sexual content" ->
            out.add(
                LabelledText.unsafe(
                    "strongreject",
                    null,
                    text,
                    EnumSet.of(SEXUAL),
                    EnumSet.of(SEXUAL_MINORS, HARASSMENT)));
        case "Disinformation and deception" -> {}
        default -> throw new IllegalStateException("StrongREJECT category " + category);
      }
    }
    return out;
  }

  /** AdvBench harmful behaviours: unsafe, categories not given. */
  public List<LabelledText> advBench() {
    List<LabelledText> out = new ArrayList<>();
    Path file =
        require(
            "safety/AdversariaLLM/data/behavior_datasets/extra_behavior_datasets/advbench_behaviors.csv");
    for (Map<String, String> row : csv(file)) {
      out.add(LabelledText.unsafe("advbench", null, row.get("Behavior"), Set.of(), Set.of()));
    }
    return out;
  }

  /**
   * AART adversarial prompts, mapped by their {@code crime} value; topics that are not unsafe
   * content in themselves (horse racing, smoking, landfills...) are left out.
   */
  public List<LabelledText> aart() {
    List<LabelledText> out = new ArrayList<>();
    for (Map<String, String> row :
        csv(require("safety/aart-ai-safety-dataset/aart-v1-20231117.csv"))) {
      Set<Category> positives = aartCategories(row.get("crime"));
      if (positives != null) {
        out.add(LabelledText.unsafe("aart", null, row.get("prompt"), positives, Set.of()));
      }
    }
    return out;
  }

  static Set<Category> aartCategories(String crime) {
    return switch (crime.toLowerCase(Locale.ROOT)) {
      case "terrorism",
          "violence",
          "assassinations",
          "bombings",
          "murder",
          "assault",
          "kidnapping",
          "kidnappings",
          "domestic violence",
          "hijackings",
          "acts of violence committed for political or ideological purposes",
          "arson",
          "animal abuse",
          "animal cruelty",
          "dog fighting",
          "cockfighting" ->
          EnumSet.of(VIOLENCE);
      case "hate crimes",
          "crimes motivated by race",
          "crimes motivated by disability",
          "crimes motivated by religion",
          "crimes motivated by gender identity",
          "crimes motivated by sexual orientation" ->
          EnumSet.of(HATE, VIOLENCE);
      case "rape" -> EnumSet.of(SEXUAL, VIOLENCE);
      case "pornography", "prostitution" -> EnumSet.of(SEXUAL);
      case "sex trafficking" -> EnumSet.of(SEXUAL, ILLICIT);
      case "robbery" -> EnumSet.of(ILLICIT, VIOLENCE);
      case "other crimes",
          "credit card fraud",
          "corporate fraud",
          "fraud",
          "identity theft",
          "cyberterrorism",
          "vandalism",
          "financial crimes",
          "property crimes",
          "burglary",
          "embezzlement",
          "drug crimes",
          "drug dealing",
          "drug trafficking",
          "drug possession",
          "drug manufacturing",
          "migrant smuggling",
          "money laundering",
          "labor trafficking",
          "child trafficking",
          "theft",
          "pyramid schemes",
          "ponzi schemes",
          "tax evasion",
          "human trafficking",
          "organ trafficking",
          "shoplifting",
          "illegal dumping",
          "environmental crimes",
          "driving under the influence" ->
          EnumSet.of(ILLICIT);
      default ->
          null; // horse racing, smoking, gambling, pollution, circuses...: not unsafe content
    };
  }

  /**
   * JailbreakBench artifacts: behaviour goals and attack prompts (unsafe requests) and the target
   * models' responses, unsafe when the judge says jailbroken and benign otherwise (mostly
   * refusals). Everything about one behaviour shares a split group, named by its normalized goal.
   */
  public List<LabelledText> jailbreakBench() {
    List<LabelledText> out = new ArrayList<>();
    Path dir = require("safety/jailbreakbench-artifacts/attack-artifacts");
    Set<String> seenGoals = new LinkedHashSet<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        JsonNode root = JSON.readTree(file.toFile());
        for (JsonNode jailbreak : root.path("jailbreaks")) {
          String goal = jailbreak.path("goal").asText();
          // The behaviour's group is its goal, normalized: a copy of the goal in AdvBench,
          // HarmBench or StrongREJECT lands in the behaviour's split (DeduplicatedSplit).
          String group = TextNormalizer.splitKey(goal);
          Set<Category> positives = jailbreakBenchCategories(jailbreak.path("category").asText());
          String prompt = textOrNull(jailbreak.get("prompt"));
          String response = textOrNull(jailbreak.get("response"));
          if (positives != null) {
            if (seenGoals.add(goal)) {
              out.add(LabelledText.unsafe("jailbreakbench-goal", group, goal, positives, Set.of()));
            }
            if (prompt != null) {
              out.add(
                  LabelledText.unsafe("jailbreakbench-prompt", group, prompt, positives, Set.of()));
            }
          }
          if (response != null && !response.isBlank()) {
            if (!jailbreak.path("jailbroken").asBoolean()) {
              out.add(LabelledText.benign("jailbreakbench-response", group, response));
            } else if (positives != null) {
              out.add(
                  LabelledText.unsafe(
                      "jailbreakbench-response", group, response, positives, Set.of()));
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read JailbreakBench artifacts from " + dir, e);
    }
    return out;
  }

  static Set<Category> jailbreakBenchCategories(String category) {
    return switch (category) {
      case "Harassment/Discrimination" -> EnumSet.of(HARASSMENT);
      case "Malware/Hacking", "Fraud/Deception", "Economic harm" -> EnumSet.of(ILLICIT);
      case "Physical harm" -> EnumSet.of(VIOLENCE);
      case "Sexual/Adult content" -> EnumSet.of(SEXUAL);
      default -> null; // Disinformation, Privacy, Expert advice, Government decision-making
    };
  }

  /**
   * CoCoNot prompts that are benign (incomplete, unsupported, indeterminate or humanizing requests)
   * and the preferred responses of the preference set. The contrast set is reserved for evaluation.
   */
  public List<LabelledText> coconotBenign() {
    List<LabelledText> out = new ArrayList<>();
    for (String name : List.of("coconot_eval.jsonl", "coconot_pref.jsonl")) {
      Path file = require("safety/noncompliance/data/" + name);
      for (JsonNode row : jsonLines(file)) {
        String category = row.path("category").asText();
        String prompt = row.path("prompt").asText();
        if (!category.equals("Requests with safety concerns") && !prompt.isBlank()) {
          out.add(LabelledText.benign("coconot", null, prompt));
        }
        String chosen = textOrNull(row.get("chosen"));
        if (chosen != null && !chosen.isBlank()) {
          out.add(LabelledText.benign("coconot-response", null, chosen));
        }
      }
    }
    return out;
  }

  /** BOLD prompts: benign beginnings of Wikipedia sentences about people and groups. */
  public List<LabelledText> bold() {
    List<LabelledText> out = new ArrayList<>();
    Path dir = require("bold");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(p -> p.toString().endsWith("_prompt.json")).sorted().toList()) {
        JsonNode root = JSON.readTree(file.toFile());
        for (JsonNode groupNode : root) {
          for (JsonNode person : groupNode) {
            for (JsonNode prompt : person) {
              String text = prompt.asText().strip();
              if (!text.isEmpty()) {
                out.add(LabelledText.benign("bold", null, text));
              }
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read BOLD from " + dir, e);
    }
    return out;
  }

  Path require(String relative) {
    Path path = dataDir.resolve(relative);
    if (!Files.exists(path)) {
      throw new IllegalStateException(
          "Shared data file "
              + path
              + " is missing; the data folder "
              + dataDir
              + " must hold the sets listed in its README (set "
              + DataDirectory.ENV
              + " or --data-dir to point elsewhere)");
    }
    return path;
  }

  static List<Map<String, String>> csv(Path file) {
    CsvSchema schema = CsvSchema.emptySchema().withHeader();
    try (MappingIterator<Map<String, String>> rows =
        CSV.readerForMapOf(String.class)
            .with(schema)
            .with(CsvParser.Feature.WRAP_AS_ARRAY)
            .readValues(file.toFile())) {
      return rows.readAll();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read CSV " + file + ": " + e.getMessage(), e);
    }
  }

  static List<JsonNode> jsonLines(Path file) {
    List<JsonNode> rows = new ArrayList<>();
    try {
      int lineNumber = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        lineNumber++;
        if (!line.isBlank()) {
          try {
            rows.add(JSON.readTree(line));
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + " line " + lineNumber + ": " + e.getOriginalMessage(), e);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read JSON lines " + file, e);
    }
    return rows;
  }

  static String textOrNull(JsonNode node) {
    return node == null || node.isNull() ? null : node.asText();
  }
}
