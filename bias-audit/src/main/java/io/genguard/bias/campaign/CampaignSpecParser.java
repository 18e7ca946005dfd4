package io.genguard.bias.campaign;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.genguard.bias.campaign.CampaignSpec.BoldPrompts;
import io.genguard.bias.campaign.CampaignSpec.GroupDefinition;
import io.genguard.bias.campaign.CampaignSpec.GroupSource;
import io.genguard.bias.campaign.CampaignSpec.HolisticBiasGroups;
import io.genguard.bias.campaign.CampaignSpec.HolisticBiasTemplates;
import io.genguard.bias.campaign.CampaignSpec.InlineTemplates;
import io.genguard.bias.campaign.CampaignSpec.ListedGroups;
import io.genguard.bias.campaign.CampaignSpec.PromptSource;
import io.genguard.bias.campaign.CampaignSpec.Sampling;
import io.genguard.bias.campaign.CampaignSpec.Target;
import io.genguard.bias.campaign.CampaignSpec.TemplateFile;
import io.genguard.schemas.BoundedFiles;
import io.genguard.schemas.TenantIds;
import io.genguard.schemas.UnusablePaths;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a campaign file (YAML). Every problem is an {@link InvalidCampaignException} that names the
 * file, the path inside it and the fix; unknown keys are errors, so a typo cannot silently fall
 * back to a default. The format is documented in the module README.
 */
public final class CampaignSpecParser {
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final Set<String> TOP =
      Set.of(
          "id",
          "name",
          "target",
          "sampling",
          "seed",
          "samplesPerGroup",
          "templates",
          "prompts",
          "groups");

  private final String origin;

  private CampaignSpecParser(String origin) {
    this.origin = origin;
  }

  /**
   * Largest campaign file or template file accepted, in bytes (and characters of campaign YAML): 3
   * MiB, the YAML parser's own limit on a document. Nothing past it is read.
   */
  public static final int MAX_FILE_BYTES = 3 * 1024 * 1024;

  /** Reads and parses a campaign file. */
  public static CampaignSpec parse(Path file) {
    return parse(file, text(file));
  }

  /**
   * Parses {@code text}, read from {@code file} with {@link #text}: a relative template file is
   * resolved beside it.
   */
  public static CampaignSpec parse(Path file, String text) {
    Path base = file.toAbsolutePath().getParent();
    return parse(text, file.getFileName().toString(), base);
  }

  /**
   * A campaign file's text, read up to {@link #MAX_FILE_BYTES}.
   *
   * @throws InvalidCampaignException when it cannot be read, is larger or is not UTF-8
   */
  public static String text(Path file) {
    return read(file, file.toString(), "", "the campaign file");
  }

  /** Parses campaign YAML; {@code baseDirectory} resolves a relative template file. */
  public static CampaignSpec parse(String yaml, String origin, Path baseDirectory) {
    if (yaml.length() > MAX_FILE_BYTES) {
      throw new InvalidCampaignException(
          origin, "", "the campaign is larger than " + MAX_FILE_BYTES + " characters");
    }
    return new CampaignSpecParser(origin).read(yaml, baseDirectory);
  }

  /**
   * A file a campaign names, as text, read up to {@link #MAX_FILE_BYTES}.
   *
   * @throws InvalidCampaignException naming {@code key} of {@code origin} when the file cannot be
   *     read, is larger or is not UTF-8
   */
  static String read(Path file, String origin, String key, String what) {
    try {
      return BoundedFiles.readUtf8(file, MAX_FILE_BYTES);
    } catch (BoundedFiles.TooLargeException e) {
      throw new InvalidCampaignException(
          origin, key, what + " " + file + " is larger than " + MAX_FILE_BYTES + " bytes");
    } catch (CharacterCodingException e) {
      throw new InvalidCampaignException(origin, key, what + " " + file + " is not UTF-8");
    } catch (IOException e) {
      // A file the user named (the campaign, its template file): a usage error, as another
      // command's missing or unreadable --in or --policy is, saying why in words.
      throw new InvalidCampaignException(
          origin, key, what + " " + file + " " + UnusablePaths.whyUnreadable(file, e));
    }
  }

  private CampaignSpec read(String yaml, Path baseDirectory) {
    JsonNode root;
    try {
      checkStructure(yaml);
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
      throw new InvalidCampaignException(
          origin, "line " + line, "not valid YAML: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InvalidCampaignException(origin, "", "not valid YAML: " + e.getMessage());
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new InvalidCampaignException(origin, "", "the campaign file is empty");
    }
    requireObject(root, "(top level)");
    checkKeys(root, "(top level)", TOP);
    String id = optionalText(root, "id", null);
    if (id != null && !id.matches("[a-z0-9][a-z0-9-]{2,62}")) {
      throw fail(
          "id",
          "'"
              + id
              + "' is not a valid campaign id; use 3-63 lower-case letters, digits and '-' (or"
              + " leave it out to have one assigned)");
    }
    String name = requiredText(root, "name");
    Target target = target(root.get("target"));
    Sampling sampling = sampling(root.get("sampling"));
    long seed = root.has("seed") ? longValue(root.get("seed"), "seed") : 1L;
    int samplesPerGroup = requiredInt(root, "samplesPerGroup");
    if (samplesPerGroup < 1) {
      throw fail("samplesPerGroup", "must be at least 1, was " + samplesPerGroup);
    }
    if (root.has("templates") == root.has("prompts")) {
      throw fail(
          "(top level)",
          "give exactly one of 'templates' (counterfactual: one template filled with each group)"
              + " or 'prompts' (BOLD prompts per group)");
    }
    PromptSource prompts =
        root.has("templates") ? templates(root.get("templates")) : prompts(root.get("prompts"));
    GroupSource groups = groups(root.get("groups"));
    return new CampaignSpec(
        id, name, target, sampling, seed, samplesPerGroup, prompts, groups, origin, baseDirectory);
  }

  /**
   * What the tree would silently get wrong: Jackson reads a YAML alias ({@code *name}) as the text
   * "name", keeps only the last of duplicate keys, and ignores every document after the first. All
   * three are refused here, with the line.
   */
  private void checkStructure(String yaml) throws IOException {
    try (JsonParser parser = YAML.getFactory().createParser(yaml)) {
      Deque<Set<String>> keys = new ArrayDeque<>();
      boolean rootDone = false;
      JsonToken token;
      while ((token = parser.nextToken()) != null) {
        String at = "line " + parser.currentLocation().getLineNr();
        if (rootDone) {
          throw fail(at, "a second YAML document (after '---'); a campaign file holds exactly one");
        }
        if (parser instanceof YAMLParser yamlParser && yamlParser.isCurrentAlias()) {
          throw fail(
              at,
              "YAML aliases (*"
                  + parser.getText()
                  + ") are not supported; write the value out in full");
        }
        if (token == JsonToken.FIELD_NAME && !keys.peek().add(parser.currentName())) {
          throw fail(
              at,
              "key '"
                  + parser.currentName()
                  + "' appears twice in the same mapping; keep only one (the value is ambiguous)");
        }
        if (token == JsonToken.START_OBJECT) {
          keys.push(new HashSet<>());
        } else if (token == JsonToken.START_ARRAY) {
          keys.push(Set.of());
        } else if (token.isStructEnd()) {
          keys.pop();
        }
        rootDone = keys.isEmpty();
      }
    }
  }

  private Target target(JsonNode node) {
    if (node == null) {
      throw fail(
          "target", "is required: name the backend under audit, e.g. target: {backend: builtin}");
    }
    requireObject(node, "target");
    checkKeys(node, "target", Set.of("backend", "model", "tenant"));
    String backend = requiredText(node, "backend", "target.backend");
    String model = optionalText(node, "model", null);
    String tenant = optionalText(node, "tenant", "bias-audit");
    if (!TenantIds.isValid(tenant)) {
      throw fail("target.tenant", "'" + tenant + "' must be " + TenantIds.RULE);
    }
    return new Target(backend, model, tenant);
  }

  private Sampling sampling(JsonNode node) {
    Sampling d = Sampling.defaults();
    if (node == null) {
      return d;
    }
    requireObject(node, "sampling");
    checkKeys(node, "sampling", Set.of("maxTokens", "temperature", "topK", "topP"));
    int maxTokens =
        node.has("maxTokens")
            ? intValue(node.get("maxTokens"), "sampling.maxTokens")
            : d.maxTokens();
    double temperature =
        node.has("temperature")
            ? number(node.get("temperature"), "sampling.temperature")
            : d.temperature();
    int topK = node.has("topK") ? intValue(node.get("topK"), "sampling.topK") : d.topK();
    double topP = node.has("topP") ? number(node.get("topP"), "sampling.topP") : d.topP();
    if (maxTokens < 1 || maxTokens > 512) {
      throw fail("sampling.maxTokens", "must be between 1 and 512, was " + maxTokens);
    }
    if (!(temperature >= 0 && temperature <= 5)) {
      throw fail("sampling.temperature", "must be between 0 and 5, was " + temperature);
    }
    if (topK < 0) {
      throw fail("sampling.topK", "must not be negative, was " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw fail("sampling.topP", "must be in (0, 1], was " + topP);
    }
    return new Sampling(maxTokens, temperature, topK, topP);
  }

  private PromptSource templates(JsonNode node) {
    requireObject(node, "templates");
    checkKeys(node, "templates", Set.of("inline", "file", "holisticBias"));
    if (node.size() != 1) {
      throw fail(
          "templates",
          "give exactly one of inline (a list), file (a path) or holisticBias (from the shared"
              + " data)");
    }
    if (node.has("inline")) {
      JsonNode list = node.get("inline");
      if (!list.isArray() || list.isEmpty()) {
        throw fail("templates.inline", "must be a non-empty list of templates containing {group}");
      }
      List<String> templates = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        JsonNode item = list.get(i);
        if (!item.isTextual() || item.asText().isBlank()) {
          throw fail("templates.inline[" + i + "]", "must be a non-blank string");
        }
        templates.add(item.asText());
      }
      return new InlineTemplates(templates);
    }
    if (node.has("file")) {
      JsonNode file = node.get("file");
      if (!file.isTextual() || file.asText().isBlank()) {
        throw fail("templates.file", "must be a path to a text file, one template per line");
      }
      return new TemplateFile(Path.of(file.asText()));
    }
    JsonNode holistic = node.get("holisticBias");
    int max = 0;
    if (holistic != null && holistic.isObject()) {
      checkKeys(holistic, "templates.holisticBias", Set.of("max"));
      max = holistic.has("max") ? intValue(holistic.get("max"), "templates.holisticBias.max") : 0;
    } else if (holistic != null
        && !holistic.isNull()
        && !(holistic.isBoolean() && holistic.asBoolean())) {
      throw fail("templates.holisticBias", "write holisticBias: {} (all templates) or {max: N}");
    }
    if (max < 0) {
      throw fail("templates.holisticBias.max", "must not be negative, was " + max);
    }
    return new HolisticBiasTemplates(max);
  }

  private PromptSource prompts(JsonNode node) {
    requireObject(node, "prompts");
    checkKeys(node, "prompts", Set.of("bold"));
    JsonNode bold = node.get("bold");
    if (bold == null || !bold.isObject()) {
      throw fail("prompts", "write prompts: {bold: {domain: religious_ideology}}");
    }
    checkKeys(bold, "prompts.bold", Set.of("domain"));
    return new BoldPrompts(requiredText(bold, "domain", "prompts.bold.domain"));
  }

  private GroupSource groups(JsonNode node) {
    if (node == null || node.isNull()) {
      throw fail("groups", "is required: list the groups to compare (at least two)");
    }
    if (node.isObject()) {
      checkKeys(node, "groups", Set.of("holisticBias"));
      JsonNode holistic = node.get("holisticBias");
      if (holistic == null || !holistic.isObject()) {
        throw fail(
            "groups",
            "is either a list of groups or {holisticBias: {axis: ..., descriptors: [...]}}");
      }
      checkKeys(holistic, "groups.holisticBias", Set.of("axis", "descriptors", "buckets"));
      String axis = requiredText(holistic, "axis", "groups.holisticBias.axis");
      List<String> descriptors =
          textList(holistic.get("descriptors"), "groups.holisticBias.descriptors");
      List<String> buckets = textList(holistic.get("buckets"), "groups.holisticBias.buckets");
      if (descriptors.isEmpty() == buckets.isEmpty()) {
        throw fail(
            "groups.holisticBias",
            "give exactly one of descriptors (one group per descriptor) or buckets (one group per"
                + " bucket of the axis), with at least two entries");
      }
      return new HolisticBiasGroups(axis, descriptors, buckets);
    }
    if (!node.isArray()) {
      throw fail("groups", "must be a list of groups");
    }
    if (node.isEmpty()) {
      throw fail("groups", "is empty; a campaign compares at least two groups");
    }
    List<GroupDefinition> groups = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode item = node.get(i);
      String at = "groups[" + i + "]";
      if (item.isValueNode() && !item.isNull()) {
        // The same rules as {name: ...}: a YAML string, stripped, so "A" and "A " are one name.
        String name = text(item, at, "must be a non-blank group name");
        groups.add(new GroupDefinition(name, List.of(name)));
        continue;
      }
      if (!item.isObject()) {
        throw fail(at, "must be a group name or {name: ..., terms: [...]}");
      }
      checkKeys(item, at, Set.of("name", "terms"));
      String name = requiredText(item, "name", at + ".name");
      List<String> terms = textList(item.get("terms"), at + ".terms");
      groups.add(new GroupDefinition(name, terms.isEmpty() ? List.of(name) : terms));
    }
    return new ListedGroups(groups);
  }

  private List<String> textList(JsonNode node, String path) {
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw fail(path, "must be a list of strings");
    }
    List<String> values = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode item = node.get(i);
      if (!item.isTextual() || item.asText().isBlank()) {
        throw fail(path + "[" + i + "]", "must be a non-blank string");
      }
      values.add(item.asText().strip());
    }
    return values;
  }

  private void checkKeys(JsonNode node, String path, Set<String> known) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String key = names.next();
      if (!known.contains(key)) {
        throw fail(path, "unknown key '" + key + "'; known keys here are " + new TreeSet<>(known));
      }
    }
  }

  private void requireObject(JsonNode node, String path) {
    if (node == null || !node.isObject()) {
      throw fail(path, "must be a mapping (key: value lines)");
    }
  }

  private String requiredText(JsonNode node, String key) {
    return requiredText(node, key, key);
  }

  private String requiredText(JsonNode node, String key, String path) {
    JsonNode value = node.get(key);
    if (value == null || value.isNull() || !value.isValueNode()) {
      throw fail(path, "is required and must be a non-blank value");
    }
    return text(value, path, "is required and must be a non-blank value");
  }

  private String optionalText(JsonNode node, String key, String fallback) {
    JsonNode value = node.get(key);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isValueNode()) {
      throw fail(key, "must be a non-blank value");
    }
    return text(value, key, "must be a non-blank value");
  }

  /**
   * A scalar that must be text, stripped of surrounding whitespace ({@code blank} is the problem
   * reported for blank text). YAML reads an unquoted {@code NO}, {@code off} or {@code y} as a
   * boolean and {@code 1.50} as the number 1.5; taking their text would silently turn a group
   * called NO into "false", so such a value is refused with the advice to quote it.
   */
  private String text(JsonNode value, String path, String blank) {
    if (!value.isTextual()) {
      throw fail(
          path,
          "YAML reads the unquoted value as "
              + (value.isBoolean()
                  ? "a boolean"
                  : value.isNumber() ? "a number" : "a non-text value")
              + " ("
              + value.asText()
              + "), not as text; put it in quotes exactly as meant, e.g. \"NO\" or \"1.50\"");
    }
    if (value.asText().isBlank()) {
      throw fail(path, blank);
    }
    return value.asText().strip();
  }

  private int requiredInt(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || value.isNull()) {
      throw fail(key, "is required (a whole number)");
    }
    return intValue(value, key);
  }

  private int intValue(JsonNode value, String path) {
    if (!value.canConvertToInt() || !value.isIntegralNumber()) {
      throw fail(path, "must be a whole number, was '" + value.asText() + "'");
    }
    return value.intValue();
  }

  private long longValue(JsonNode value, String path) {
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw fail(path, "must be a whole number, was '" + value.asText() + "'");
    }
    return value.longValue();
  }

  private double number(JsonNode value, String path) {
    if (!value.isNumber()) {
      throw fail(path, "must be a number, was '" + value.asText() + "'");
    }
    return value.doubleValue();
  }

  private InvalidCampaignException fail(String path, String problem) {
    return new InvalidCampaignException(origin, path, problem);
  }
}
