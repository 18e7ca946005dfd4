package io.genguard.bias.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.campaign.PlannedSample;
import io.genguard.bias.persistence.AuditStoreReader.StreamMetric;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.JudgedOutput;
import io.genguard.provenance.text.LoneSurrogates;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReportExportTest {
  private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");

  static CampaignRecord campaign() {
    return new CampaignRecord(
        "bias-test",
        "Planted <disparity> & friends",
        "COUNTERFACTUAL",
        "bias-audit",
        "echo",
        null,
        20,
        List.of("control", "target"),
        1,
        40,
        "{\"templates\": [\"{group} moved in.\"], \"sampling\": {}}",
        "ab".repeat(32),
        "[]",
        NOW.minusSeconds(60));
  }

  /** 20 samples per group; target samples 0..7 unsafe; sample 39 never judged. */
  static List<SampleOutcome> outcomes() {
    List<SampleOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String group = i % 2 == 0 ? "control" : "target";
      boolean unsafe = group.equals("target") && i / 2 < 8;
      PlannedSample sample =
          new PlannedSample(i, group, i / 2, 0, "{group} moved in.", group + " <term>", "text", 7L);
      if (i == 39) {
        outcomes.add(
            new SampleOutcome(sample, List.of("req-39"), Optional.empty(), Optional.empty()));
        continue;
      }
      JudgedOutput judged =
          new JudgedOutput(
              "req-" + i,
              "verdict-" + i,
              unsafe ? "BLOCK" : "RELEASE",
              unsafe ? 1.0 : 0.0,
              Map.of("harassment", unsafe ? 1.0 : 0.0),
              List.of(),
              unsafe ? "the <b>bastards</b> moved in" : "the teachers moved in",
              "echo/echo@1",
              NOW.plusMillis(i));
      outcomes.add(
          new SampleOutcome(sample, List.of("req-" + i), Optional.of(judged), Optional.empty()));
    }
    return outcomes;
  }

  static BiasReport report() {
    return ReportBuilder.build(
        "report-1",
        campaign(),
        outcomes(),
        Map.of("control", new StreamMetric("control", 20, 0, 0, 0, 20)),
        AnalysisSettings.defaults(),
        NOW);
  }

  @Test
  void shouldBuildAPartialReportThatNamesTheMissingSampleAndTheRowsBehindEachFigure() {
    BiasReport report = report();
    assertThat(report.status()).isEqualTo("PARTIAL");
    assertThat(report.missing())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.sampleIndex()).isEqualTo(39);
              assertThat(m.state()).isEqualTo("PENDING");
              assertThat(m.requestIds()).containsExactly("req-39");
            });
    assertThat(report.sampleSizes().perGroup())
        .containsEntry("control", 20L)
        .containsEntry("target", 19L);
    BiasReport.Figure unsafe =
        report.groups().get(1).figures().stream()
            .filter(f -> f.metric().equals("unsafe_rate"))
            .findFirst()
            .orElseThrow();
    assertThat(unsafe.events()).isEqualTo(8);
    assertThat(unsafe.requestIds())
        .containsExactly("req-1", "req-3", "req-5", "req-7", "req-9", "req-11", "req-13", "req-15");
    assertThat(report.headline().disparityDetected()).isTrue();
    assertThat(report.fourFifths().flagged()).isTrue();
    assertThat(report.streamCheck())
        .extracting(BiasReport.StreamCheck::agrees)
        .containsExactly(true, false);
    assertThat(report.limits()).anyMatch(l -> l.startsWith("PARTIAL: 39 of 40"));
    assertThat(report.limits()).anyMatch(l -> l.startsWith("Underpowered"));
    assertThat(report.limits())
        .contains(
            "Only requests of the campaign's tenant (bias-audit) count: another tenant's requests"
                + " naming this campaign's id are not analysed.")
        .noneMatch(l -> l.contains("of other tenants named"));
  }

  @Test
  void shouldLeaveASampleJudgedWithoutScoresOutOfTheRatesAndListIt() {
    List<SampleOutcome> outcomes = new ArrayList<>(outcomes());
    SampleOutcome first = outcomes.get(1); // a target sample the scorer failed on
    JudgedOutput judged = first.judged().orElseThrow();
    outcomes.set(
        1,
        new SampleOutcome(
            first.sample(),
            first.requestIds(),
            Optional.of(
                new JudgedOutput(
                    judged.requestId(),
                    judged.verdictId(),
                    "REVIEW",
                    0.0,
                    Map.of(),
                    List.of(),
                    judged.text(),
                    judged.model(),
                    judged.decidedAt(),
                    "scorer.timeout: the scorer took longer than 30 s")),
            Optional.empty()));

    BiasReport report =
        ReportBuilder.build(
            "report-3", campaign(), outcomes, Map.of(), 0, AnalysisSettings.defaults(), NOW);

    assertThat(report.sampleSizes().perGroup())
        .as("not counted as a safe output of its group")
        .containsEntry("target", 18L);
    assertThat(report.rows()).extracting(BiasReport.Row::requestId).doesNotContain("req-1");
    assertThat(report.missing())
        .anySatisfy(
            m -> {
              assertThat(m.sampleIndex()).isEqualTo(1);
              assertThat(m.state()).isEqualTo("UNSCORED");
              assertThat(m.reason())
                  .isEqualTo(
                      "judged without scores (scorer.timeout: the scorer took longer than 30 s):"
                          + " the policy held it; left out of the rates");
            });
    assertThat(report.limits())
        .anyMatch(l -> l.startsWith("PARTIAL: 38 of 40") && l.contains("1 judged without scores"));
  }

  @Test
  void shouldNameOtherTenantsRequestsThatClaimTheCampaignWithoutCountingThem() {
    BiasReport report =
        ReportBuilder.build(
            "report-2", campaign(), outcomes(), Map.of(), 3, AnalysisSettings.defaults(), NOW);
    assertThat(report.limits())
        .contains(
            "3 requests of other tenants named this campaign's id (campaign.id) and were not"
                + " counted; find them with GET /api/v1/outputs?attribute=campaign.id:bias-test"
                + " and a global token.");
    assertThat(report.sampleSizes().analysed()).isEqualTo(report().sampleSizes().analysed());
  }

  @Test
  void shouldRoundTripThroughJsonWithoutNaN() {
    BiasReport report = report();
    String json = ReportExporter.toJson(report);
    assertThat(json).doesNotContain("NaN");
    assertThat(ReportExporter.fromJson(json)).isEqualTo(report);
  }

  @Test
  void shouldWriteCsvWithOneRowPerGroupFigureDisparityAndTest() {
    BiasReport report = report();
    String csv =
        new String(ReportExporter.toBytes(report, ReportFormat.CSV), StandardCharsets.UTF_8);
    String[] lines = csv.split("\r\n");
    assertThat(lines[0]).startsWith("campaign_id,report_id,section,metric,group");
    int figures = report.groups().size() * report.groups().get(0).figures().size();
    assertThat(lines)
        .hasSize(
            3
                + report.limits().size()
                + figures
                + report.disparities().size()
                + report.tests().size());
    assertThat(lines[1]).startsWith("bias-test,report-1,headline,disparity_detected,,,");
    assertThat(csv).contains("bias-test,report-1,group,unsafe_rate,target,,19,8,0.421053");
    assertThat(csv).contains("req-1 req-3 req-5");
  }

  @Test
  void shouldSayInCsvThatAReportIsPartialAndListItsLimits() {
    // The CSV of a PARTIAL report could not be told from that of a complete one.
    BiasReport report = report();
    String[] lines =
        new String(ReportExporter.toBytes(report, ReportFormat.CSV), StandardCharsets.UTF_8)
            .split("\r\n");

    assertThat(lines[2])
        .isEqualTo("bias-test,report-1,status,PARTIAL,,,40,39,,,,,,2026-11-25T12:00:00Z,,,,,");
    List<String> limits =
        java.util.Arrays.stream(lines)
            .filter(l -> l.startsWith("bias-test,report-1,limit,"))
            .toList();
    assertThat(limits).hasSize(report.limits().size());
    assertThat(limits.get(0))
        .startsWith("bias-test,report-1,limit,,,,,,,,,,,\"PARTIAL: 39 of 40 planned samples")
        .endsWith("under-represented.\",,,,,");
    assertThat(limits).anyMatch(l -> l.contains(",\"Underpowered for small effects: "));
  }

  @Test
  void shouldWriteASelfContainedHtmlPageWithChartsIntervalsAndEscapedText() {
    String html =
        new String(ReportExporter.toBytes(report(), ReportFormat.HTML), StandardCharsets.UTF_8);
    assertThat(html).startsWith("<!DOCTYPE html>");
    assertThat(html).contains("<svg", "<circle", "class=\"whisker");
    assertThat(html)
        .contains("Disparity detected", "Method", "Limits", "Sample sizes", "Missing samples");
    assertThat(html).contains("id=\"r-req-1\"", "href=\"#r-req-1\"");
    assertThat(html)
        .contains("Planted &lt;disparity&gt; &amp; friends", "the &lt;b&gt;bastards&lt;/b&gt;");
    assertThat(html).doesNotContain("<b>bastards</b>", "<script", "http://", "https://");
  }

  /**
   * The verdict cell shows a verdict id's first 13 characters; the row carries the whole id (a data
   * subject's erasure tells two tenants' rows by it). Without it, two ids alike in their first 13
   * characters could not be told apart (fails without the data-verdict attribute).
   */
  @Test
  void shouldCarryEachRowsWholeVerdictIdBesideItsShortenedCell() {
    List<SampleOutcome> outcomes = new ArrayList<>();
    for (SampleOutcome outcome : outcomes()) {
      outcomes.add(
          outcome.judged().isEmpty()
              ? outcome
              : new SampleOutcome(
                  outcome.sample(),
                  outcome.requestIds(),
                  outcome
                      .judged()
                      .map(
                          j ->
                              new JudgedOutput(
                                  j.requestId(),
                                  "0123456789abc-\"" + j.verdictId(),
                                  j.decision(),
                                  j.unsafeScore(),
                                  j.categoryScores(),
                                  j.detectedGroups(),
                                  j.text(),
                                  j.model(),
                                  j.decidedAt())),
                  outcome.failure()));
    }
    BiasReport report =
        ReportBuilder.build(
            "report-1",
            campaign(),
            outcomes,
            Map.of("control", new StreamMetric("control", 20, 0, 0, 0, 20)),
            AnalysisSettings.defaults(),
            NOW);

    String html =
        new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8);

    assertThat(html)
        .contains(
            "<tr id=\"r-req-1\" data-verdict=\"0123456789abc-&quot;verdict-1\" class=\"unsafe\">"
                + "<td>1</td><td><code>req-1</code></td><td><code>0123456789abc\u2026</code></td>",
            "<tr id=\"r-req-0\" data-verdict=\"0123456789abc-&quot;verdict-0\"><td>0</td>");
  }

  @Test
  void shouldShowNoScoreIntervalInAPartialReportOfOneOutputPerGroup() {
    // Only samples 0 (control, score 0.0) and 1 (target, score 1.0) judged: the mean score's
    // bootstrap gave each group a zero-width interval and the method text then said the data ruled
    // out parity, while Mann-Whitney in the same report gave p = 1.
    List<SampleOutcome> outcomes = new ArrayList<>();
    for (SampleOutcome outcome : outcomes()) {
      outcomes.add(
          outcome.sample().sampleIndex() < 2
              ? outcome
              : new SampleOutcome(outcome.sample(), List.of(), Optional.empty(), Optional.empty()));
    }
    BiasReport report =
        ReportBuilder.build(
            "report-2", campaign(), outcomes, Map.of(), AnalysisSettings.defaults(), NOW);

    BiasReport.MetricDisparity score =
        report.disparities().stream()
            .filter(d -> d.metric().equals("mean_unsafe_score"))
            .findFirst()
            .orElseThrow();
    assertThat(score.difference()).isEqualTo(1.0);
    assertThat(score.differenceLow()).isNull();
    assertThat(score.differenceHigh()).isNull();
    assertThat(score.ratioLow()).isNull();
    assertThat(report.groups())
        .flatExtracting(BiasReport.GroupFigures::figures)
        .filteredOn(f -> f.metric().equals("mean_unsafe_score"))
        .allSatisfy(f -> assertThat(f.low()).isNull());
    assertThat(report.method()).contains("A group with fewer than 2 outputs gets no interval");
    String html =
        new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8);
    assertThat(html).contains("[no interval: too few outputs]");
  }

  @Test
  void shouldNotCallTheFourFifthsRuleFlaggedWhenItsIntervalReachesTheThreshold() {
    // Two outputs per group, one of the target's held for review: release ratio 0.50, but its
    // interval [0.08, 1.00] reaches 0.8 and every test has p near 1. The summary said "Four-fifths
    // rule flagged" and the HTML showed the "flagged" badge, an adverse-impact finding from noise.
    List<SampleOutcome> outcomes = new ArrayList<>();
    for (SampleOutcome outcome : outcomes()) {
      int index = outcome.sample().sampleIndex();
      if (index >= 4) {
        continue;
      }
      JudgedOutput j = outcome.judged().orElseThrow();
      boolean held = index == 1;
      outcomes.add(
          new SampleOutcome(
              outcome.sample(),
              outcome.requestIds(),
              Optional.of(
                  new JudgedOutput(
                      j.requestId(),
                      j.verdictId(),
                      held ? "REVIEW" : "RELEASE",
                      held ? 0.6 : 0.1,
                      Map.of(),
                      List.of(),
                      j.text(),
                      j.model(),
                      j.decidedAt())),
              Optional.empty()));
    }
    CampaignRecord c = campaign();
    CampaignRecord small =
        new CampaignRecord(
            c.campaignId(),
            c.name(),
            c.design(),
            c.tenantId(),
            c.backend(),
            c.model(),
            2,
            c.groups(),
            c.templateCount(),
            4,
            c.spec(),
            c.specSha256(),
            c.dataSources(),
            c.createdAt());
    BiasReport report =
        ReportBuilder.build(
            "report-4", small, outcomes, Map.of(), AnalysisSettings.defaults(), NOW);

    assertThat(report.fourFifths().flagged()).isTrue();
    assertThat(report.fourFifths().flaggedWithConfidence()).isFalse();
    assertThat(report.fourFifths().high()).isGreaterThanOrEqualTo(0.8);
    String summary = report.headline().summary();
    assertThat(summary).doesNotContain("Four-fifths rule flagged");
    assertThat(summary)
        .contains(
            String.format(
                Locale.ROOT,
                "Four-fifths ratio below 0.80 but not confirmed: release rate of target is 50%% of"
                    + " control's, and its interval [%.2f, %.2f] reaches 0.80",
                report.fourFifths().low(),
                report.fourFifths().high()));
    String html =
        new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8);
    assertThat(html).doesNotContain("<span class=\"badge warn\">flagged</span>");
    assertThat(html).contains("below 0.80, not confirmed");
  }

  @Test
  void shouldCallTheFourFifthsRuleFlaggedWhenItsWholeIntervalIsBelowTheThreshold() {
    // 0 of 20 control outputs blocked against 20 of 20 target outputs: no doubt about it.
    List<SampleOutcome> outcomes = new ArrayList<>();
    for (SampleOutcome outcome : outcomes()) {
      JudgedOutput j = outcome.judged().orElse(null);
      boolean target = outcome.sample().group().equals("target");
      outcomes.add(
          j == null
              ? outcome
              : new SampleOutcome(
                  outcome.sample(),
                  outcome.requestIds(),
                  Optional.of(
                      new JudgedOutput(
                          j.requestId(),
                          j.verdictId(),
                          target ? "BLOCK" : "RELEASE",
                          target ? 1.0 : 0.0,
                          Map.of(),
                          List.of(),
                          j.text(),
                          j.model(),
                          j.decidedAt())),
                  Optional.empty()));
    }
    BiasReport report =
        ReportBuilder.build(
            "report-5", campaign(), outcomes, Map.of(), AnalysisSettings.defaults(), NOW);
    assertThat(report.fourFifths().flaggedWithConfidence()).isTrue();
    assertThat(report.headline().summary())
        .contains("Four-fifths rule flagged: release rate of target is 0% of control's");
    String html =
        new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8);
    assertThat(html).contains("<span class=\"badge warn\">flagged</span>");
  }

  @Test
  void shouldListPairsThatCannotDifferAsNotTestedInEveryFormat() {
    // Three groups; only "target" has unsafe (blocked) outputs, so control and other cannot differ
    // on the unsafe, release, block and harassment rates: not tests, and not in the family.
    CampaignRecord c = campaign();
    CampaignRecord three =
        new CampaignRecord(
            c.campaignId(),
            c.name(),
            c.design(),
            c.tenantId(),
            c.backend(),
            c.model(),
            20,
            List.of("control", "target", "other"),
            c.templateCount(),
            60,
            c.spec(),
            c.specSha256(),
            c.dataSources(),
            c.createdAt());
    List<SampleOutcome> outcomes = new ArrayList<>(outcomes());
    for (int i = 0; i < 20; i++) {
      PlannedSample sample =
          new PlannedSample(40 + i, "other", i, 0, "{group} moved in.", "other", "text", 7L);
      JudgedOutput judged =
          new JudgedOutput(
              "req-o" + i,
              "verdict-o" + i,
              "RELEASE",
              0.0,
              Map.of("harassment", 0.0),
              List.of(),
              "the teachers moved in",
              "echo/echo@1",
              NOW.plusMillis(40 + i));
      outcomes.add(
          new SampleOutcome(sample, List.of("req-o" + i), Optional.of(judged), Optional.empty()));
    }
    BiasReport report =
        ReportBuilder.build(
            "report-6", three, outcomes, Map.of(), AnalysisSettings.defaults(), NOW);

    assertThat(report.untestedPairs())
        .extracting(u -> u.metric() + " " + u.groupA() + "-" + u.groupB())
        .contains(
            "unsafe_rate control-other",
            "release_rate control-other",
            "block_rate control-other",
            "category:harassment control-other",
            "mean_unsafe_score control-other");
    assertThat(report.tests())
        .noneMatch(t -> t.groupA().equals("control") && t.groupB().equals("other"));
    assertThat(report.headline().testsRun()).isEqualTo(report.tests().size());
    assertThat(report.headline().summary()).contains("of " + report.tests().size() + " tests");
    String html =
        new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8);
    assertThat(html)
        .contains(
            "unsafe_rate, control vs other: not tested (neither group has an event (0 of 20, 0 of"
                + " 20))");
    String csv =
        new String(ReportExporter.toBytes(report, ReportFormat.CSV), StandardCharsets.UTF_8);
    assertThat(csv)
        .contains(
            "bias-test,report-6,untested,unsafe_rate,control,other,,,,,,,,\"not tested: neither"
                + " group has an event (0 of 20, 0 of 20)\",,,,,\r\n");
    assertThat(ReportExporter.fromJson(ReportExporter.toJson(report))).isEqualTo(report);
  }

  @Test
  void shouldKeepGroupNamesThatLookLikeSpreadsheetFormulasInertInCsv() {
    // A group name is free text from the campaign file; a spreadsheet opening the CSV runs a cell
    // starting with = + - @ as a formula (CSV injection).
    Map<String, String> names = Map.of("control", "=HYPERLINK(\"x\")", "target", "@SUM(A1)");
    CampaignRecord c = campaign();
    CampaignRecord renamed =
        new CampaignRecord(
            c.campaignId(),
            c.name(),
            c.design(),
            c.tenantId(),
            c.backend(),
            c.model(),
            c.samplesPerGroup(),
            List.of(names.get("control"), names.get("target")),
            c.templateCount(),
            c.plannedSamples(),
            c.spec(),
            c.specSha256(),
            c.dataSources(),
            c.createdAt());
    List<SampleOutcome> outcomes =
        outcomes().stream()
            .map(
                o -> {
                  PlannedSample s = o.sample();
                  return new SampleOutcome(
                      new PlannedSample(
                          s.sampleIndex(),
                          names.get(s.group()),
                          s.slot(),
                          s.templateIndex(),
                          s.template(),
                          s.term(),
                          s.prompt(),
                          s.seed()),
                      o.requestIds(),
                      o.judged(),
                      o.failure());
                })
            .toList();
    BiasReport report =
        ReportBuilder.build(
            "report-1", renamed, outcomes, Map.of(), AnalysisSettings.defaults(), NOW);
    String csv =
        new String(ReportExporter.toBytes(report, ReportFormat.CSV), StandardCharsets.UTF_8);
    for (String line : csv.split("\r\n")) {
      for (String cell : line.split(",", -1)) {
        String value = cell.startsWith("\"") ? cell.substring(1) : cell;
        assertThat(value).as(line).doesNotStartWith("=").doesNotStartWith("@");
      }
    }
    assertThat(csv).contains(",group,unsafe_rate,'@SUM(A1),,19,8,0.421053");
    assertThat(csv).contains("\"'=HYPERLINK(\"\"x\"\")\"");
    // Numbers keep their sign: a negative difference is not a formula.
    assertThat(csv).containsPattern(",test,unsafe_rate,[^\r]*,-0\\.4");
  }

  /** {@link #outcomes()} with each judged output's text replaced by {@code text}. */
  private static List<SampleOutcome> withText(String text) {
    return outcomes().stream()
        .map(
            o ->
                o.judged()
                    .map(
                        j ->
                            new SampleOutcome(
                                o.sample(),
                                o.requestIds(),
                                Optional.of(
                                    new JudgedOutput(
                                        j.requestId(),
                                        j.verdictId(),
                                        j.decision(),
                                        j.unsafeScore(),
                                        j.categoryScores(),
                                        j.detectedGroups(),
                                        text,
                                        j.model(),
                                        j.decidedAt())),
                                o.failure()))
                    .orElse(o))
        .toList();
  }

  @Test
  void shouldExportJsonAsTheStoredTextWithEmojiUnescaped() {
    // Jackson's UTF-8 writer escaped a character beyond the BMP as two \\u escapes of its halves,
    // while the stored text (toJson) holds it as is: the export did not hash to document_sha256.
    BiasReport report =
        ReportBuilder.build(
            "report-e",
            campaign(),
            withText("we moved in \uD83D\uDE00 today"),
            Map.of(),
            AnalysisSettings.defaults(),
            NOW);

    byte[] exported = ReportExporter.toBytes(report, ReportFormat.JSON);

    assertThat(exported).isEqualTo(ReportExporter.toJson(report).getBytes(StandardCharsets.UTF_8));
    assertThat(new String(exported, StandardCharsets.UTF_8))
        .contains("we moved in \uD83D\uDE00 today")
        .doesNotContain("\\uD83D");
  }

  @Test
  void shouldShortenTextsWithoutSplittingACharacterBeyondTheBmp() {
    String emoji = "\uD83D\uDE00";
    BiasReport cutBefore =
        ReportBuilder.build(
            "report-c",
            campaign(),
            withText("a".repeat(399) + emoji + " and more"),
            Map.of(),
            AnalysisSettings.defaults(),
            NOW);
    BiasReport keptWhole =
        ReportBuilder.build(
            "report-k",
            campaign(),
            withText("a".repeat(398) + emoji + " and more"),
            Map.of(),
            AnalysisSettings.defaults(),
            NOW);

    assertThat(cutBefore.rows().get(0).text()).isEqualTo("a".repeat(399) + "…");
    assertThat(keptWhole.rows().get(0).text()).isEqualTo("a".repeat(398) + emoji + "…");
    for (BiasReport report : List.of(cutBefore, keptWhole)) {
      String json = ReportExporter.toJson(report);
      assertThat(LoneSurrogates.first(json)).isEqualTo(-1);
      assertThat(new String(json.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
          .as("the stored UTF-8 reads back as the same text (no '?')")
          .isEqualTo(json);
    }
  }

  @Test
  void shouldSayNoComparisonWasPossibleWhenAGroupHasNoJudgedOutput() {
    // The generator refused every target prompt: nothing compared target with control, yet the
    // report said "No significant disparity" in green.
    List<SampleOutcome> outcomes = new ArrayList<>();
    for (SampleOutcome o : outcomes()) {
      outcomes.add(
          o.sample().group().equals("target")
              ? new SampleOutcome(
                  o.sample(),
                  o.requestIds(),
                  Optional.empty(),
                  Optional.of(
                      new SampleOutcome.Failure(
                          o.requestIds().get(0), "backend.refused", "content filter")))
              : o);
    }
    BiasReport report =
        ReportBuilder.build(
            "report-n", campaign(), outcomes, Map.of(), AnalysisSettings.defaults(), NOW);

    assertThat(report.headline().disparityDetected()).isFalse();
    assertThat(report.headline().notCompared())
        .isEqualTo("group 'target' has no judged output (20 failed)");
    assertThat(report.headline().summary())
        .startsWith("No comparison possible: group 'target' has no judged output (20 failed).")
        .doesNotContain("No significant disparity");
    String html =
        new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8);
    assertThat(html)
        .contains("<section id=\"headline\" class=\"verdict neutral\"><h2>No comparison possible")
        .contains("Nothing was tested: group &#39;target&#39; has no judged output (20 failed).")
        .doesNotContain("verdict calm", "No significant disparity", "No metric varied");
    String csv =
        new String(ReportExporter.toBytes(report, ReportFormat.CSV), StandardCharsets.UTF_8);
    assertThat(csv.split("\r\n")[1])
        .startsWith("bias-test,report-n,headline,no_comparison_possible,,,0,0,")
        .contains("No comparison possible: group 'target' has no judged output (20 failed).");
    assertThat(ReportExporter.fromJson(ReportExporter.toJson(report))).isEqualTo(report);
  }

  @Test
  void shouldSayNoComparisonWasPossibleWithoutAnyOutput() {
    List<SampleOutcome> pending =
        outcomes().stream()
            .map(
                o ->
                    new SampleOutcome(
                        o.sample(), o.requestIds(), Optional.empty(), Optional.empty()))
            .toList();
    BiasReport report =
        ReportBuilder.build(
            "report-p", campaign(), pending, Map.of(), AnalysisSettings.defaults(), NOW);

    assertThat(report.headline().summary())
        .isEqualTo("No comparison possible: no group has a judged output (40 pending).");
    assertThat(
            new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8))
        .contains("class=\"verdict neutral\"")
        .doesNotContain("No metric varied");
  }

  @Test
  void shouldKeepTheTextsOfABoundedNumberOfRowsUnsafeFirstAndSaySo() {
    // Three groups of 100, 2,000 and 2,000 rows: 2,000 texts in all; the small group keeps all of
    // its 100, the others share the rest; in each group the unsafe rows come first.
    List<String> groups = List.of("small", "big-a", "big-b");
    List<SampleOutcome> outcomes = new ArrayList<>();
    int index = 0;
    for (String group : groups) {
      int n = group.equals("small") ? 100 : 2_000;
      for (int i = 0; i < n; i++, index++) {
        boolean unsafe = i >= n - 10; // the last ten of each group
        String id = "req-" + index;
        outcomes.add(
            new SampleOutcome(
                new PlannedSample(index, group, i, 0, "{group} moved in.", group, "p", 7L),
                List.of(id),
                Optional.of(
                    new JudgedOutput(
                        id,
                        "verdict-" + index,
                        unsafe ? "BLOCK" : "RELEASE",
                        unsafe ? 0.9 : 0.1,
                        Map.of(),
                        List.of(),
                        "text " + index,
                        "echo/echo@1",
                        NOW)),
                Optional.empty()));
      }
    }
    CampaignRecord c = campaign();
    CampaignRecord three =
        new CampaignRecord(
            c.campaignId(),
            c.name(),
            c.design(),
            c.tenantId(),
            c.backend(),
            c.model(),
            2_000,
            groups,
            c.templateCount(),
            index,
            c.spec(),
            c.specSha256(),
            c.dataSources(),
            c.createdAt());

    BiasReport report =
        ReportBuilder.build(
            "report-t", three, outcomes, Map.of(), AnalysisSettings.defaults(), NOW);

    assertThat(report.rows()).hasSize(4_100);
    Map<String, Long> texts = new java.util.HashMap<>();
    report.rows().stream()
        .filter(r -> r.text() != null)
        .forEach(r -> texts.merge(r.group(), 1L, Long::sum));
    assertThat(texts).containsEntry("small", 100L).containsEntry("big-a", 950L);
    assertThat(texts).containsEntry("big-b", 950L);
    assertThat(report.rows())
        .filteredOn(BiasReport.Row::unsafe)
        .allSatisfy(r -> assertThat(r.text()).isEqualTo("text " + r.sampleIndex()));
    assertThat(report.rows())
        .filteredOn(r -> r.group().equals("big-b") && !r.unsafe())
        .extracting(BiasReport.Row::text)
        .startsWith("text 2100")
        .endsWith((String) null);
    assertThat(report.limits())
        .contains(
            "Output texts are kept for 2000 of 4100 rows (at most 2000 in a report, shared among"
                + " the groups: unsafe outputs first, then flagged or held ones); the figures,"
                + " tests and every row's ids, decision and scores are complete. A row without its"
                + " text has the whole output at GET /api/v1/requests/{requestId}.");
    assertThat(
            new String(ReportExporter.toBytes(report, ReportFormat.HTML), StandardCharsets.UTF_8))
        .contains("kept for 2000 of 4100 rows (see Limits)")
        .contains("<td class=\"note\">not kept</td>");
    assertThat(ReportExporter.fromJson(ReportExporter.toJson(report))).isEqualTo(report);
  }
}
