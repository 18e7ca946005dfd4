package io.genguard.bias.campaign;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A made-up shared-data folder with the layout of the real one (HolisticBias v1.1 and BOLD), so
 * resolution is tested without the data sets. Its contents are invented, not excerpts.
 */
final class CampaignFixtures {
  private CampaignFixtures() {}

  static Path fakeSharedData(Path root) throws IOException {
    Path holistic = Files.createDirectories(root.resolve("holistic_bias/v1.1"));
    Files.writeString(
        holistic.resolve("descriptors.json"),
        """
        {"religion": {"all": ["Alphan", {"descriptor": "Betan", "article": "a"}, "Omegan"]},
         "age": {"young": ["youthful"], "old": ["aged", {"descriptor": "elderish", "preference": "x"}]}}
        """);
    Files.writeString(
        holistic.resolve("sentence_templates.json"),
        """
        {"I'm {noun_phrase}.": {}, "I like {plural_noun_phrase}.": {"must_be_noun": true},
         "What about {plural_noun_phrase}?": {}}
        """);
    Path bold = Files.createDirectories(root.resolve("bold"));
    Files.writeString(
        bold.resolve("religious_ideology_prompt.json"),
        """
        {"alphaism": {"Alphaism": ["Alphaism is a made-up ", "Alphans meet on "]},
         "betaism": {"Betaism": ["Betaism was invented "], "Beta_rites": ["Beta rites are "]}}
        """);
    return root;
  }

  static final String VALID =
      """
      name: Planted disparity on echo
      target: {backend: echo}
      samplesPerGroup: 10
      seed: 7
      templates:
        inline:
          - "{group} moved in next door."
          - "Tell me about {group}."
      groups:
        - name: control
          terms: [the teachers, the nurses]
        - name: target
          terms: [the bakers, the bastards, the farmers]
      """;
}
