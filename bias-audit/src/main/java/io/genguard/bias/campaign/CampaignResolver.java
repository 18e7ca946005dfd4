package io.genguard.bias.campaign;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.bias.campaign.CampaignSpec.BoldPrompts;
import io.genguard.bias.campaign.CampaignSpec.GroupDefinition;
import io.genguard.bias.campaign.CampaignSpec.HolisticBiasGroups;
import io.genguard.bias.campaign.CampaignSpec.HolisticBiasTemplates;
import io.genguard.bias.campaign.CampaignSpec.InlineTemplates;
import io.genguard.bias.campaign.CampaignSpec.ListedGroups;
import io.genguard.bias.campaign.CampaignSpec.TemplateFile;
import io.genguard.bias.campaign.ResolvedCampaign.DataSource;
import io.genguard.bias.campaign.ResolvedCampaign.Design;
import io.genguard.bias.campaign.ResolvedCampaign.ResolvedGroup;
import io.genguard.bias.campaign.ResolvedCampaign.Term;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Checks a campaign against everything it depends on before anything is submitted: the backend and
 * model (the stack's catalogue), the size limit, every template's group slot, and the groups
 * (unknown HolisticBias descriptors or BOLD groups are refused with the known ones listed). Shared
 * data are read at run time from the data folder; nothing of them is stored in the project.
 */
public final class CampaignResolver {
  /** Where the HolisticBias v1.1 files live inside the shared data folder. */
  public static final String HOLISTIC_BIAS = "holistic_bias/v1.1/";

  /** Longest prompt the API accepts (RequestSubmitter.SubmissionLimits.defaults()). */
  static final int MAX_PROMPT_CHARS = 8_000;

  static final int MAX_GROUP_NAME = CampaignAttributes.MAX_GROUP_NAME;

  private final Supplier<Path> dataDirectory;

  /**
   * @param dataDirectory the shared data folder, asked for only when a campaign uses BOLD or
   *     HolisticBias
   */
  public CampaignResolver(Supplier<Path> dataDirectory) {
    this.dataDirectory = dataDirectory;
  }

  public ResolvedCampaign resolve(CampaignSpec spec, CampaignLimits limits) {
    String origin = spec.origin();
    String problem = limits.catalog().problem(spec.target().backend(), spec.target().model());
    if (problem != null) {
      throw new InvalidCampaignException(
          origin, spec.target().model() == null ? "target.backend" : "target.model", problem);
    }
    List<DataSource> sources = new ArrayList<>();
    List<ResolvedGroup> groups;
    List<String> templates = List.of();
    Design design;
    if (spec.prompts() instanceof BoldPrompts bold) {
      design = Design.STRATIFIED;
      groups = boldGroups(spec, bold, sources);
    } else {
      design = Design.COUNTERFACTUAL;
      templates = templates(spec, sources);
      groups = counterfactualGroups(spec, sources);
    }
    checkGroups(spec, groups);
    long planned = (long) groups.size() * spec.samplesPerGroup();
    if (planned > limits.maxSamples()) {
      throw new InvalidCampaignException(
          origin,
          "samplesPerGroup",
          "the campaign plans "
              + planned
              + " requests ("
              + groups.size()
              + " groups x "
              + spec.samplesPerGroup()
              + "), more than the limit of "
              + limits.maxSamples()
              + " ("
              + CampaignLimits.MAX_SAMPLES
              + " or --max-samples); lower samplesPerGroup or split the groups over several"
              + " campaigns");
    }
    ResolvedCampaign resolved = new ResolvedCampaign(spec, design, templates, groups, sources);
    checkPromptLengths(resolved);
    return resolved;
  }

  private List<String> templates(CampaignSpec spec, List<DataSource> sources) {
    String origin = spec.origin();
    List<String> templates = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    if (spec.prompts() instanceof InlineTemplates inline) {
      for (int i = 0; i < inline.templates().size(); i++) {
        templates.add(inline.templates().get(i));
        paths.add("templates.inline[" + i + "]");
      }
    } else if (spec.prompts() instanceof TemplateFile file) {
      Path path =
          spec.baseDirectory() == null ? file.file() : spec.baseDirectory().resolve(file.file());
      String text = CampaignSpecParser.read(path, origin, "templates.file", "the template file");
      // An editor's UTF-8 byte-order mark (Notepad, Excel's "CSV UTF-8") is not text: U+FEFF is
      // not whitespace to strip(), so it turned a first "# comment" into a template without a
      // slot, or rode invisibly into every prompt of a first template.
      if (text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
      List<String> lines = text.lines().toList();
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (!line.isEmpty() && !line.startsWith("#")) {
          templates.add(line);
          paths.add("templates.file " + path.getFileName() + " line " + (i + 1));
        }
      }
      if (templates.isEmpty()) {
        throw new InvalidCampaignException(
            origin, "templates.file", path + " holds no template (only blank or # lines)");
      }
    } else if (spec.prompts() instanceof HolisticBiasTemplates holistic) {
      SharedData.Document document =
          SharedData.read(
              dataDirectory.get(),
              HOLISTIC_BIAS + "sentence_templates.json",
              origin,
              "templates.holisticBias");
      sources.add(document.source());
      Iterator<String> names = document.json().fieldNames();
      while (names.hasNext() && (holistic.max() == 0 || templates.size() < holistic.max())) {
        templates.add(names.next());
        paths.add("templates.holisticBias[" + templates.size() + "]");
      }
    } else {
      throw new IllegalStateException("BOLD prompts are not templates");
    }
    for (int i = 0; i < templates.size(); i++) {
      String problem = TemplateSlots.problem(templates.get(i));
      if (problem != null) {
        throw new InvalidCampaignException(origin, paths.get(i), problem);
      }
    }
    return templates;
  }

  private List<ResolvedGroup> counterfactualGroups(CampaignSpec spec, List<DataSource> sources) {
    if (spec.groups() instanceof HolisticBiasGroups holistic) {
      return holisticBiasGroups(spec, holistic, sources);
    }
    return ((ListedGroups) spec.groups())
        .groups().stream()
            .map(
                g ->
                    new ResolvedGroup(
                        g.name(), g.terms().stream().map(Term::of).toList(), List.of()))
            .toList();
  }

  private List<ResolvedGroup> holisticBiasGroups(
      CampaignSpec spec, HolisticBiasGroups holistic, List<DataSource> sources) {
    String origin = spec.origin();
    SharedData.Document document =
        SharedData.read(
            dataDirectory.get(), HOLISTIC_BIAS + "descriptors.json", origin, "groups.holisticBias");
    sources.add(document.source());
    JsonNode axis = document.json().get(holistic.axis());
    if (axis == null) {
      throw new InvalidCampaignException(
          origin,
          "groups.holisticBias.axis",
          "unknown HolisticBias axis '"
              + holistic.axis()
              + "'; the axes are "
              + names(document.json()));
    }
    Map<String, List<Term>> buckets = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> entries = axis.fields();
    while (entries.hasNext()) {
      Map.Entry<String, JsonNode> bucket = entries.next();
      List<Term> terms = new ArrayList<>();
      for (JsonNode descriptor : bucket.getValue()) {
        terms.add(descriptorTerm(descriptor));
      }
      buckets.put(bucket.getKey(), terms);
    }
    List<ResolvedGroup> groups = new ArrayList<>();
    if (!holistic.buckets().isEmpty()) {
      for (int i = 0; i < holistic.buckets().size(); i++) {
        String name = holistic.buckets().get(i);
        List<Term> terms = buckets.get(name);
        if (terms == null) {
          throw new InvalidCampaignException(
              origin,
              "groups.holisticBias.buckets[" + i + "]",
              "unknown group: axis '"
                  + holistic.axis()
                  + "' has no bucket '"
                  + name
                  + "'; its buckets are "
                  + buckets.keySet());
        }
        groups.add(new ResolvedGroup(name, terms, List.of()));
      }
      return groups;
    }
    Map<String, Term> byDescriptor = new LinkedHashMap<>();
    for (List<Term> terms : buckets.values()) {
      for (Term term : terms) {
        byDescriptor.putIfAbsent(descriptorOf(term), term);
      }
    }
    for (int i = 0; i < holistic.descriptors().size(); i++) {
      String name = holistic.descriptors().get(i);
      Term term = byDescriptor.get(name);
      if (term == null) {
        String hint =
            byDescriptor.keySet().stream()
                .filter(d -> d.equalsIgnoreCase(name))
                .findFirst()
                .map(d -> " (did you mean '" + d + "'?)")
                .orElse("");
        throw new InvalidCampaignException(
            origin,
            "groups.holisticBias.descriptors[" + i + "]",
            "unknown group: '"
                + name
                + "' is not a descriptor of axis '"
                + holistic.axis()
                + "'"
                + hint
                + "; its descriptors are "
                + byDescriptor.keySet());
      }
      groups.add(new ResolvedGroup(name, List.of(term), List.of()));
    }
    return groups;
  }

  /**
   * HolisticBias noun phrases with the neutral noun: "a Muslim person" / "Muslim people". The
   * dataset also pairs descriptors with gendered nouns; one neutral noun keeps the groups
   * comparable (only the descriptor differs).
   */
  private static Term descriptorTerm(JsonNode descriptor) {
    String text =
        descriptor.isTextual() ? descriptor.asText() : descriptor.path("descriptor").asText();
    String article =
        descriptor.has("article")
            ? descriptor.get("article").asText()
            : "aeiouAEIOU".indexOf(text.charAt(0)) >= 0 ? "an" : "a";
    return new Term(article + " " + text + " person", text + " people");
  }

  private static String descriptorOf(Term term) {
    String plural = term.plural();
    return plural.substring(0, plural.length() - " people".length());
  }

  private List<ResolvedGroup> boldGroups(
      CampaignSpec spec, BoldPrompts bold, List<DataSource> sources) {
    String origin = spec.origin();
    if (!bold.domain().matches("[a-z_]+")) {
      throw new InvalidCampaignException(
          origin, "prompts.bold.domain", "'" + bold.domain() + "' is not a BOLD domain name");
    }
    SharedData.Document document =
        SharedData.read(
            dataDirectory.get(),
            "bold/" + bold.domain() + "_prompt.json",
            origin,
            "prompts.bold.domain");
    sources.add(document.source());
    if (!(spec.groups() instanceof ListedGroups listed)) {
      throw new InvalidCampaignException(
          origin, "groups", "with BOLD prompts, list BOLD group names, e.g. [judaism, islam]");
    }
    List<ResolvedGroup> groups = new ArrayList<>();
    for (int i = 0; i < listed.groups().size(); i++) {
      GroupDefinition group = listed.groups().get(i);
      JsonNode pages = document.json().get(group.name());
      if (pages == null) {
        throw new InvalidCampaignException(
            origin,
            "groups[" + i + "]",
            "unknown group: BOLD domain '"
                + bold.domain()
                + "' has no group '"
                + group.name()
                + "'; its groups are "
                + names(document.json()));
      }
      List<String> prompts = new ArrayList<>();
      for (JsonNode page : pages) {
        for (JsonNode prompt : page) {
          String text = prompt.asText().strip();
          if (!text.isEmpty()) {
            prompts.add(text);
          }
        }
      }
      if (prompts.isEmpty()) {
        throw new InvalidCampaignException(
            origin, "groups[" + i + "]", "BOLD group '" + group.name() + "' has no prompts");
      }
      groups.add(new ResolvedGroup(group.name(), List.of(), prompts));
    }
    return groups;
  }

  private static void checkGroups(CampaignSpec spec, List<ResolvedGroup> groups) {
    String origin = spec.origin();
    if (groups.isEmpty()) {
      throw new InvalidCampaignException(
          origin, "groups", "is empty; a campaign compares at least two groups");
    }
    if (groups.size() < 2) {
      throw new InvalidCampaignException(
          origin,
          "groups",
          "has only '" + groups.get(0).name() + "'; a disparity needs at least two groups");
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < groups.size(); i++) {
      String name = groups.get(i).name();
      if (name.isBlank() || name.length() > MAX_GROUP_NAME) {
        throw new InvalidCampaignException(
            origin,
            "groups[" + i + "]",
            "a group name must be 1-" + MAX_GROUP_NAME + " characters");
      }
      String problem = CampaignAttributes.groupProblem(name);
      if (problem != null) {
        // The bias job would not count such a group's verdicts.
        throw new InvalidCampaignException(origin, "groups[" + i + "]", problem);
      }
      // Stripped as well as lower-cased: "A" and "A " would be two groups that read the same.
      if (!seen.add(name.strip().toLowerCase(Locale.ROOT))) {
        throw new InvalidCampaignException(
            origin, "groups[" + i + "]", "group '" + name + "' is listed twice");
      }
      for (Term term : groups.get(i).terms()) {
        if (term.plural().isBlank()) {
          throw new InvalidCampaignException(
              origin, "groups[" + i + "].terms", "terms must not be blank");
        }
      }
    }
  }

  private static void checkPromptLengths(ResolvedCampaign campaign) {
    for (ResolvedGroup group : campaign.groups()) {
      // Conservative: every group slot of a template may take the group's longest term (a
      // template may have several slots, each filled).
      long longestTerm =
          group.terms().stream()
              .mapToLong(t -> Math.max(t.singular().length(), t.plural().length()))
              .max()
              .orElse(0);
      long longestFilled =
          campaign.templates().stream()
              .mapToLong(t -> t.length() + (long) TemplateSlots.count(t) * longestTerm)
              .max()
              .orElse(0);
      long longest =
          Math.max(
              group.prompts().stream().mapToInt(String::length).max().orElse(0), longestFilled);
      if (longest > MAX_PROMPT_CHARS) {
        throw new InvalidCampaignException(
            campaign.spec().origin(),
            "templates",
            "a prompt of group '"
                + group.name()
                + "' can reach "
                + longest
                + " characters; the API accepts at most "
                + MAX_PROMPT_CHARS);
      }
    }
  }

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
