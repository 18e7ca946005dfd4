package io.genguard.deploy.settings;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.deploy.RepositoryFiles;
import io.genguard.generator.GeneratorConfig;
import io.genguard.settings.KnownSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The list of known settings ({@code known-settings.txt}, which every entry point checks its
 * environment against) agrees with the repository: every {@code GENGUARD_*} name that code, a
 * script, an image or the compose file reads is listed (else a correct setting would be refused),
 * every listed name is read somewhere (else a typo of it would pass), and every listed name is
 * documented for operators.
 */
class KnownSettingsRegistryTest {
  /** A whole name: {@code GENGUARD_AUDIT_*} in prose and the prefix constants are not names. */
  private static final Pattern NAME = Pattern.compile("\\bGENGUARD_[A-Z0-9_]++(?!\\*)");

  /** Java identifiers that look like settings but are not read from the environment. */
  private static final Set<String> NOT_SETTINGS = Set.of("GENGUARD_PREFIX");

  private static final Path REGISTRY =
      Path.of("schemas/src/main/resources/io/genguard/settings/known-settings.txt");

  @Test
  void everyNameTheCodeScriptsAndComposeReadIsListed() {
    Set<String> read = names(KnownSettingsRegistryTest::readsSettings);
    read.addAll(GeneratorConfig.Keys.ALL);
    assertThat(read).isNotEmpty();
    assertThat(KnownSettings.names())
        .as("names read but missing from %s, so a correct setting would be refused", REGISTRY)
        .containsAll(read);
  }

  @Test
  void everyListedNameIsReadSomewhere() {
    Set<String> mentioned =
        names(file -> readsSettings(file) || file.toString().contains("/src/test/java/"));
    mentioned.addAll(GeneratorConfig.Keys.ALL);
    Set<String> unread = new TreeSet<>(KnownSettings.names());
    unread.removeAll(mentioned);
    assertThat(unread)
        .as("names in %s that nothing reads: a misspelling of them would pass", REGISTRY)
        .isEmpty();
  }

  @Test
  void everyListedNameIsDocumented() {
    Set<String> documented =
        names(
            file ->
                file.getFileName().toString().endsWith(".md")
                    || file.getFileName().toString().equals(".env.example"));
    Set<String> undocumented = new TreeSet<>(KnownSettings.names());
    undocumented.removeAll(documented);
    assertThat(undocumented)
        .as("names in %s that no README, docs/*.md or .env.example explains", REGISTRY)
        .isEmpty();
  }

  /** Source, resources, scripts, images and compose: where a setting is read, not described. */
  private static boolean readsSettings(Path relative) {
    String path = relative.toString().replace('\\', '/');
    String name = relative.getFileName().toString();
    if (relative.equals(REGISTRY) || name.endsWith(".md")) {
      return false;
    }
    boolean source =
        path.contains("/src/main/")
            && (name.endsWith(".java")
                || name.endsWith(".xml")
                || name.endsWith(".yaml")
                || name.endsWith(".yml")
                || name.endsWith(".properties"));
    return source
        || path.startsWith("test-support/src/")
        || path.startsWith("docker/")
        || path.startsWith(".ci/")
        || path.equals("docker-compose.yml")
        || path.equals(".env.example")
        || path.equals("genguard");
  }

  private static Set<String> names(Predicate<Path> include) {
    Path root = RepositoryFiles.root();
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.walk(root)) {
      files
          .filter(Files::isRegularFile)
          .map(root::relativize)
          .filter(relative -> !skipped(relative))
          .filter(include)
          .forEach(relative -> names.addAll(namesIn(root.resolve(relative))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return names;
  }

  private static boolean skipped(Path relative) {
    for (Path part : relative) {
      String name = part.toString();
      if (name.equals("target") || name.equals(".git") || name.equals("node_modules")) {
        return true;
      }
    }
    return false;
  }

  private static Set<String> namesIn(Path file) {
    Set<String> names = new TreeSet<>();
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      return names; // not text (a model, an image): it reads no settings
    }
    Matcher matcher = NAME.matcher(text);
    while (matcher.find()) {
      String name = matcher.group();
      // Kubernetes service-link names (in the check's own documentation) are never settings.
      if (!name.endsWith("_")
          && !NOT_SETTINGS.contains(name)
          && !KnownSettings.isServiceLink(name, "")) {
        names.add(name);
      }
    }
    return names;
  }
}
