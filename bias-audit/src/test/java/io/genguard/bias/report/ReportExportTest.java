package io.genguard.bias.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.campaign.PlannedSample;
import io.genguard.bias.persistence.AuditStoreReader.StreamMetric;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.JudgedOutput;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
    assertThat(lines).hasSize(1 + figures + report.disparities().size() + report.tests().size());
    assertThat(csv).contains("bias-test,report-1,group,unsafe_rate,target,,19,8,0.421053");
    assertThat(csv).contains("req-1 req-3 req-5");
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
}
