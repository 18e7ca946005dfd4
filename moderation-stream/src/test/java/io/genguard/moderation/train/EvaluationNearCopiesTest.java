package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.TextNormalizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The probes under src/main/resources/evaluation claim to be never trained on. An exact-substring
 * check missed a look-alike that was an authored training line with ";" for "," (selfharm-1 b12),
 * so this compares them as deduplication does: word trigrams of the normalized text, a near-copy at
 * Jaccard {@value #NEAR_COPY} or more.
 */
class EvaluationNearCopiesTest {
  /** The near-duplicate bar of {@link DeduplicatedSplit}, exact here rather than by MinHash. */
  static final double NEAR_COPY = DeduplicatedSplit.NEAR_DUPLICATE_JACCARD;

  private static final Path EVALUATION = Path.of("src/main/resources/evaluation");
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldHoldNoNearCopyOfAnAuthoredTrainingLineOrAnIdentityTemplate() throws IOException {
    Map<String, String> evaluation = evaluationLines();
    assertThat(evaluation)
        .as("the evaluation resources, read from the module's directory")
        .hasSizeGreaterThan(500);

    List<String> training = new ArrayList<>();
    AuthoredExamples.load().forEach(t -> training.add(t.text()));
    Index authored = new Index(training);
    IdentityAugmentation.Vocabulary vocabulary = IdentityAugmentation.read();
    List<String> templates = new ArrayList<>(vocabulary.templates());
    templates.addAll(vocabulary.hostileTemplates());

    List<String> nearCopies = new ArrayList<>();
    evaluation.forEach(
        (where, text) -> {
          Set<String> shingles = shingles(text);
          for (String line : authored.candidates(shingles)) {
            double j = jaccard(shingles, shingles(line));
            if (j >= NEAR_COPY) {
              nearCopies.add(where + " ~ authored \"" + line + "\" (" + j + ")");
            }
          }
          for (String template : templates) {
            // A template is compared as filled with the line's own descriptors and nouns, the
            // way a sentence generated from it would read.
            for (String filled : fillings(template, text, vocabulary)) {
              double j = jaccard(shingles, shingles(filled));
              if (j >= NEAR_COPY) {
                nearCopies.add(where + " ~ identity template \"" + template + "\" (" + j + ")");
                break;
              }
            }
          }
        });
    assertThat(nearCopies).as("evaluation lines that are near-copies of training lines").isEmpty();
  }

  @Test
  void shouldFindANearCopyThatDiffersOnlyInPunctuationOrAWord() {
    // The comparison itself: b12's old text against its training line, and a filled template.
    String training = "That comedian absolutely killed it last night, I laughed until I cried.";
    assertThat(
            jaccard(
                shingles("That comedian absolutely killed it last night; I laughed until I cried."),
                shingles(training)))
        .isGreaterThanOrEqualTo(NEAR_COPY);
    assertThat(new Index(List.of(training)).candidates(shingles("comedian absolutely killed it")))
        .containsExactly(training);
    IdentityAugmentation.Vocabulary vocabulary = IdentityAugmentation.read();
    String template = "I am {a} {adj} {noun} and I work at the hospital downtown.";
    assertThat(vocabulary.templates()).contains(template);
    assertThat(
            fillings(template, "I am a deaf woman and I work at the hospital downtown!", vocabulary)
                .stream()
                .anyMatch(
                    f ->
                        jaccard(
                                shingles(f),
                                shingles("I am a deaf woman and I work at the hospital downtown!"))
                            >= NEAR_COPY))
        .isTrue();
  }

  /** Every line of every evaluation resource, keyed by file and line number. */
  static Map<String, String> evaluationLines() throws IOException {
    Map<String, String> lines = new java.util.LinkedHashMap<>();
    List<Path> files;
    try (Stream<Path> listed = Files.list(EVALUATION)) {
      files = listed.sorted().toList();
    }
    for (Path file : files) {
      String name = file.getFileName().toString();
      List<String> content = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < content.size(); i++) {
        String line = content.get(i).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String text;
        if (name.endsWith(".jsonl")) {
          JsonNode node = JSON.readTree(line);
          text = node.get("text").asText();
        } else {
          text = line;
        }
        lines.put(name + ":" + (i + 1), text);
      }
    }
    return lines;
  }

  /** The template filled with each descriptor and noun of the vocabulary that {@code text} uses. */
  static List<String> fillings(
      String template, String text, IdentityAugmentation.Vocabulary vocabulary) {
    String words = " " + String.join(" ", words(text)) + " ";
    List<String> adjectives = new ArrayList<>();
    for (IdentityAugmentation.Descriptor d : vocabulary.descriptors()) {
      if (words.contains(" " + String.join(" ", words(d.text())) + " ")) {
        adjectives.add(d.text());
      }
    }
    List<IdentityAugmentation.Noun> nouns = new ArrayList<>();
    for (IdentityAugmentation.Noun n : vocabulary.nouns()) {
      if (words.contains(" " + words(n.singular()).get(0) + " ")
          || words.contains(" " + words(n.plural()).get(0) + " ")) {
        nouns.add(n);
      }
    }
    if (adjectives.isEmpty()) {
      adjectives.add("x");
    }
    if (nouns.isEmpty()) {
      nouns.add(new IdentityAugmentation.Noun("person", "people", false));
    }
    List<String> out = new ArrayList<>();
    for (String adjective : adjectives) {
      for (IdentityAugmentation.Noun noun : nouns) {
        out.add(IdentityAugmentation.fill(template, adjective, noun));
      }
    }
    return out;
  }

  static List<String> words(String text) {
    return HashedNgramFeatures.words(TextNormalizer.normalize(text).toLowerCase(Locale.ROOT));
  }

  /** Word trigrams; a text of fewer than three words is one shingle. */
  static Set<String> shingles(String text) {
    List<String> words = words(text);
    Set<String> out = new HashSet<>();
    if (words.size() < 3) {
      out.add(String.join(" ", words));
      return out;
    }
    for (int i = 0; i + 3 <= words.size(); i++) {
      out.add(words.get(i) + " " + words.get(i + 1) + " " + words.get(i + 2));
    }
    return out;
  }

  static double jaccard(Set<String> a, Set<String> b) {
    if (a.isEmpty() && b.isEmpty()) {
      return 1;
    }
    int common = 0;
    for (String s : a) {
      common += b.contains(s) ? 1 : 0;
    }
    return common / (double) (a.size() + b.size() - common);
  }

  /**
   * Training lines by shingle, so each evaluation line is compared with those it shares one with.
   */
  static final class Index {
    private final Map<String, List<String>> byShingle = new HashMap<>();

    Index(List<String> lines) {
      for (String line : lines) {
        for (String shingle : shingles(line)) {
          byShingle.computeIfAbsent(shingle, k -> new ArrayList<>()).add(line);
        }
      }
    }

    Set<String> candidates(Set<String> shingles) {
      Set<String> out = new java.util.LinkedHashSet<>();
      for (String shingle : shingles) {
        out.addAll(byShingle.getOrDefault(shingle, List.of()));
      }
      return out;
    }
  }
}
