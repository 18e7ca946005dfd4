package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Needs the shared data folder at ../shared/data or GENGUARD_DATA_DIR, and fails (it does not skip)
 * when it is missing: the data README forbids committing "copies or excerpts" of its sets, and the
 * project's Markdown files quoted a Davidson tweet and a SimpleSafetyTests prompt. A Markdown file
 * of the repository that shares a run of {@value #WORDS} words with a shared data file holds an
 * excerpt; cite the set and the row id instead.
 */
class SharedDataExcerptsTest {
  static final int WORDS = 8;

  private static final Pattern WORD = Pattern.compile("[a-z0-9]+(?:'[a-z0-9]+)*");

  @Test
  void shouldCommitNoMarkdownThatQuotesEightWordsOfASharedDataSet() throws IOException {
    Path data = DataDirectory.resolve(null); // fails, naming where it looked, when it is missing
    Path root = DataDirectory.repositoryRoot(Path.of("").toAbsolutePath());
    Map<String, List<String>> where = new HashMap<>(); // shingle -> "file:line"
    for (Path file : markdown(root)) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        for (String shingle : shingles(lines.get(i))) {
          where
              .computeIfAbsent(shingle, k -> new ArrayList<>())
              .add(root.relativize(file) + ":" + (i + 1));
        }
      }
    }
    assertThat(where).as("shingles of the repository's Markdown files").hasSizeGreaterThan(10_000);

    Set<String> excerpts = new TreeSet<>();
    List<Path> dataFiles;
    try (Stream<Path> walk = Files.walk(data)) {
      dataFiles =
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().toUpperCase(Locale.ROOT).contains("LICENSE"))
              .filter(p -> !p.getFileName().toString().equals("README.md"))
              .toList();
    }
    assertThat(dataFiles).as("files in " + data).hasSizeGreaterThan(10);
    for (Path file : dataFiles) {
      try (BufferedReader reader =
          new BufferedReader(
              new java.io.InputStreamReader(
                  Files.newInputStream(file),
                  StandardCharsets.UTF_8
                      .newDecoder()
                      .onMalformedInput(CodingErrorAction.REPLACE)
                      .onUnmappableCharacter(CodingErrorAction.REPLACE)))) {
        String line;
        int number = 0;
        while ((line = reader.readLine()) != null) {
          number++;
          for (String shingle : shingles(line)) {
            List<String> in = where.get(shingle);
            if (in != null) {
              for (String at : in) {
                excerpts.add(
                    at + ": \"" + shingle + "\" from " + data.relativize(file) + ":" + number);
              }
            }
          }
        }
      }
    }
    assertThat(excerpts)
        .as("Markdown lines quoting shared data (cite the set and row id instead)")
        .isEmpty();
  }

  @Test
  void shouldFindAQuotedRunOfEightWordsWhateverItsCaseAndPunctuation() {
    assertThat(shingles("He wrote: \"Slow DOWN, friend, I know where the bakery is!\" today"))
        .contains("slow down friend i know where the bakery");
    assertThat(shingles("seven words are too few for this")).isEmpty();
  }

  /** Every Markdown file under the repository root, outside build output and hidden folders. */
  static List<Path> markdown(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> p.getFileName().toString().endsWith(".md"))
          .filter(Files::isRegularFile)
          .filter(
              p -> {
                for (Path part : root.relativize(p)) {
                  String name = part.toString();
                  if (name.equals("target")
                      || name.equals("node_modules")
                      || name.startsWith(".")) {
                    return false;
                  }
                }
                return true;
              })
          .sorted()
          .toList();
    }
  }

  /** Runs of {@link #WORDS} words, lowercased, punctuation dropped (ToxiGen's literal \n too). */
  static List<String> shingles(String line) {
    List<String> words = new ArrayList<>();
    Matcher m = WORD.matcher(line.replace("\\n", " \n ").toLowerCase(Locale.ROOT));
    while (m.find()) {
      words.add(m.group());
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i + WORDS <= words.size(); i++) {
      out.add(String.join(" ", words.subList(i, i + WORDS)));
    }
    return out;
  }
}
