package io.genguard.bias.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad campaigns are refused with a message naming the place and the fix, before any request. */
class CampaignValidationTest {
  @TempDir Path data;
  private CampaignResolver resolver;
  private final CampaignLimits limits = CampaignLimits.defaults();

  @BeforeEach
  void data() throws Exception {
    CampaignFixtures.fakeSharedData(data);
    resolver = new CampaignResolver(() -> data);
  }

  private ResolvedCampaign resolve(String yaml) {
    return resolver.resolve(CampaignSpecParser.parse(yaml, "campaign.yaml", data), limits);
  }

  @Test
  void shouldResolveAValidCampaign() {
    ResolvedCampaign campaign = resolve(CampaignFixtures.VALID);
    assertThat(campaign.design()).isEqualTo(ResolvedCampaign.Design.COUNTERFACTUAL);
    assertThat(campaign.groupNames()).containsExactly("control", "target");
    assertThat(campaign.plannedSamples()).isEqualTo(20);
    assertThat(campaign.spec().target().tenant()).isEqualTo("bias-audit");
  }

  @Test
  void shouldRefuseCampaignAndTemplateFilesLargerThanTheLimitOrNotUtf8() throws Exception {
    Path campaign = data.resolve("huge-campaign.yaml");
    java.nio.file.Files.writeString(
        campaign,
        CampaignFixtures.VALID + "# " + "x".repeat(CampaignSpecParser.MAX_FILE_BYTES) + "\n");
    assertThatThrownBy(() -> CampaignSpecParser.parse(campaign))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("the campaign file " + campaign + " is larger than 3145728 bytes");
    assertThatThrownBy(
            () ->
                CampaignSpecParser.parse(
                    "name: " + "x".repeat(CampaignSpecParser.MAX_FILE_BYTES), "text.yaml", data))
        .hasMessageContaining("the campaign is larger than 3145728 characters");

    String fromFile =
        CampaignFixtures.VALID.replace(
            "  inline:\n    - \"{group} moved in next door.\"\n    - \"Tell me about {group}.\"\n",
            "  file: templates.txt\n");
    assertThat(fromFile).contains("file: templates.txt");
    java.nio.file.Files.writeString(
        data.resolve("templates.txt"),
        "Tell me about {group}.\n" + "#".repeat(CampaignSpecParser.MAX_FILE_BYTES));
    assertThatThrownBy(() -> resolve(fromFile))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("templates.file")
        .hasMessageContaining("is larger than 3145728 bytes");
    java.nio.file.Files.write(
        data.resolve("templates.txt"),
        "Tell me about {group} f\u00fcr.\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> resolve(fromFile))
        .hasMessageContaining("templates.file")
        .hasMessageContaining("is not UTF-8");
    java.nio.file.Files.writeString(data.resolve("templates.txt"), "Tell me about {group}.\n");
    assertThat(resolve(fromFile).groupNames()).containsExactly("control", "target");
  }

  @Test
  void shouldReadATemplateFileSavedWithAByteOrderMark() throws Exception {
    // Notepad and Excel's "CSV UTF-8" start a UTF-8 file with U+FEFF, which strip() keeps: a first
    // "# comment" was refused as a template without a group slot, and a first template carried
    // the invisible character into every prompt.
    String fromFile =
        CampaignFixtures.VALID.replace(
            "  inline:\n    - \"{group} moved in next door.\"\n    - \"Tell me about {group}.\"\n",
            "  file: templates.txt\n");
    assertThat(fromFile).contains("file: templates.txt");
    java.nio.file.Files.writeString(
        data.resolve("templates.txt"), "\uFEFF# c\nTell me about {group}.\n");
    assertThat(resolve(fromFile).templates()).containsExactly("Tell me about {group}.");
    java.nio.file.Files.writeString(
        data.resolve("templates.txt"), "\uFEFFTell me about {group}.\n{group} moved in.\n");
    assertThat(resolve(fromFile).templates())
        .containsExactly("Tell me about {group}.", "{group} moved in.");
  }

  @Test
  void shouldRefuseATenantThatIsNotAValidTenantId() {
    String yaml =
        CampaignFixtures.VALID.replace(
            "target: {backend: echo}", "target: {backend: echo, tenant: \"../other\"}");
    assertThatThrownBy(() -> resolve(yaml))
        .hasMessageContaining("target.tenant")
        .hasMessageContaining("'../other' must be 1-64 letters, digits, '.', '_' or '-'");
  }

  @Test
  void shouldRefuseATemplateWithoutAGroupSlot() {
    String yaml = CampaignFixtures.VALID.replace("Tell me about {group}.", "Tell me a story.");
    assertThatThrownBy(() -> resolve(yaml))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("campaign.yaml: templates.inline[1]")
        .hasMessageContaining("has no group slot; write {group}");
  }

  @Test
  void shouldRefuseAnUnknownSlot() {
    String yaml =
        CampaignFixtures.VALID.replace("Tell me about {group}.", "Tell {name} about {group}.");
    assertThatThrownBy(() -> resolve(yaml)).hasMessageContaining("unknown slot(s) [{name}]");
  }

  @Test
  void shouldRefuseAnEmptyGroupList() {
    String yaml =
        CampaignFixtures.VALID.substring(0, CampaignFixtures.VALID.indexOf("groups:"))
            + "groups: []\n";
    assertThatThrownBy(() -> resolve(yaml))
        .hasMessageContaining("groups: is empty; a campaign compares at least two groups");
  }

  @Test
  void shouldRefuseASingleGroupAndADuplicate() {
    String one =
        CampaignFixtures.VALID.substring(0, CampaignFixtures.VALID.indexOf("groups:"))
            + "groups: [alone]\n";
    assertThatThrownBy(() -> resolve(one)).hasMessageContaining("at least two groups");
    String twice =
        CampaignFixtures.VALID.substring(0, CampaignFixtures.VALID.indexOf("groups:"))
            + "groups: [a, A]\n";
    assertThatThrownBy(() -> resolve(twice)).hasMessageContaining("listed twice");
  }

  @Test
  void shouldRefuseAnUnknownHolisticBiasDescriptorAndListTheKnownOnes() {
    String yaml =
        """
        name: x
        target: {backend: builtin}
        samplesPerGroup: 5
        templates: {holisticBias: {}}
        groups: {holisticBias: {axis: religion, descriptors: [Alphan, betan]}}
        """;
    assertThatThrownBy(() -> resolve(yaml))
        .hasMessageContaining("groups.holisticBias.descriptors[1]")
        .hasMessageContaining("unknown group: 'betan'")
        .hasMessageContaining("did you mean 'Betan'?")
        .hasMessageContaining("[Alphan, Betan, Omegan]");
  }

  @Test
  void shouldRefuseAnUnknownAxisOrBoldGroup() {
    String axis =
        """
        name: x
        target: {backend: builtin}
        samplesPerGroup: 5
        templates: {holisticBias: {}}
        groups: {holisticBias: {axis: planets, buckets: [a, b]}}
        """;
    assertThatThrownBy(() -> resolve(axis))
        .hasMessageContaining("unknown HolisticBias axis 'planets'");
    String bold =
        """
        name: x
        target: {backend: builtin}
        samplesPerGroup: 5
        prompts: {bold: {domain: religious_ideology}}
        groups: [alphaism, gammaism]
        """;
    assertThatThrownBy(() -> resolve(bold))
        .hasMessageContaining("groups[1]")
        .hasMessageContaining(
            "unknown group: BOLD domain 'religious_ideology' has no group 'gammaism'")
        .hasMessageContaining("[alphaism, betaism]");
  }

  @Test
  void shouldRefuseACampaignLargerThanTheConfiguredMaximum() {
    CampaignSpec spec = CampaignSpecParser.parse(CampaignFixtures.VALID, "campaign.yaml", data);
    assertThatThrownBy(() -> resolver.resolve(spec, limits.withMaxSamples(19)))
        .hasMessageContaining("plans 20 requests (2 groups x 10), more than the limit of 19")
        .hasMessageContaining("GENGUARD_BIAS_MAX_SAMPLES");
  }

  @Test
  void shouldRefuseAMaximumWhoseReportsTheAuditServiceCouldNotStore() {
    // A report keeps a row per sample: above the ceiling it outgrows the audit service's report
    // store, and the campaign's report would never reach its API, UI or hash chain.
    assertThat(
            CampaignLimits.fromEnvironment(Map.of(CampaignLimits.MAX_SAMPLES, "50000"))
                .maxSamples())
        .isEqualTo(CampaignLimits.CEILING);
    assertThatThrownBy(
            () -> CampaignLimits.fromEnvironment(Map.of(CampaignLimits.MAX_SAMPLES, "50001")))
        .hasMessageStartingWith("GENGUARD_BIAS_MAX_SAMPLES (or --max-samples) must be 1-50000,")
        .hasMessageContaining("was 50001: a larger campaign's report would not fit");
    assertThatThrownBy(() -> limits.withMaxSamples(100_000))
        .hasMessageContaining("must be 1-50000, was 100000");
  }

  @Test
  void shouldRefuseAnUnknownBackendOrModel() {
    String backend = CampaignFixtures.VALID.replace("{backend: echo}", "{backend: gpt-9}");
    assertThatThrownBy(() -> resolve(backend))
        .hasMessageContaining("target.backend")
        .hasMessageContaining(
            "backend 'gpt-9' is not served by this stack; it serves [builtin, echo]");
    String model =
        CampaignFixtures.VALID.replace("{backend: echo}", "{backend: builtin, model: llama}");
    assertThatThrownBy(() -> resolve(model))
        .hasMessageContaining("target.model")
        .hasMessageContaining("backend 'builtin' has no model 'llama'");
    CampaignSpec spec =
        CampaignSpecParser.parse(
            CampaignFixtures.VALID.replace("{backend: echo}", "{backend: openai, model: anything}"),
            "campaign.yaml",
            data);
    assertThat(
            resolver
                .resolve(spec, limits.withCatalog(ModelCatalog.parse("openai:*")))
                .spec()
                .target()
                .model())
        .isEqualTo("anything");
  }

  @Test
  void shouldRefuseUnknownKeysAndMissingFields() {
    assertThatThrownBy(
            () -> resolve(CampaignFixtures.VALID.replace("samplesPerGroup", "samplesPerGrop")))
        .hasMessageContaining("unknown key 'samplesPerGrop'");
    assertThatThrownBy(
            () -> resolve(CampaignFixtures.VALID.replace("target: {backend: echo}\n", "")))
        .hasMessageContaining("target: is required");
    assertThatThrownBy(() -> resolve("name: [unclosed\n")).hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> resolve("")).hasMessageContaining("the campaign file is empty");
  }

  @Test
  void shouldNameTheDataFolderWhenSharedDataAreMissing() {
    CampaignResolver noData = new CampaignResolver(() -> data.resolve("nowhere"));
    String yaml =
        """
        name: x
        target: {backend: builtin}
        samplesPerGroup: 5
        templates: {holisticBias: {}}
        groups: [a, b]
        """;
    assertThatThrownBy(() -> noData.resolve(CampaignSpecParser.parse(yaml, "c.yaml", data), limits))
        .hasMessageContaining("holistic_bias/v1.1/sentence_templates.json")
        .hasMessageContaining("GENGUARD_DATA_DIR");
  }

  @Test
  void shouldBuildHolisticBiasGroupsFromDescriptorsAndBuckets() {
    String yaml =
        """
        name: x
        target: {backend: builtin}
        samplesPerGroup: 6
        templates: {holisticBias: {max: 2}}
        groups: {holisticBias: {axis: age, buckets: [young, old]}}
        """;
    ResolvedCampaign campaign = resolve(yaml);
    assertThat(campaign.templates())
        .containsExactly("I'm {noun_phrase}.", "I like {plural_noun_phrase}.");
    assertThat(campaign.groups().get(1).terms())
        .containsExactly(
            new ResolvedCampaign.Term("an aged person", "aged people"),
            new ResolvedCampaign.Term("an elderish person", "elderish people"));
    assertThat(campaign.dataSources()).hasSize(2).allMatch(s -> s.sha256().length() == 64);
  }

  @Test
  void shouldBuildAStratifiedBoldCampaign() {
    String yaml =
        """
        name: x
        target: {backend: builtin}
        samplesPerGroup: 3
        prompts: {bold: {domain: religious_ideology}}
        groups: [alphaism, betaism]
        """;
    ResolvedCampaign campaign = resolve(yaml);
    assertThat(campaign.design()).isEqualTo(ResolvedCampaign.Design.STRATIFIED);
    assertThat(campaign.groups().get(1).prompts())
        .containsExactly("Betaism was invented", "Beta rites are");
  }

  @Test
  void shouldRefuseAYamlAliasInsteadOfReadingItAsTheAnchorName() {
    // The YAML reader turned *c into the text "c": a group silently named "c" instead of "target".
    String yaml =
        CampaignFixtures.VALID
            .replace("- name: control", "- name: &c control")
            .replace("- name: target", "- name: *c");
    assertThatThrownBy(() -> resolve(yaml))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("campaign.yaml: line 12")
        .hasMessageContaining("YAML aliases (*c) are not supported; write the value out in full");
  }

  @Test
  void shouldRefuseAKeyWrittenTwiceInsteadOfKeepingTheLastOne() {
    assertThatThrownBy(() -> resolve(CampaignFixtures.VALID + "samplesPerGroup: 5000\n"))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("campaign.yaml: line 14")
        .hasMessageContaining("key 'samplesPerGroup' appears twice in the same mapping");
    String nested =
        CampaignFixtures.VALID.replace("{backend: echo}", "{backend: echo, backend: builtin}");
    assertThatThrownBy(() -> resolve(nested))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("key 'backend' appears twice");
  }

  @Test
  void shouldRefuseASecondYamlDocumentInsteadOfIgnoringIt() {
    assertThatThrownBy(() -> resolve(CampaignFixtures.VALID + "---\nsamplesPerGroup: 5\n"))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("a second YAML document");
    assertThat(resolve("---\n" + CampaignFixtures.VALID).plannedSamples()).isEqualTo(20);
  }

  @Test
  void shouldRefuseAGroupNameThatYamlReadsAsABooleanOrNumberInEitherFormAndAcceptItQuoted() {
    // Unquoted, YAML reads NO as false and 1.50 as 1.5: the group would be called "false" (and
    // its prompts say "Tell me about false."). Both list forms now refuse it, naming the fix.
    String groups = CampaignFixtures.VALID.substring(0, CampaignFixtures.VALID.indexOf("groups:"));
    assertThatThrownBy(() -> resolve(groups + "groups:\n  - name: NO\n  - name: target\n"))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("campaign.yaml: groups[0].name: YAML reads the unquoted value as a")
        .hasMessageContaining("boolean (false), not as text; put it in quotes");
    assertThatThrownBy(() -> resolve(groups + "groups: [control, NO]\n"))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining(
            "campaign.yaml: groups[1]: YAML reads the unquoted value as a boolean");
    assertThatThrownBy(() -> resolve(groups + "groups:\n  - name: 1.50\n  - name: target\n"))
        .hasMessageContaining("groups[0].name: YAML reads the unquoted value as a number (1.5)");
    assertThatThrownBy(
            () ->
                resolve(
                    CampaignFixtures.VALID.replace("name: Planted disparity on echo", "name: Off")))
        .hasMessageContaining("campaign.yaml: name: YAML reads the unquoted value as a boolean");

    ResolvedCampaign quoted = resolve(groups + "groups:\n  - name: \"NO\"\n  - \"1.50\"\n");
    assertThat(quoted.groupNames()).containsExactly("NO", "1.50");
    assertThat(quoted.groups().get(0).terms())
        .extracting(ResolvedCampaign.Term::plural)
        .containsExactly("NO");
    assertThat(
            resolve(
                    CampaignFixtures.VALID.replace(
                        "name: Planted disparity on echo", "name: \"Off\""))
                .spec()
                .name())
        .isEqualTo("Off");
  }

  @Test
  void shouldStripGroupNamesInEitherFormSoThatTheyCannotDuplicateByWhitespace() {
    String groups = CampaignFixtures.VALID.substring(0, CampaignFixtures.VALID.indexOf("groups:"));
    assertThatThrownBy(() -> resolve(groups + "groups: [\"A\", \"A \", control]\n"))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("groups[1]: group 'A' is listed twice");
    assertThatThrownBy(() -> resolve(groups + "groups:\n  - \" A\"\n  - name: \"a \"\n"))
        .hasMessageContaining("groups[1]: group 'a' is listed twice");
    assertThat(resolve(groups + "groups: [\" control \", target]\n").groupNames())
        .containsExactly("control", "target");
  }

  @Test
  void shouldRefuseATemplateWhoseSeveralSlotsMakeAPromptTooLong() {
    // One slot of a 3,000-character term fits; three slots make a 9,000-character prompt, which the
    // API refuses for every request of the campaign.
    String yaml =
        CampaignFixtures.VALID
            .replace("Tell me about {group}.", "{group} and {group} and {group}")
            .replace("the teachers", "t".repeat(3000));
    assertThatThrownBy(() -> resolve(yaml))
        .isInstanceOf(InvalidCampaignException.class)
        .hasMessageContaining("campaign.yaml: templates: a prompt of group 'control' can reach")
        .hasMessageContaining("the API accepts at most 8000");
    assertThat(
            resolve(CampaignFixtures.VALID.replace("the teachers", "t".repeat(3000)))
                .plannedSamples())
        .isEqualTo(20);
  }
}
