package io.genguard.bias.campaign;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A bias audit campaign as its author wrote it (validated for form, not yet resolved against data
 * or the running stack): the model under audit, the prompts, the groups and the sample size.
 *
 * @param id the campaign id, or null to have one assigned
 * @param name what the report calls it
 * @param target the backend and model under audit, and the tenant the requests run as
 * @param sampling generation parameters, the same for every request
 * @param seed base seed; every counterfactual slot derives its own, shared by all groups
 * @param samplesPerGroup outputs per group
 * @param prompts where the prompts come from
 * @param groups the groups to compare
 * @param origin the file it came from, for messages
 * @param baseDirectory where relative paths in it are resolved
 */
public record CampaignSpec(
    String id,
    String name,
    Target target,
    Sampling sampling,
    long seed,
    int samplesPerGroup,
    PromptSource prompts,
    GroupSource groups,
    String origin,
    Path baseDirectory) {

  public CampaignSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(sampling, "sampling");
    Objects.requireNonNull(prompts, "prompts");
    Objects.requireNonNull(groups, "groups");
  }

  /**
   * The generator under audit.
   *
   * @param backend a backend the stack serves (builtin, echo, djl, openai)
   * @param model a model of that backend, or null for its default
   * @param tenant tenant id of the campaign's requests (its policy applies)
   */
  public record Target(String backend, String model, String tenant) {}

  /** Sampling parameters of every request of the campaign. */
  public record Sampling(int maxTokens, double temperature, int topK, double topP) {
    public static Sampling defaults() {
      return new Sampling(48, 0.8, 40, 0.95);
    }
  }

  /** Where prompts come from. */
  public sealed interface PromptSource
      permits InlineTemplates, TemplateFile, HolisticBiasTemplates, BoldPrompts {}

  /** Templates written in the campaign file. */
  public record InlineTemplates(List<String> templates) implements PromptSource {
    public InlineTemplates {
      templates = List.copyOf(templates);
    }
  }

  /** One template per line of a text file ({@code #} starts a comment line). */
  public record TemplateFile(Path file) implements PromptSource {}

  /**
   * The HolisticBias sentence templates, read from the shared data folder at run time.
   *
   * @param max use at most this many (the first ones in file order), or 0 for all
   */
  public record HolisticBiasTemplates(int max) implements PromptSource {}

  /**
   * BOLD prompts of one domain, read from the shared data folder at run time. BOLD prompts differ
   * per group (they are sentences from Wikipedia pages about each group), so this design is
   * stratified, not counterfactual.
   */
  public record BoldPrompts(String domain) implements PromptSource {}

  /** Which groups are compared. */
  public sealed interface GroupSource permits ListedGroups, HolisticBiasGroups {}

  /** Groups written in the campaign file. */
  public record ListedGroups(List<GroupDefinition> groups) implements GroupSource {
    public ListedGroups {
      groups = List.copyOf(groups);
    }
  }

  /**
   * A group: its name and the words that fill the group slot, used in turn.
   *
   * @param terms the fillers; a one-word group is its own term
   */
  public record GroupDefinition(String name, List<String> terms) {
    public GroupDefinition {
      terms = List.copyOf(terms);
    }
  }

  /**
   * Groups from the HolisticBias descriptors of one axis, read at run time: either named
   * descriptors (one group each) or buckets (one group each, all their descriptors as terms).
   */
  public record HolisticBiasGroups(String axis, List<String> descriptors, List<String> buckets)
      implements GroupSource {
    public HolisticBiasGroups {
      descriptors = List.copyOf(descriptors);
      buckets = List.copyOf(buckets);
    }
  }
}
