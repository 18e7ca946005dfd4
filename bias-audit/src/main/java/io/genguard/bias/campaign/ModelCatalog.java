package io.genguard.bias.campaign;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The backends and models the stack under audit serves, so that a campaign against an unknown one
 * is refused before anything is submitted (the generator would otherwise fail every request one by
 * one). Written as {@code backend[:model|model...]} entries separated by commas; {@code *} allows
 * any model of a backend (e.g. an OpenAI-compatible server).
 */
public final class ModelCatalog {
  public static final String KEY = "GENGUARD_BIAS_BACKENDS";

  /**
   * What a default embedded stack serves: the built-in n-gram model of the configured order
   * ({@value #BUILTIN_ORDER_KEY}, default 3; the generator loads exactly one) and the echo backend.
   */
  public static final String DEFAULT = "builtin:europarl-kn3,echo:echo";

  /** The generator's key for the built-in model's order, which names the one model it serves. */
  static final String BUILTIN_ORDER_KEY = "GENGUARD_GENERATOR_BUILTIN_ORDER";

  private static final String ANY = "*";

  private final Map<String, Set<String>> models;

  private ModelCatalog(Map<String, Set<String>> models) {
    this.models = models;
  }

  public static ModelCatalog defaults() {
    return parse(DEFAULT);
  }

  /**
   * The catalogue in {@value #KEY}, else the defaults with the built-in model of the order in
   * {@value #BUILTIN_ORDER_KEY} (as the generator of the same environment serves it).
   */
  public static ModelCatalog fromEnvironment(Map<String, String> env) {
    String value = env.get(KEY);
    if (value != null && !value.isBlank()) {
      return parse(value);
    }
    String order = env.get(BUILTIN_ORDER_KEY);
    return order == null || order.isBlank()
        ? defaults()
        : parse(DEFAULT.replace("europarl-kn3", "europarl-kn" + order.trim()));
  }

  public static ModelCatalog parse(String text) {
    Map<String, Set<String>> models = new LinkedHashMap<>();
    for (String entry : text.split(",")) {
      String trimmed = entry.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int colon = trimmed.indexOf(':');
      String backend = colon < 0 ? trimmed : trimmed.substring(0, colon).trim();
      if (backend.isEmpty()) {
        throw new IllegalArgumentException(
            KEY + ": entry '" + trimmed + "' has no backend name; write backend[:model|model]");
      }
      Set<String> names =
          colon < 0
              ? Set.of(ANY)
              : Arrays.stream(trimmed.substring(colon + 1).split("\\|"))
                  .map(String::trim)
                  .filter(s -> !s.isEmpty())
                  .collect(Collectors.toCollection(TreeSet::new));
      models.put(backend, names.isEmpty() ? Set.of(ANY) : names);
    }
    if (models.isEmpty()) {
      throw new IllegalArgumentException(KEY + " lists no backend");
    }
    return new ModelCatalog(models);
  }

  public Set<String> backends() {
    return models.keySet();
  }

  /**
   * Why {@code backend}/{@code model} cannot be audited on this stack, or null if it can. A null
   * model means the backend's default, which every listed backend has.
   */
  public String problem(String backend, String model) {
    Set<String> served = models.get(backend);
    if (served == null) {
      return "backend '"
          + backend
          + "' is not served by this stack; it serves "
          + models.keySet()
          + " (set "
          + KEY
          + " or --backends if the stack was configured with more)";
    }
    if (model == null || served.contains(ANY) || served.contains(model)) {
      return null;
    }
    return "backend '"
        + backend
        + "' has no model '"
        + model
        + "'; it serves "
        + served
        + " (leave target.model out for the backend's default)";
  }

  @Override
  public String toString() {
    return models.entrySet().stream()
        .map(e -> e.getKey() + ":" + String.join("|", e.getValue()))
        .collect(Collectors.joining(","));
  }
}
