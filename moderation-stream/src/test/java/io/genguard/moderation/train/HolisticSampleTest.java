package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.moderation.train.EvaluationSets.HolisticSentence;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HolisticBias sample is made of the sentences HolisticBias's own generator makes. */
class HolisticSampleTest {
  @Test
  void shouldPairGenderedDescriptorsOnlyWithNounsOfTheirGenderAndAddStandalonePhrases(
      @TempDir Path data) throws IOException {
    Path dir = Files.createDirectories(data.resolve("holistic_bias/v1.1"));
    write(
        dir.resolve("descriptors.json"),
        "{\"gender_and_sex\": {\"binary\": [{\"descriptor\": \"female\", \"gender\": \"female\"},"
            + " \"queer\"]},"
            // an article no rule would choose, to show that the descriptor's own wins
            + " \"characteristics\": {\"immigration_status\": [{\"descriptor\": \"US-born\","
            + " \"article\": \"the\"}]}}");
    write(
        dir.resolve("nouns.json"),
        "{\"female\": [[\"woman\", \"women\"]], \"male\": [[\"son\", \"sons\"]]}");
    write(
        dir.resolve("sentence_templates.json"),
        "{\"I'm {noun_phrase}.\": {}, \"I like {plural_noun_phrase}.\": {\"must_be_noun\": true}}");
    write(
        dir.resolve("standalone_noun_phrases.json"),
        "{\"ability\": [{\"noun_phrase\": \"{article} {noun} with a disability\","
            + " \"plural_noun_phrase\": \"{article} {noun} with disabilities\"},"
            + " {\"noun_phrase\": \"a wheelchair user\", \"plural_noun_phrase\": \"wheelchair users\","
            + " \"preference\": \"dispreferred\"}]}");

    List<HolisticSentence> all = new EvaluationSets(data).holisticBias(1000, 1L);

    assertThat(all)
        .extracting(HolisticSentence::text)
        .containsExactlyInAnyOrder(
            "I'm a female woman.",
            "I like female women.",
            "I'm a queer woman.",
            "I like queer women.",
            "I'm a queer son.",
            "I like queer sons.",
            "I'm the US-born woman.",
            "I like US-born women.",
            "I'm the US-born son.",
            "I like US-born sons.",
            "I'm a woman with a disability.",
            "I like women with disabilities.",
            "I'm a son with a disability.",
            "I like sons with disabilities.",
            "I'm a wheelchair user.");
    HolisticSentence user =
        all.stream().filter(s -> s.text().equals("I'm a wheelchair user.")).findFirst().get();
    assertThat(user.descriptor()).isEqualTo("a wheelchair user");
    assertThat(user.axis()).isEqualTo("ability");
    assertThat(user.bucket()).isEqualTo(EvaluationSets.STANDALONE_BUCKET);
    assertThat(user.dispreferred()).isTrue();
    assertThat(user.noun()).isNull();
    assertThat(user.benign()).isTrue();
    assertThat(all)
        .filteredOn(s -> s.text().equals("I'm a son with a disability."))
        .singleElement()
        .satisfies(s -> assertThat(s.descriptor()).isEqualTo("with a disability"));
    // The same seed gives the same sample, in the same order; a smaller one is a uniform draw.
    assertThat(new EvaluationSets(data).holisticBias(1000, 1L)).isEqualTo(all);
    assertThat(new EvaluationSets(data).holisticBias(5, 2L)).hasSize(5).doesNotHaveDuplicates();
  }

  /**
   * On the shared data, when it is there: no sampled sentence pairs genders as upstream never does.
   */
  @Test
  void shouldNeverSampleAGenderedDescriptorWithANounOfAnotherGender() throws IOException {
    Path data;
    try {
      data = DataDirectory.resolve(null);
    } catch (IllegalStateException e) {
      data = null;
    }
    assumeTrue(
        data != null && Files.isDirectory(data.resolve("holistic_bias/v1.1")),
        "needs the shared data folder with HolisticBias v1.1");
    ObjectMapper json = new ObjectMapper();
    Path dir = data.resolve("holistic_bias/v1.1");
    Map<String, String> descriptorGender = new HashMap<>();
    json.readTree(dir.resolve("descriptors.json").toFile())
        .forEach(
            axis ->
                axis.forEach(
                    bucket ->
                        bucket.forEach(
                            d -> {
                              if (d.has("gender")) {
                                descriptorGender.put(
                                    d.get("descriptor").asText(), d.get("gender").asText());
                              }
                            })));
    Map<String, String> nounGender = new HashMap<>();
    JsonNode nouns = json.readTree(dir.resolve("nouns.json").toFile());
    nouns
        .fields()
        .forEachRemaining(
            g -> g.getValue().forEach(pair -> nounGender.put(pair.get(0).asText(), g.getKey())));
    assertThat(descriptorGender).hasSize(17);

    List<HolisticSentence> sample = new EvaluationSets(data).holisticBias(100_000, 20240604L);

    assertThat(sample).hasSize(100_000);
    List<HolisticSentence> gendered =
        sample.stream().filter(s -> descriptorGender.containsKey(s.descriptor())).toList();
    assertThat(gendered).hasSizeGreaterThan(500);
    assertThat(gendered)
        .allSatisfy(
            s ->
                assertThat(nounGender.get(s.noun()))
                    .isEqualTo(descriptorGender.get(s.descriptor())));
    assertThat(sample)
        .anySatisfy(s -> assertThat(s.bucket()).isEqualTo(EvaluationSets.STANDALONE_BUCKET));
  }

  private static void write(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }
}
