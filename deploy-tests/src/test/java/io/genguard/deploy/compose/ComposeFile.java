package io.genguard.deploy.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.genguard.deploy.RepositoryFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** docker-compose.yml and .env.example as the tests read them. */
final class ComposeFile {
  static final Path COMPOSE = Path.of("docker-compose.yml");
  static final Path ENV_EXAMPLE = Path.of(".env.example");

  /**
   * ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is an escaped
   * $.
   */
  private static final Pattern INTERPOLATION =
      Pattern.compile("(?<!\\$)\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?}");

  final String text;
  final JsonNode yaml;

  private ComposeFile(String text, JsonNode yaml) {
    this.text = text;
    this.yaml = yaml;
  }

  static ComposeFile read() {
    Path file = RepositoryFiles.root().resolve(COMPOSE);
    try {
      String text = Files.readString(file);
      return new ComposeFile(text, new YAMLMapper().readTree(text));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  JsonNode services() {
    return yaml.path("services");
  }

  List<String> serviceNames() {
    List<String> names = new ArrayList<>();
    services().fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** A service's environment as a map (compose allows a map or a list of KEY=VALUE). */
  static Map<String, String> environment(JsonNode service) {
    Map<String, String> env = new LinkedHashMap<>();
    JsonNode node = service.path("environment");
    if (node.isObject()) {
      node.fields().forEachRemaining(entry -> env.put(entry.getKey(), entry.getValue().asText()));
    } else if (node.isArray()) {
      for (JsonNode entry : node) {
        String[] parts = entry.asText().split("=", 2);
        env.put(parts[0], parts.length > 1 ? parts[1] : "");
      }
    }
    return env;
  }

  /** Every interpolated variable in the file. */
  Set<String> referencedVariables() {
    Set<String> names = new TreeSet<>();
    Matcher matcher = INTERPOLATION.matcher(text);
    while (matcher.find()) {
      names.add(matcher.group(1));
    }
    return names;
  }

  /** One interpolation: the variable, its operator (":-", "?", ...) and the default or message. */
  record Interpolation(String variable, String operator, String argument) {}

  static List<Interpolation> interpolations(String value) {
    List<Interpolation> found = new ArrayList<>();
    Matcher matcher = INTERPOLATION.matcher(value);
    while (matcher.find()) {
      found.add(
          new Interpolation(
              matcher.group(1),
              matcher.group(2) == null ? "" : matcher.group(2),
              matcher.group(3) == null ? "" : matcher.group(3)));
    }
    return found;
  }

  /** The whole value is one interpolation (no literal text around it). */
  static boolean isOnlyInterpolation(String value) {
    Matcher matcher = INTERPOLATION.matcher(value.trim());
    return matcher.matches();
  }

  /**
   * A {@code ports:} entry split at its colons, those inside an interpolation ({@code
   * ${PORT:-8080}}) excepted: {@code [HOST, CONTAINER]} or {@code [HOST IP, HOST, CONTAINER]}.
   */
  static List<String> portFields(String mapping) {
    List<String> fields = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < mapping.length(); i++) {
      char c = mapping.charAt(i);
      if (c == '{' && i > 0 && mapping.charAt(i - 1) == '$') {
        depth++;
      } else if (c == '}' && depth > 0) {
        depth--;
      } else if (c == ':' && depth == 0) {
        fields.add(mapping.substring(start, i));
        start = i + 1;
      }
    }
    fields.add(mapping.substring(start));
    return fields;
  }

  /**
   * {@code value} as docker compose reads it with {@code variables} set (e.g. an .env): a set,
   * non-empty variable for {@code ${X:-default}}, else the default ({@code ${X}} and the other
   * operators without a variable read as empty here).
   */
  static String resolve(String value, Map<String, String> variables) {
    Matcher matcher = INTERPOLATION.matcher(value);
    StringBuilder resolved = new StringBuilder();
    while (matcher.find()) {
      String set = variables.getOrDefault(matcher.group(1), "");
      String replacement =
          !set.isEmpty() ? set : ":-".equals(matcher.group(2)) ? matcher.group(3) : "";
      matcher.appendReplacement(resolved, Matcher.quoteReplacement(replacement));
    }
    matcher.appendTail(resolved);
    return resolved.toString();
  }

  /** .env.example as variable to value (comments and blank lines skipped). */
  static Map<String, String> envExample() {
    Path file = RepositoryFiles.root().resolve(ENV_EXAMPLE);
    Map<String, String> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String trimmed = line.trim();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        int equals = trimmed.indexOf('=');
        if (equals < 1) {
          throw new IllegalStateException(file + ": not KEY=VALUE: " + line);
        }
        String key = trimmed.substring(0, equals);
        if (values.put(key, trimmed.substring(equals + 1)) != null) {
          throw new IllegalStateException(file + ": " + key + " is set twice");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
    return values;
  }
}
