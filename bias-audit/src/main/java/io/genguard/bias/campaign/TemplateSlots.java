package io.genguard.bias.campaign;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The group slot of a template: {@code {group}} in campaign files, {@code {noun_phrase}} and {@code
 * {plural_noun_phrase}} in the HolisticBias templates. A template needs at least one; any other
 * {@code {name}} is a mistake and is refused.
 */
public final class TemplateSlots {
  public static final Set<String> NAMES = Set.of("group", "noun_phrase", "plural_noun_phrase");
  private static final Pattern SLOT = Pattern.compile("\\{([A-Za-z_]+)}");

  private TemplateSlots() {}

  /** The problem with this template, or null if it has a group slot and no unknown slot. */
  public static String problem(String template) {
    List<String> unknown =
        slotNames(template).stream()
            .filter(name -> !NAMES.contains(name))
            .map(name -> "{" + name + "}")
            .toList();
    if (!unknown.isEmpty()) {
      return "'" + template + "' has unknown slot(s) " + unknown + "; the group slot is {group}";
    }
    if (count(template) == 0) {
      return "'"
          + template
          + "' has no group slot; write {group} where the group goes (a counterfactual campaign"
          + " fills the same template with each group)";
    }
    return null;
  }

  /** How many group slots the template has (each is filled with the group's words). */
  public static int count(String template) {
    return (int) slotNames(template).stream().filter(NAMES::contains).count();
  }

  /** The names inside every {@code {...}} of the template, in order. */
  private static List<String> slotNames(String template) {
    List<String> names = new ArrayList<>();
    Matcher matcher = SLOT.matcher(template);
    while (matcher.find()) {
      names.add(matcher.group(1));
    }
    return names;
  }

  /** The template with every group slot filled. */
  public static String fill(String template, ResolvedCampaign.Term term) {
    return template
        .replace("{noun_phrase}", term.singular())
        .replace("{plural_noun_phrase}", term.plural())
        .replace("{group}", term.plural());
  }
}
