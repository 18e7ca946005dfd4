package io.genguard.audit.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.explain.PolicyWhatIf;
import io.genguard.audit.explain.ReplayingExplanations;
import io.genguard.audit.explain.VerdictExplanations;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.moderation.gate.GateTimings;
import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.pipeline.VerdictExplainer;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TopicReader;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The compliance UI in a real headless Chromium (Debian's chromium and chromedriver, driven by
 * Selenium) against a real audit service and the real release gate on the shared Kafka broker: a
 * reviewer logs in, opens a held output, approves it, and sees it released. A queue row shows the
 * start of an output only, so it never approves: the output's page, with the whole text, does.
 *
 * <p>Chromium missing fails this test (CI installs it in .ci/run); set
 * GENGUARD_SKIP_BROWSER_TESTS=1 to skip it on a machine without one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisabledIfEnvironmentVariable(
    named = ComplianceUiBrowserITCase.SKIP_VARIABLE,
    matches = "1",
    disabledReason =
        "GENGUARD_SKIP_BROWSER_TESTS=1: the compliance UI browser test is skipped (local runs only)")
class ComplianceUiBrowserITCase {
  static final String SKIP_VARIABLE = "GENGUARD_SKIP_BROWSER_TESTS";
  private static final Path CHROMIUM =
      Path.of(System.getenv().getOrDefault("GENGUARD_CHROMIUM", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER =
      Path.of(System.getenv().getOrDefault("GENGUARD_CHROMEDRIVER", "/usr/bin/chromedriver"));
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  /**
   * Model output whose first 280 characters (what a queue row shows) are calm and whose tail is
   * not: whoever writes the prompt controls the start.
   */
  private static final String CALM_START_HATEFUL_TAIL =
      "This is a calm and balanced paragraph about neighbours and community life. ".repeat(4)
          + "TAIL-ONLY-HATE: they are vermin and should be driven out.";

  /** Characters of the output a queue row shows. */
  private static final int EXCERPT = 280;

  /** Model output that tries to inject markup; the UI must show it as text. */
  private static final String HOSTILE_TEXT =
      "Some say <img src=x onerror=\"window.__xss=1\"> about believers.";

  private static RunningAuditService audit;
  private static KafkaStreams gate;
  private static Path gateState;
  private static Path browserProfile;
  private static Path anchors;
  private static WebDriver browser;
  private static Scenario held;

  @BeforeAll
  static void start() throws Exception {
    requireExecutable(CHROMIUM, "chromium");
    requireExecutable(CHROMEDRIVER, "chromium-driver");

    anchors = Files.createTempDirectory("anchors-ui-it-");
    audit =
        RunningAuditService.start(
            "compliance_ui_it",
            Clock.systemUTC(),
            config ->
                config
                    .withAnchorFile(anchors.resolve("anchors.jsonl"), 1)
                    .withAnchorSigningKeyFile(anchors.resolve("anchor-signing-keys"))
                    // Held items get a deadline, which the output's page shows.
                    .withReviewExpiry(24),
            new OcclusionOnly());
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    gateState = Files.createTempDirectory("gate-ui-it-");
    gate =
        new KafkaStreams(
            ReleaseGateTopology.buildTopology(
                Clock.systemUTC(), new GateTimings(Duration.ofDays(1), Duration.ofMinutes(15))),
            ReleaseGateTopology.streamsConfig(
                infra.kafkaClientProperties().get("bootstrap.servers").toString(),
                gateState.toString(),
                1));
    gate.start();

    // An output the policy held for review goes through the real gate (output + REVIEW verdict).
    held =
        Scenario.of("ui-" + UUID.randomUUID(), "acme", Decision.REVIEW, Instant.now())
            .withText(HOSTILE_TEXT);
    produce(Topics.GENERATION_REQUESTS, AuditEvents.request(held));
    produce(Topics.GENERATION_OUTPUTS, AuditEvents.output(held));
    produce(Topics.MODERATION_VERDICTS, AuditEvents.verdict(held));
    await()
        .atMost(PATIENCE)
        .until(
            () ->
                audit.count(
                        "select count(*) from review_item where request_id = '"
                            + held.requestId()
                            + "' and state = 'PENDING'")
                    == 1);

    browserProfile = Files.createTempDirectory("chromium-profile-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--user-data-dir=" + browserProfile,
        "--window-size=1400,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
  }

  private static void requireExecutable(Path path, String debianPackage) {
    if (!Files.isExecutable(path)) {
      throw new IllegalStateException(
          "The compliance UI browser test needs "
              + path
              + " (Debian package "
              + debianPackage
              + "). Install it with: apt-get install -y chromium chromium-driver (.ci/run does this), or"
              + " set "
              + SKIP_VARIABLE
              + "=1 to skip this test on a machine without a browser.");
    }
  }

  private static <V extends SpecificRecord> void produce(Topic<String, V> topic, V event)
      throws Exception {
    Properties props = new Properties();
    props.putAll(IntegrationInfrastructure.get().kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      String key = event.get(event.getSchema().getField("requestId").pos()).toString();
      producer.send(new ProducerRecord<>(topic.name(), key, topic.codec().encode(event))).get();
    }
  }

  @AfterAll
  static void stop() throws IOException {
    if (browser != null) {
      browser.quit();
    }
    if (gate != null) {
      gate.close(Duration.ofSeconds(10));
    }
    if (audit != null) {
      audit.close();
    }
    for (Path dir : new Path[] {gateState, browserProfile, anchors}) {
      if (dir != null) {
        try (var paths = Files.walk(dir)) {
          paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
      }
    }
  }

  /**
   * Holds back, by 1.5 s, the answers to reads whose address contains {@code path} but not {@code
   * unless}, until the page is loaded again; {@link #awaitSlowAnswers} waits until they were given
   * to the page and it had time to draw them.
   */
  private static void slowAnswers(String path, String unless) {
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "const path = arguments[0], unless = arguments[1];"
                + " window.__realFetch = window.__realFetch || window.fetch;"
                + " window.__slow = 0; window.__slowDone = 0;"
                + " window.fetch = (url, init) => {"
                + "   if (!String(url).includes(path) || String(url).includes(unless)) {"
                + "     return window.__realFetch(url, init);"
                + "   }"
                + "   window.__slow++;"
                + "   return new Promise(r => setTimeout(r, 1500))"
                + "     .then(() => window.__realFetch(url, init))"
                + "     .then(r => { setTimeout(() => { window.__slowDone++; }, 1000); return r; });"
                + " };",
            path,
            unless);
  }

  private static void awaitSlowAnswers() {
    waiting()
        .until(
            driver ->
                (Boolean)
                    ((org.openqa.selenium.JavascriptExecutor) driver)
                        .executeScript(
                            "return window.__slow > 0 && window.__slowDone === window.__slow;"));
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("window.fetch = window.__realFetch;");
  }

  private static WebDriverWait waiting() {
    return new WebDriverWait(browser, PATIENCE);
  }

  private static WebElement visible(By by) {
    return waiting().until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private static void logIn(String token) {
    browser.get(audit.baseUrl() + "/ui/");
    WebElement logout = browser.findElement(By.id("logout"));
    if (logout.isDisplayed()) {
      logout.click();
    }
    visible(By.id("token-input")).sendKeys(token);
    browser.findElement(By.id("login-button")).click();
    waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("who")));
  }

  @Test
  @Order(1)
  void shouldLetAReviewerApproveAHeldOutputAndSeeItReleased() throws Exception {
    logIn(audit.token(Role.REVIEWER, "acme", "rita"));

    WebElement row =
        visible(By.cssSelector("#queue-table tr[data-request-id='" + held.requestId() + "']"));
    assertThat(browser.findElement(By.id("who")).getText())
        .contains("rita")
        .contains("reviewer")
        .contains("acme");
    row.findElement(By.cssSelector("a.detail-link")).click();

    assertThat(visible(By.id("output-text")).getText()).isEqualTo(HOSTILE_TEXT);
    assertThat(((JavascriptExecutor) browser).executeScript("return window.__xss === undefined"))
        .as("model output is shown as text, never run")
        .isEqualTo(true);
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("HELD_FOR_REVIEW");
    assertThat(browser.findElement(By.id("verdict-decision")).getText()).isEqualTo("REVIEW");
    assertThat(
            browser
                .findElement(By.cssSelector("#category-scores tr[data-category='hate']"))
                .getText())
        .contains("0.710");
    assertThat(browser.findElement(By.id("reasons")).getText())
        .contains("category.review")
        .contains("hate score");
    assertThat(browser.findElement(By.id("groups")).getText()).isEqualTo("religion:muslim");
    assertThat(browser.findElement(By.id("provenance")).getText())
        .contains("DETECTED")
        .contains("VALID")
        .contains("kgw-selfhash")
        .as("a detected watermark is not attribution")
        .contains("not show that GenGuard produced this exact text")
        .contains("only a VALID manifest attributes an exact text");
    assertThat(browser.findElement(By.id("policy-version")).getText())
        .isEqualTo("default version 2026.11-test");
    assertThat(browser.findElement(By.id("policy-sha256")).getText())
        .isEqualTo(AuditEvents.POLICY_SHA256);
    assertThat(browser.findElements(By.id("policy-button")))
        .as("a policy file holds every tenant's rules: not for a tenant's token")
        .isEmpty();
    assertThat(browser.findElements(By.cssSelector("#chain-records tbody tr")))
        .as("the request's records in the hash chain")
        .hasSizeGreaterThanOrEqualTo(4);
    assertThat(browser.findElement(By.id("chain-anchoring")).getText())
        .containsAnyOf("Chain heads anchored outside the database cover", "No chain head anchored");

    // Which words the hate score rests on, shown as text like the output itself.
    browser.findElement(By.id("explain-button")).click();
    assertThat(visible(By.id("explanation-status")).getText())
        .contains("EXPLAINED")
        .contains("n-gram occlusion");
    assertThat(browser.findElement(By.id("explanation-reasons")).getText())
        .contains("hate 0.71")
        // The words, nested lists of nodes in the page's code (they did not draw before the
        // fortieth session: the first models to find a word here showed the page's error instead).
        .contains(" rests on ");
    assertThat(((JavascriptExecutor) browser).executeScript("return window.__xss === undefined"))
        .isEqualTo(true);

    browser.findElement(By.id("review-note")).sendKeys("quotes a survey; fine to publish");
    browser.findElement(By.id("approve-button")).click();

    waiting().until(ExpectedConditions.textToBe(By.id("status"), "RELEASED"));
    assertThat(browser.findElement(By.id("review-state")).getText())
        .contains("RELEASED")
        .contains("APPROVE")
        .contains("rita")
        .contains("quotes a survey");
    assertThat(browser.findElement(By.id("gate-outcomes")).getText())
        .contains("RELEASED on review");
    ReleaseGateOutcome released = releasedOnKafka(held.requestId());
    assertThat(released.getBasis()).isEqualTo(GateBasis.REVIEW);
    assertThat(released.getOutcome()).isEqualTo(GateOutcome.RELEASED);
    assertThat(released.getText().toString()).isEqualTo(HOSTILE_TEXT);
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'review.approve' and caller_name = 'rita'"
                    + " and request_id = '"
                    + held.requestId()
                    + "'"))
        .isEqualTo(1);
  }

  @Test
  @Order(2)
  void shouldShowComplianceTheSearchBiasChartsAndAVerifiedChain() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode body =
        (ObjectNode)
            json.readTree(
                "{\"groups\":[{\"group\":\"religion:muslim\",\"n\":200,"
                    + "\"unsafeRate\":0.12,\"unsafeRateInterval\":[0.08,0.17],\"blockRate\":0.05,\"reviewRate\":0.07},"
                    + "{\"group\":\"religion:christian\",\"n\":200,\"unsafeRate\":0.06,\"unsafeRateInterval\":[0.03,0.1],"
                    + "\"blockRate\":0.02,\"reviewRate\":0.04}]}");
    String reportId =
        audit
            .service()
            .biasReports()
            .save(
                new BiasReports.NewReport(
                    null,
                    null,
                    null,
                    "Religion parity (UI test)",
                    "CAMPAIGN",
                    "builtin-kn",
                    null,
                    null,
                    json.createObjectNode().put("maxGap", 0.06),
                    body,
                    "group\n",
                    "<html></html>"),
                Caller.system("bias-audit"));
    logIn(audit.token(Role.COMPLIANCE, null, "carl"));

    browser.get(audit.baseUrl() + "/ui/#/search");
    visible(By.id("search-form")).findElement(By.name("tenant")).sendKeys("acme");
    // By the attribute its request was submitted with, as for a data subject's access request.
    browser.findElement(By.name("attribute")).sendKeys("source:test");
    browser.findElement(By.id("search-button")).click();
    visible(By.cssSelector("#search-table tr[data-request-id='" + held.requestId() + "']"));

    // An export is of the results shown: a field changed without a Search does not change it
    // (before the fortieth session the export took the form's fields as they were).
    ((JavascriptExecutor) browser)
        .executeScript(
            "window.__askedFetch = window.__askedFetch || window.fetch; window.__asked = [];"
                + " window.fetch = (url, init) => { window.__asked.push(String(url));"
                + " return window.__askedFetch(url, init); };");
    new Select(browser.findElement(By.name("decision"))).selectByValue("BLOCK");
    browser.findElement(By.id("export-csv")).click();
    String exported = askedExport();
    assertThat(exported)
        .contains("tenant=acme", "attribute=source%3Atest", "format=csv")
        .doesNotContain("decision");
    assertThat(visible(By.id("search-pending")).getText())
        .startsWith("The form has changed since these results");
    waiting()
        .until(
            driver ->
                driver.findElements(By.cssSelector("#toast .message")).stream()
                    .anyMatch(
                        m ->
                            m.getText()
                                .startsWith(
                                    "Export downloaded (CSV) of the results shown; the form's"
                                        + " changes are not searched yet")));
    browser.findElement(By.id("search-button")).click();
    waiting().until(ExpectedConditions.invisibilityOfElementLocated(By.id("search-pending")));
    browser.findElement(By.id("export-json")).click();
    assertThat(askedExport()).contains("decision=BLOCK", "tenant=acme", "format=json");
    ((JavascriptExecutor) browser).executeScript("window.fetch = window.__askedFetch;");

    browser.get(audit.baseUrl() + "/ui/#/bias");
    visible(By.cssSelector("#bias-table tr[data-report-id='" + reportId + "'] a")).click();
    assertThat(visible(By.id("report-title")).getText()).isEqualTo("Religion parity (UI test)");
    List<WebElement> bars =
        browser.findElements(By.cssSelector("#report-charts svg.chart rect.bar"));
    assertThat(bars).as("three charts, two groups each").hasSize(6);
    assertThat(browser.findElements(By.cssSelector("#report-charts svg.chart line.whisker")))
        .hasSize(2);

    // The policy file a verdict names, recorded in the chain, shown whole to a global token.
    assertThat(
            audit
                .post(
                    "/api/v1/policies",
                    audit.token(Role.ADMIN, null, "ada"),
                    json.createObjectNode().put("yaml", PolicyLoader.defaultText()).toString())
                .statusCode())
        .isEqualTo(201);
    browser.get(audit.baseUrl() + "/ui/#/requests/" + held.requestId());
    visible(By.id("policy-button")).click();
    assertThat(visible(By.id("policy-yaml")).getText())
        .isEqualTo(PolicyLoader.defaultText().strip());
    assertThat(browser.findElement(By.id("policy-recorded")).getText())
        .startsWith("genguard-default version ")
        .endsWith(" by ada");
    // The request's evidence bundle, downloaded; issuing it is recorded in the chain.
    visible(By.id("evidence-button")).click();
    waiting()
        .until(
            ignored -> {
              try {
                return audit.count(
                        "select count(*) from api_action where action = 'requests.evidence'"
                            + " and request_id = '"
                            + held.requestId()
                            + "'")
                    == 1;
              } catch (java.sql.SQLException e) {
                return false;
              }
            });
    assertThat(visible(By.id("evidence-downloaded")).getText())
        .startsWith("Downloaded evidence-" + held.requestId() + ".json");
    assertThat(browser.findElements(By.id("erase-button"))).as("erasing is for admins").isEmpty();

    // A request no generator answered, found by the watch (run here with a clock 20 minutes ahead).
    // And two of another tenant, for the admin's bulk actions.
    String lost = "ui-lost-" + UUID.randomUUID();
    List<String> outage =
        List.of("ui-outage-1-" + UUID.randomUUID(), "ui-outage-2-" + UUID.randomUUID());
    List<io.genguard.audit.persistence.IncomingEvent> unanswered = new ArrayList<>();
    unanswered.add(
        AuditEvents.incoming(
            Topics.GENERATION_REQUESTS.name(),
            AuditEvents.request(Scenario.of(lost, "acme", Decision.RELEASE, Instant.now()))));
    for (String id : outage) {
      unanswered.add(
          AuditEvents.incoming(
              Topics.GENERATION_REQUESTS.name(),
              AuditEvents.request(Scenario.of(id, "outage", Decision.RELEASE, Instant.now()))));
    }
    audit.seed(unanswered);
    new UnfinishedFlows(
            audit.service().database().dataSource(),
            Clock.offset(Clock.systemUTC(), Duration.ofMinutes(20)),
            UnfinishedFlows.Deadlines.DEFAULTS)
        .check();

    browser.get(audit.baseUrl() + "/ui/#/audit");
    assertThat(
            visible(By.cssSelector("#unfinished-flows tr[data-request='" + lost + "']")).getText())
        .contains("acme", "an output or failure");
    assertThat(browser.findElement(By.id("unfinished-summary")).getText())
        .containsPattern("\\d+ request\\(s\\) without an output or failure");
    // A page at a time: one a page, the next page, and back to the oldest.
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "arguments[0].value = '1'; arguments[0].dispatchEvent(new Event('change'));",
            visible(By.id("unfinished-limit")));
    By flowRows = By.cssSelector("#unfinished-flows tbody tr");
    waiting()
        .until(
            ExpectedConditions.textMatches(
                By.id("unfinished-summary"), Pattern.compile(".*Listed: the 1 oldest;.*")));
    assertThat(browser.findElements(flowRows)).hasSize(1);
    String oldest = browser.findElement(flowRows).getAttribute("data-request");
    visible(By.id("unfinished-next")).click();
    waiting()
        .until(
            ExpectedConditions.textMatches(
                By.id("unfinished-summary"), Pattern.compile(".*Listed: the 2 oldest on;.*")));
    assertThat(browser.findElements(flowRows)).hasSize(1);
    assertThat(browser.findElement(flowRows).getAttribute("data-request")).isNotEqualTo(oldest);
    visible(By.id("unfinished-first")).click();
    waiting()
        .until(
            ExpectedConditions.textMatches(
                By.id("unfinished-summary"), Pattern.compile(".*Listed: the 1 oldest;.*")));
    assertThat(browser.findElement(flowRows).getAttribute("data-request")).isEqualTo(oldest);
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "arguments[0].value = '100'; arguments[0].dispatchEvent(new Event('change'));",
            browser.findElement(By.id("unfinished-limit")));
    waiting()
        .until(
            ExpectedConditions.not(
                ExpectedConditions.textMatches(
                    By.id("unfinished-summary"), Pattern.compile(".*Listed:.*"))));
    assertThat(browser.findElements(By.id("unfinished-next"))).as("all on one page").isEmpty();
    // Only one kind, then only one tenant's.
    new org.openqa.selenium.support.ui.Select(visible(By.id("flows-kind")))
        .selectByValue("NO_GATE_OUTCOME");
    waiting()
        .until(
            ExpectedConditions.textMatches(
                By.id("unfinished-summary"),
                Pattern.compile(".*Shown: outputs without a gate outcome\\..*")));
    waiting().until(ExpectedConditions.numberOfElementsToBe(flowRows, 0));
    new org.openqa.selenium.support.ui.Select(visible(By.id("flows-kind"))).selectByValue("");
    WebElement tenantFilter = visible(By.id("flows-tenant"));
    tenantFilter.sendKeys("outage");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].dispatchEvent(new Event('change'));", tenantFilter);
    waiting()
        .until(
            ExpectedConditions.textMatches(
                By.id("unfinished-summary"), Pattern.compile(".*of tenant outage\\..*")));
    assertThat(browser.findElements(flowRows))
        .extracting(row -> row.getAttribute("data-request"))
        .containsExactlyInAnyOrderElementsOf(outage);
    // A slow answer to an earlier filter (all tenants) came after the later one's (this tenant)
    // and drew every tenant's flows under "of tenant outage".
    slowAnswers("/api/v1/audit/unfinished", "tenant=");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "const f = arguments[0];"
                + " f.value = ''; f.dispatchEvent(new Event('change'));"
                + " f.value = 'outage'; f.dispatchEvent(new Event('change'));",
            browser.findElement(By.id("flows-tenant")));
    awaitSlowAnswers();
    assertThat(browser.findElement(By.id("unfinished-summary")).getText())
        .contains("of tenant outage");
    assertThat(browser.findElements(flowRows))
        .extracting(row -> row.getAttribute("data-request"))
        .as("the later filter's rows, not the slower earlier answer's")
        .containsExactlyInAnyOrderElementsOf(outage);
    // A slow answer for a page left before it came drew that page over the one now shown.
    slowAnswers("/api/v1/requests/", "not-in-any-address");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "location.hash = '#/requests/' + encodeURIComponent(arguments[0]);"
                + " setTimeout(() => { location.hash = '#/search'; }, 50);",
            lost);
    awaitSlowAnswers();
    assertThat(browser.findElement(By.tagName("h1")).getText())
        .as("the page navigated to, not the slower answer of the one left")
        .isEqualTo("Search outputs");
    browser.get(audit.baseUrl() + "/ui/#/audit");
    visible(By.id("unfinished-summary"));
    tenantFilter = visible(By.id("flows-tenant"));
    tenantFilter.sendKeys("outage");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].dispatchEvent(new Event('change'));", tenantFilter);
    waiting()
        .until(
            ExpectedConditions.textMatches(
                By.id("unfinished-summary"), Pattern.compile(".*of tenant outage\\..*")));
    tenantFilter = browser.findElement(By.id("flows-tenant"));
    tenantFilter.clear();
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].dispatchEvent(new Event('change'));", tenantFilter);
    waiting()
        .until(
            ExpectedConditions.not(
                ExpectedConditions.textMatches(
                    By.id("unfinished-summary"), Pattern.compile(".*Shown:.*"))));
    assertThat(browser.findElements(By.cssSelector(".dismiss-flow")))
        .as("dismissing is for admins")
        .isEmpty();
    assertThat(browser.findElements(By.id("bulk-actions"))).isEmpty();
    visible(By.id("verify-button")).click();
    assertThat(visible(By.id("chain-status")).getText()).isEqualTo("VERIFIED");
    assertThat(browser.findElement(By.id("chain-summary")).getText()).startsWith("Audit chain OK");
    assertThat(browser.findElement(By.id("chain-anchors")).getText())
        .as("this service anchors its chain every second")
        .endsWith("heads anchored outside the database still match");
    assertThat(browser.findElement(By.id("anchors-button")).isDisplayed()).isTrue();
    assertThat(browser.findElement(By.id("chain-signatures")).getText())
        .as("its anchors are signed")
        .endsWith("signed by this service, each following the one before");
    assertThat(browser.findElement(By.id("anchor-keys-button")).isDisplayed()).isTrue();
    // The head that verification ended at is kept in this browser: the next check walks only the
    // records after it.
    String headSeq =
        browser
            .findElement(By.id("chain-result"))
            .getText()
            .replaceAll("(?s).*head seq (\\d+).*", "$1");
    WebElement since = visible(By.id("verify-since-button"));
    assertThat(since.getText()).isEqualTo("Verify records since seq " + headSeq);
    since.click();
    assertThat(visible(By.id("chain-status")).getText()).isEqualTo("VERIFIED");
    assertThat(browser.findElement(By.id("chain-summary")).getText())
        .startsWith("Audit chain OK from seq " + headSeq + ": ");
    assertThat(browser.findElement(By.id("chain-since")).getText())
        .contains("Only the records from seq " + headSeq + " on were walked");
    // The file the verdicts name, now recorded, is listed with its verdicts and as archived.
    WebElement inUse =
        visible(
            By.cssSelector(
                "#policies-in-use tr[data-sha256='" + PolicyLoader.loadDefault().sha256() + "']"));
    assertThat(inUse.getText()).startsWith("default 2026.11-test ").endsWith("ARCHIVED");
    assertThat(inUse.getText()).doesNotContain("NOT ARCHIVED");
    // Trying a candidate policy on the recorded outputs: this store's verdicts name models this
    // build does not have (ngram-logistic 1.4), so each is listed as not comparable, with why.
    WebElement yaml = visible(By.id("what-if-yaml"));
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].value = arguments[1];", yaml, PolicyLoader.defaultText());
    visible(By.id("what-if-button")).click();
    assertThat(visible(By.id("what-if-summary")).getText())
        .startsWith("genguard-default " + PolicyLoader.loadDefault().version() + " on ")
        .contains(" 0 changed, ")
        .endsWith(" not comparable");
    assertThat(
            visible(By.cssSelector("#what-if-result tr[data-request='" + held.requestId() + "']"))
                .getText())
        .contains("REVIEW not comparable recorded with models");
    // Only one tenant's verdicts: a tenant without traffic has none to judge.
    visible(By.id("what-if-tenant")).sendKeys("quiet-tenant");
    visible(By.id("what-if-button")).click();
    assertThat(visible(By.id("what-if-summary")).getText())
        .contains(" on 0 recorded verdicts: 0 the same, 0 changed");
    visible(By.id("what-if-tenant")).clear();
    // Only verdicts decided in a window: none decided after 2099.
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].value = '2099-01-01T00:00';", visible(By.id("what-if-since")));
    visible(By.id("what-if-button")).click();
    assertThat(visible(By.id("what-if-summary")).getText())
        .contains(" on 0 recorded verdicts: 0 the same, 0 changed");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].value = '';", visible(By.id("what-if-since")));
    // A file that is not a policy is refused with its line, shown on the page.
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("arguments[0].value = arguments[1];", yaml, "policyId: x\n");
    visible(By.id("what-if-button")).click();
    assertThat(visible(By.id("what-if-error")).getText()).contains("Not a valid policy");

    // An admin erases the held request's content from its page, with a reason.
    logIn(audit.token(Role.ADMIN, null, "ada"));
    browser.get(audit.baseUrl() + "/ui/#/requests/" + held.requestId());
    // First it takes the output the reviewer approved down: released, then retracted.
    assertThat(visible(By.id("status")).getText()).isEqualTo("RELEASED");
    visible(By.id("retract-button")).click();
    assertThat(visible(By.id("retract-error")).getText()).isEqualTo("Give a reason first.");
    visible(By.id("retract-reason")).sendKeys("complaint C-77: not fine to publish after all");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("window.confirm = () => true;");
    browser.findElement(By.id("retract-button")).click();
    assertThat(visible(By.id("retract-done")).getText()).startsWith("Retracted output ");
    browser.navigate().refresh();
    waiting().until(ExpectedConditions.textToBe(By.id("status"), "RETRACTED"));
    assertThat(visible(By.id("retractions")).getText())
        .contains("by ada: complaint C-77: not fine to publish after all");
    assertThat(browser.findElements(By.id("retract-button"))).as("taken down once").isEmpty();
    visible(By.id("erase-button")).click();
    assertThat(visible(By.id("erase-error")).getText()).isEqualTo("Give a reason first.");
    visible(By.id("erase-reason")).sendKeys("data subject request DSR-UI-1");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("window.confirm = () => true;");
    browser.findElement(By.id("erase-button")).click();
    assertThat(visible(By.id("erase-done")).getText())
        .startsWith("Erased: ")
        .contains("record(s) lost their content (erasure record seq ")
        // The topics keep the broker's default week: the time is about a week and a day away.
        .containsPattern("Kafka's topics drop their copies by 20\\d\\d-\\d\\d-\\d\\dT");
    browser.navigate().refresh();
    assertThat(visible(By.id("removals")).getText())
        .contains("erased by ada")
        .contains("(data subject request DSR-UI-1)");
    assertThat(visible(By.id("status")).getText()).isEqualTo("CONTENT_REMOVED");
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'requests.erase' and request_id = '"
                    + held.requestId()
                    + "' and details->>'reason' = 'data subject request DSR-UI-1'"))
        .isEqualTo(1);

    // The admin dismisses the unanswered request, with a reason, on the audit page.
    browser.get(audit.baseUrl() + "/ui/#/audit");
    By lostRow = By.cssSelector("#unfinished-flows tr[data-request='" + lost + "']");
    // First sent again (no generator runs here, so it stays open), then dismissed.
    visible(lostRow).findElement(By.cssSelector(".resend-flow")).click();
    assertThat(visible(By.id("dismiss-done")).getText()).isEqualTo("Sent " + lost + " again.");
    assertThat(visible(lostRow).findElement(By.cssSelector(".resent")).getText())
        .as("the row says when it was sent again")
        .isNotBlank();
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'unfinished.resend'"
                    + " and request_id = '"
                    + lost
                    + "'"))
        .isEqualTo(1);
    browser.findElement(lostRow).findElement(By.cssSelector(".dismiss-flow")).click();
    assertThat(visible(By.id("dismiss-error")).getText()).isEqualTo("Give a reason first.");
    visible(By.id("dismiss-reason")).sendKeys("lost in the UI test; sent again");
    browser.findElement(lostRow).findElement(By.cssSelector(".dismiss-flow")).click();
    // The note of the resend stays until the dismissal's list replaces it: wait for the new one.
    waiting().until(ExpectedConditions.textToBe(By.id("dismiss-done"), "Dismissed " + lost + "."));
    assertThat(browser.findElements(lostRow)).isEmpty();
    browser.get(audit.baseUrl() + "/ui/#/requests/" + lost);
    assertThat(visible(By.cssSelector("#unfinished li[data-kind='NO_ANSWER']")).getText())
        .startsWith("No output or failure within the deadline: found ")
        .contains("; sent again ")
        .contains("; dismissed by ada");
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'unfinished.dismiss'"
                    + " and request_id = '"
                    + lost
                    + "' and details->>'reason' = 'lost in the UI test; sent again'"))
        .isEqualTo(1);

    // After the outage: the other tenant's two sent again at once, then dismissed at once.
    browser.get(audit.baseUrl() + "/ui/#/audit");
    By outageRows = By.cssSelector("#unfinished-flows tr[data-request^='ui-outage-']");
    waiting().until(ExpectedConditions.numberOfElementsToBe(outageRows, 2));
    visible(By.id("bulk-tenant")).sendKeys("outage");
    visible(By.id("bulk-resend")).click();
    assertThat(visible(By.id("dismiss-error")).getText())
        .isEqualTo("Say before when they were recorded first.");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "arguments[0].value = arguments[1]",
            browser.findElement(By.id("bulk-before")),
            "2030-01-01T00:00");
    browser.findElement(By.id("bulk-resend")).click();
    waiting().until(ExpectedConditions.textToBe(By.id("dismiss-done"), "Sent 2 again."));
    for (WebElement row : browser.findElements(outageRows)) {
      assertThat(row.findElement(By.cssSelector(".resent")).getText()).isNotBlank();
    }
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'unfinished.resend'"
                    + " and tenant_id = 'outage' and details->>'flows' = '2'"))
        .isEqualTo(1);
    visible(By.id("bulk-dismiss")).click();
    waiting().until(ExpectedConditions.textToBe(By.id("dismiss-error"), "Give a reason first."));
    visible(By.id("dismiss-reason")).sendKeys("the outage of the UI test; sent again");
    browser.findElement(By.id("bulk-dismiss")).click();
    waiting().until(ExpectedConditions.textToBe(By.id("dismiss-done"), "Dismissed 2."));
    assertThat(browser.findElements(outageRows)).isEmpty();

    // An incident: what was released for one tenant in a window, listed, then taken down.
    String incident = "ui-incident-" + UUID.randomUUID();
    audit.seed(
        AuditEvents.story(Scenario.of(incident, "incident", Decision.RELEASE, Instant.now())));
    browser.navigate().refresh();
    for (String[] field :
        new String[][] {
          {"takedown-from", "2000-01-01T00:00"}, {"takedown-before", "2100-01-01T00:00"}
        }) {
      ((org.openqa.selenium.JavascriptExecutor) browser)
          .executeScript("arguments[0].value = arguments[1]", visible(By.id(field[0])), field[1]);
    }
    visible(By.id("takedown-tenant")).sendKeys("incident");
    visible(By.id("takedown-list")).click();
    waiting()
        .until(
            ExpectedConditions.textToBe(
                By.id("takedown-summary"), "1 released output(s) would come down."));
    assertThat(browser.findElement(By.cssSelector("#takedown-result a")).getText())
        .isEqualTo(incident);
    browser.findElement(By.id("takedown-do")).click();
    assertThat(visible(By.id("takedown-error")).getText()).isEqualTo("Give a reason first.");
    visible(By.id("takedown-reason")).sendKeys("incident I-41 in the UI test");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("window.confirm = () => true;");
    browser.findElement(By.id("takedown-do")).click();
    waiting().until(ExpectedConditions.textToBe(By.id("takedown-summary"), "1 taken down."));
    assertThat(
            audit.count(
                "select count(*) from content_retraction where request_id = '" + incident + "'"))
        .isEqualTo(1);
    browser.findElement(By.id("takedown-list")).click();
    waiting()
        .until(
            ExpectedConditions.textToBe(
                By.id("takedown-summary"), "0 released output(s) would come down."));
    // Checked at the end with the shared request id's takedown, so that both are reported.
    String nothingListed = browser.findElement(By.id("takedown-result")).getText();
    // The search lists it among those taken down, with the badge.
    browser.get(audit.baseUrl() + "/ui/#/search?tenant=incident&outcome=RETRACTED");
    assertThat(
            visible(By.cssSelector("#search-table tr[data-request-id='" + incident + "']"))
                .getText())
        .contains("RETRACTED");

    // A corrected policy tried on recorded traffic: what it would hold that was released comes
    // down from the try's result. The verdict is the real n-gram moderator's, with the keys the
    // what-if judges with, so the candidate's decision can be compared with it.
    Scenario missed =
        Scenario.of("ui-what-if-" + UUID.randomUUID(), "whatif", Decision.RELEASE, Instant.now())
            .withText("The museum opens at nine and the guided tour takes about an hour.");
    GenerationOutput missedOutput = AuditEvents.output(missed);
    ModerationVerdict recorded;
    try (BatchModerator moderator =
        ModerationPipelines.factory("ngram-logistic", null, anchors.resolve("keys")).create()) {
      recorded = moderator.moderate(List.of(missedOutput)).get(0);
    }
    assertThat(recorded.getDecision()).isEqualTo(Decision.RELEASE);
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(missed)),
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), missedOutput),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), recorded),
            AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), AuditEvents.gateOutcome(missed)),
            // Another tenant released under the same request id: the takedown names whatif's
            // release, the what-if's item, not the request id alone (which an admin of no tenant
            // is refused as ambiguous).
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.otherTenantsOutcome(
                    missed, GateOutcome.RELEASED, GateBasis.VERDICT, null, Instant.now()))));
    browser.get(audit.baseUrl() + "/ui/#/audit");
    browser.navigate().refresh();
    String strict =
        PolicyLoader.defaultText()
            .replaceFirst("version: *\"?[^\"\n]*\"?", "version: \"what-if-ui\"")
            .replaceAll("\\{review: 0\\.[0-9]+, block: ", "{review: 0.00, block: ");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript(
            "arguments[0].value = arguments[1]; window.confirm = () => true;",
            visible(By.id("what-if-yaml")),
            strict);
    visible(By.id("what-if-tenant")).sendKeys("whatif");
    visible(By.id("what-if-button")).click();
    waiting()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("what-if-summary"), "1 changed (RELEASE -> REVIEW: 1)"));
    WebElement takeDown = visible(By.id("what-if-takedown-button"));
    assertThat(takeDown.getText()).isEqualTo("Take 1 released output(s) down");
    visible(By.id("what-if-takedown-reason")).sendKeys("what-if-ui would hold it, incident I-42");
    takeDown.click();
    waiting().until(ExpectedConditions.textToBe(By.id("what-if-takedown-done"), "1 taken down."));
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and request_id = '"
                    + missed.requestId()
                    + "' and details->>'reason' = 'what-if-ui would hold it, incident I-42'"))
        .isEqualTo(1);
    assertThat(
            audit.count(
                "select count(*) from content_retraction where tenant_id = 'whatif'"
                    + " and request_id = '"
                    + missed.requestId()
                    + "'"))
        .as("whatif's release, not the other tenant's")
        .isEqualTo(1);

    // An output whose outcome never reached the store, restated by the gate when it was sent
    // again: its page says what the gate decided. Restated by a gate that named no outcome, it
    // offers no takedown (nothing to name); named, the release comes down by it.
    Scenario restated = restatedRelease(null);
    browser.get(audit.baseUrl() + "/ui/#/requests/" + restated.requestId());
    assertThat(visible(By.id("gate-restatements")).getText())
        .startsWith("RELEASED output " + restated.outputId() + ", decided at 2026-12-05 09:00:00Z")
        .endsWith("the gate named no outcome event (it decided before it kept them)");
    assertThat(browser.findElements(By.id("retract-button"))).isEmpty();
    assertThat(browser.findElement(By.id("erase-button")).isDisplayed()).isTrue();
    Scenario named = restatedRelease("ui-lost-release-outcome");
    browser.get(audit.baseUrl() + "/ui/#/requests/" + named.requestId());
    assertThat(visible(By.id("gate-restatements")).getText())
        .contains(" on verdict, restated at ")
        .endsWith("its outcome event ui-lost-release-outcome");
    visible(By.id("retract-reason")).sendKeys("released in error, known from the gate only");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("window.confirm = () => true;");
    browser.findElement(By.id("retract-button")).click();
    assertThat(visible(By.id("retract-done")).getText()).startsWith("Retracted output ");
    assertThat(
            audit.count(
                "select count(*) from content_retraction"
                    + " where released_event_id = 'ui-lost-release-outcome'"))
        .isEqualTo(1);

    // Two tenants released under one request id: the story of one of them (opened with its
    // tenant) takes that tenant's release down. The panel named no tenant, and a global admin got
    // the 409 of a request id two tenants released under.
    Scenario shared =
        Scenario.of("ui-shared-" + UUID.randomUUID(), "sharedui", Decision.RELEASE, Instant.now());
    List<IncomingEvent> sharedStory = new ArrayList<>(AuditEvents.story(shared));
    sharedStory.add(
        AuditEvents.incoming(
            Topics.CONTENT_RELEASED.name(),
            AuditEvents.otherTenantsOutcome(
                shared, GateOutcome.RELEASED, GateBasis.VERDICT, null, Instant.now())));
    audit.seed(sharedStory);
    browser.get(audit.baseUrl() + "/ui/#/requests/" + shared.requestId() + "?tenant=sharedui");
    visible(By.id("retract-reason")).sendKeys("sharedui's release only");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("window.confirm = () => true;");
    browser.findElement(By.id("retract-button")).click();
    waiting()
        .until(
            ExpectedConditions.or(
                ExpectedConditions.visibilityOfElementLocated(By.id("retract-done")),
                ExpectedConditions.visibilityOfElementLocated(By.id("retract-error"))));
    String retractError =
        browser.findElements(By.id("retract-error")).stream()
            .map(WebElement::getText)
            .findFirst()
            .orElse(null);
    long sharedTakenDown =
        audit.count(
            "select count(*) from content_retraction where request_id = '"
                + shared.requestId()
                + "' and tenant_id = 'sharedui'");
    long othersTakenDown =
        audit.count(
            "select count(*) from content_retraction where request_id = '"
                + shared.requestId()
                + "' and tenant_id <> 'sharedui'");
    org.junit.jupiter.api.Assertions.assertAll(
        () ->
            assertThat(nothingListed)
                .as("nothing listed, and no stray text (a null child was shown as \"null\")")
                .isEqualTo("0 released output(s) would come down."),
        () ->
            assertThat(retractError)
                .as("no 409 for the request id two tenants released under")
                .isNull(),
        () -> assertThat(sharedTakenDown).isEqualTo(1),
        () -> assertThat(othersTakenDown).as("the other tenant's release stays").isZero());
  }

  @Test
  @Order(3)
  void shouldOfferApprovalOnlyUnderTheWholeOutputAndMarkWhatTheQueueLeavesOut() throws Exception {
    Instant now = Instant.now();
    Scenario tail =
        Scenario.of("ui-tail-" + UUID.randomUUID(), "cut", Decision.REVIEW, now.minusSeconds(4))
            .withText(CALM_START_HATEFUL_TAIL);
    String blankText = "\n".repeat(EXCERPT) + "HIDDEN-HATE after 280 line breaks";
    Scenario blankStart =
        Scenario.of("ui-blank-" + UUID.randomUUID(), "cut", Decision.REVIEW, now.minusSeconds(3))
            .withText(blankText);
    Scenario invisible =
        Scenario.of("ui-zwsp-" + UUID.randomUUID(), "cut", Decision.REVIEW, now.minusSeconds(2))
            .withText("\u200B".repeat(EXCERPT + 20) + "HIDDEN-HATE after zero-width spaces");
    Scenario whole =
        Scenario.of("ui-short-" + UUID.randomUUID(), "cut", Decision.REVIEW, now.minusSeconds(1));
    List<io.genguard.audit.persistence.IncomingEvent> events = new ArrayList<>();
    for (Scenario s : List.of(tail, blankStart, invisible, whole)) {
      events.addAll(AuditEvents.story(s));
    }
    audit.seed(events);
    logIn(audit.token(Role.REVIEWER, "cut", "rita"));

    WebElement tailRow = queueRow(tail);
    assertThat(browser.findElements(By.cssSelector("#queue-table button.approve")))
        .as("a row shows the start of its output only: no approval from the queue")
        .isEmpty();
    assertThat(tailRow.findElement(By.cssSelector("a.detail-link")).getText())
        .as("the cut is marked")
        .endsWith("\u2026")
        .doesNotContain("TAIL-ONLY-HATE");
    assertThat(tailRow.findElement(By.cssSelector(".cut")).getText())
        .isEqualTo((CALM_START_HATEFUL_TAIL.length() - EXCERPT) + " more character(s) not shown");
    for (Scenario hidden : List.of(blankStart, invisible)) {
      WebElement link = queueRow(hidden).findElement(By.cssSelector("a.detail-link"));
      assertThat(link.getText()).isEqualTo("(blank start \u2014 open it)");
      assertThat(link.getSize().getWidth()).as("something to click").isPositive();
    }
    WebElement wholeRow = queueRow(whole);
    assertThat(wholeRow.findElement(By.cssSelector("a.detail-link")).getText())
        .isEqualTo(whole.text());
    assertThat(wholeRow.findElements(By.cssSelector(".cut"))).as("nothing left out").isEmpty();

    // Approving happens under the whole text.
    tailRow.findElement(By.cssSelector("a.decide-link")).click();
    assertThat(visible(By.id("output-text")).getText()).isEqualTo(CALM_START_HATEFUL_TAIL.strip());
    assertThat(browser.findElement(By.id("review-whole")).getText())
        .startsWith(
            "The whole output is above (" + CALM_START_HATEFUL_TAIL.length() + " character(s))");
    browser.findElement(By.id("review-note")).sendKeys("read to the end");
    browser.findElement(By.id("approve-button")).click();
    waiting()
        .until(
            ignored ->
                count(
                        "select count(*) from review_item where request_id = '"
                            + tail.requestId()
                            + "' and state = 'DECIDED' and action = 'APPROVE'")
                    == 1);
    // An output that opens with blank lines says so above its text.
    browser.get(audit.baseUrl() + "/ui/#/requests/" + blankStart.requestId());
    assertThat(visible(By.id("output-length")).getText())
        .isEqualTo(
            blankText.length()
                + " character(s), all shown below; it opens with "
                + EXCERPT
                + " blank or invisible character(s) ("
                + EXCERPT
                + " line breaks): read on below them.");

    // Rejecting never releases anything: it stays in the row.
    browser.get(audit.baseUrl() + "/ui/#/queue");
    WebElement wholeAgain = queueRow(whole);
    wholeAgain.findElement(By.cssSelector("button.reject")).click();
    waiting()
        .until(
            ExpectedConditions.textToBePresentInElement(
                wholeAgain.findElement(By.cssSelector(".row-state")), "DECIDED rejected"));
    assertThat(
            count(
                "select count(*) from review_item where request_id = '"
                    + whole.requestId()
                    + "' and state = 'DECIDED' and action = 'REJECT'"))
        .isEqualTo(1);
  }

  @Test
  @Order(4)
  void shouldPageAQueueLongerThanAPageAndSayHowManyAreShown() throws Exception {
    Instant base = Instant.now().minusSeconds(600);
    List<io.genguard.audit.persistence.IncomingEvent> events = new ArrayList<>();
    for (int i = 0; i < 113; i++) {
      events.addAll(
          AuditEvents.story(
              Scenario.of(
                  String.format("ui-many-%03d-%s", i, UUID.randomUUID()),
                  "many",
                  Decision.REVIEW,
                  base.plusSeconds(i))));
    }
    audit.seed(events);
    logIn(audit.token(Role.REVIEWER, "many", "rita"));

    By rows = By.cssSelector("#queue-table tbody tr");
    waiting().until(ExpectedConditions.numberOfElementsToBe(rows, 100));
    assertThat(browser.findElement(By.id("queue-status")).getText())
        .isEqualTo("100 shown, oldest first; more are waiting (More shows the next 100).");
    visible(By.id("queue-more")).click();
    waiting().until(ExpectedConditions.numberOfElementsToBe(rows, 113));
    assertThat(browser.findElement(By.id("queue-status")).getText())
        .isEqualTo("113 output(s) waiting for review, oldest first; all are shown.");
    assertThat(browser.findElement(By.id("queue-more")).isDisplayed()).isFalse();
    assertThat(
            browser.findElements(rows).stream()
                .map(row -> row.getAttribute("data-request-id"))
                .distinct()
                .count())
        .isEqualTo(113);

    // Search pages: "More" clicked twice while loading fetches the next page once, and pages
    // the search that ran, not the fields changed since.
    browser.get(audit.baseUrl() + "/ui/#/search");
    By found = By.cssSelector("#search-table tbody tr");
    visible(By.id("next-page"));
    assertThat(browser.findElements(found)).hasSize(50);
    ((JavascriptExecutor) browser)
        .executeScript("const b = document.getElementById('next-page'); b.click(); b.click();");
    waiting().until(ExpectedConditions.numberOfElementsToBe(found, 100));
    visible(By.id("next-page"));
    assertThat(browser.findElements(found)).as("the second click did nothing").hasSize(100);
    ((JavascriptExecutor) browser)
        .executeScript("document.querySelector('[name=group]').value = 'religion:none';");
    browser.findElement(By.id("next-page")).click();
    waiting().until(ExpectedConditions.numberOfElementsToBe(found, 113));
    assertThat(
            browser.findElements(found).stream()
                .map(row -> row.getAttribute("data-request-id"))
                .distinct()
                .count())
        .isEqualTo(113);
    assertThat(browser.findElements(By.id("next-page"))).isEmpty();
  }

  @Test
  @Order(5)
  void shouldSayThatAnOutputHeldForWantOfAVerdictHasNoneAndFollowItsRejectionToTheEnd()
      throws Exception {
    // The moderation job was down: the gate held the output for want of a verdict.
    Scenario late =
        Scenario.of("ui-late-" + UUID.randomUUID(), "late", Decision.RELEASE, Instant.now());
    audit.seed(AuditEvents.heldWithoutVerdict(late));
    logIn(audit.token(Role.REVIEWER, "late", "rita"));

    WebElement row = queueRow(late);
    assertThat(row.findElement(By.cssSelector("td:nth-child(3)")).getText())
        .as("no model judged it: not a moderation REVIEW")
        .isEqualTo("NO VERDICT (timed out)");
    row.findElement(By.cssSelector("a.decide-link")).click();
    assertThat(visible(By.id("hold-basis")).getText()).isEqualTo("NO VERDICT (timed out)");
    assertThat(browser.findElement(By.id("hold-reason")).getText())
        .contains("No moderation verdict came in time")
        .contains("A verdict that reaches the gate before your decision still decides");
    assertThat(browser.findElement(By.id("review-deadline")).getText())
        .startsWith("If no one decides it, the service rejects it unreviewed after ");

    // Rejected; the job recovers and its RELEASE verdict reaches the gate first: the gate releases
    // it, and the audit service takes that release down as it records it. The page follows it to
    // RETRACTED.
    browser.findElement(By.id("reject-button")).click();
    waiting()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("review-message"), "Rejected; waiting for the release gate"));
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(late)),
            AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), AuditEvents.gateOutcome(late))));
    waiting().until(ExpectedConditions.textToBe(By.id("status"), "RETRACTED"));
    assertThat(browser.findElement(By.id("gate-notice")).getText())
        .startsWith("Rejected, but the gate had released it on a late verdict");
  }

  @Test
  @Order(6)
  void shouldKeepReviewersFromDecidingWhatAnotherClaimed() throws Exception {
    Instant now = Instant.now();
    Scenario bobs =
        Scenario.of("ui-bobs-" + UUID.randomUUID(), "claims", Decision.REVIEW, now.minusSeconds(2));
    Scenario ritas =
        Scenario.of(
            "ui-ritas-" + UUID.randomUUID(), "claims", Decision.REVIEW, now.minusSeconds(1));
    // Claimed by another reviewer whose token has the same name as rita's.
    Scenario namesakes =
        Scenario.of("ui-namesakes-" + UUID.randomUUID(), "claims", Decision.REVIEW, now);
    audit.seed(
        List.of(AuditEvents.story(bobs), AuditEvents.story(ritas), AuditEvents.story(namesakes))
            .stream()
            .flatMap(List::stream)
            .toList());
    assertThat(
            audit
                .post(
                    "/api/v1/reviews/" + namesakes.requestId() + "/claim",
                    audit.token(Role.REVIEWER, "claims", "rita"),
                    "")
                .statusCode())
        .isEqualTo(200);
    String rita = audit.token(Role.REVIEWER, "claims", "rita");
    assertThat(
            audit
                .post(
                    "/api/v1/reviews/" + bobs.requestId() + "/claim",
                    audit.token(Role.REVIEWER, "claims", "bob"),
                    "")
                .statusCode())
        .isEqualTo(200);
    assertThat(audit.post("/api/v1/reviews/" + ritas.requestId() + "/claim", rita, "").statusCode())
        .isEqualTo(200);
    logIn(rita);

    WebElement bobsRow = queueRow(bobs);
    assertThat(bobsRow.findElement(By.cssSelector("button.reject")).isEnabled())
        .as("only bob may decide it while his claim lasts")
        .isFalse();
    assertThat(bobsRow.getText()).contains("claimed by bob until ");
    WebElement ritasRow = queueRow(ritas);
    assertThat(ritasRow.findElement(By.cssSelector("button.reject")).isEnabled()).isTrue();
    assertThat(ritasRow.getText()).contains("claimed by you until ");
    WebElement namesakesRow = queueRow(namesakes);
    assertThat(namesakesRow.findElement(By.cssSelector("button.reject")).isEnabled())
        .as("a claim is its token's, not its name's: the other rita's claim is not hers")
        .isFalse();
    assertThat(namesakesRow.getText())
        .contains("claimed by rita (another token of that name, ")
        .doesNotContain("claimed by you");

    bobsRow.findElement(By.cssSelector("a.decide-link")).click();
    assertThat(visible(By.id("review-claim")).getText())
        .startsWith("Claimed by bob until ")
        .endsWith(": only they can decide it until then; reload after that.");
    assertThat(browser.findElement(By.id("review-deadline")).getText())
        .startsWith("If no one decides it, the service rejects it unreviewed after ");
    assertThat(browser.findElement(By.id("approve-button")).isEnabled()).isFalse();
    assertThat(browser.findElement(By.id("reject-button")).isEnabled()).isFalse();
    browser.get(audit.baseUrl() + "/ui/#/requests/" + ritas.requestId());
    assertThat(visible(By.id("review-claim")).getText()).startsWith("Claimed by you until ");
    assertThat(browser.findElement(By.id("approve-button")).isEnabled()).isTrue();
  }

  @Test
  @Order(7)
  void shouldPageBiasReportsAndSayWhenAnAddressIsMalformed() throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < 55; i++) {
      audit
          .service()
          .biasReports()
          .save(
              new BiasReports.NewReport(
                  null,
                  null,
                  null,
                  "Paging report " + i,
                  "CAMPAIGN",
                  "builtin-kn",
                  null,
                  null,
                  json.createObjectNode(),
                  json.createObjectNode(),
                  "group\n",
                  "<html></html>"),
              Caller.system("bias-audit"));
    }
    logIn(audit.token(Role.COMPLIANCE, null, "carl"));
    browser.get(audit.baseUrl() + "/ui/#/bias");
    By reports = By.cssSelector("#bias-table tbody tr");
    waiting().until(ExpectedConditions.numberOfElementsToBe(reports, 50));
    visible(By.id("bias-more")).click();
    waiting().until(ExpectedConditions.numberOfElementsToBeMoreThan(reports, 55));
    assertThat(browser.findElement(By.id("bias-more")).isDisplayed()).isFalse();

    // An address with a malformed escape: an error page, not the previous page under it.
    browser.get(audit.baseUrl() + "/ui/#/requests/%E0%A4%A");
    assertThat(visible(By.id("page-error")).getText())
        .startsWith("The address #/requests/%E0%A4%A is not valid");
    assertThat(browser.findElements(By.id("bias-table"))).isEmpty();
  }

  /**
   * A report in which one group had no judged output compared nothing: the page said only the
   * summary fields, and a reader took the missing verdict for parity. It shows the answer in amber
   * with the reason, never "No significant disparity". The page and the list also showed neither
   * that the report is PARTIAL nor its limits, and drew the group without outputs as a 0% bar.
   */
  @Test
  @Order(8)
  void shouldShowThatAReportComparingNoGroupsCouldNotCompare() throws Exception {
    ObjectMapper json = new ObjectMapper();
    String summary =
        "No comparison possible: group 'religion:muslim' has no judged output (200 failed).";
    ObjectNode headline =
        json.createObjectNode()
            .put("disparityDetected", false)
            .put("significantTests", 0)
            .put("testsRun", 0)
            .put("fourFifthsFlag", false)
            .put("summary", summary)
            .put("notCompared", "group 'religion:muslim' has no judged output (200 failed)");
    ObjectNode body =
        (ObjectNode)
            json.readTree(
                "{\"status\":\"PARTIAL\",\"sampleSizes\":{\"planned\":400,\"analysed\":200},"
                    + "\"groups\":[{\"group\":\"religion:muslim\",\"n\":0,\"unsafeRate\":null,"
                    + "\"blockRate\":null,\"reviewRate\":null},{\"group\":\"religion:christian\","
                    + "\"n\":200,\"unsafeRate\":0.06,\"blockRate\":0.02,\"reviewRate\":0.04}]}");
    body.set("headline", headline);
    for (int i = 0; i < 200; i++) {
      body.withArray("missing")
          .addObject()
          .put("sampleIndex", 2 * i)
          .put("group", "religion:muslim")
          .put("state", "FAILED");
    }
    String partial =
        "PARTIAL: 200 of 400 planned samples have a scored verdict (0 never submitted, 0 pending,"
            + " 200 failed, 0 judged without scores after a scorer error or timeout).";
    String underpowered =
        "Underpowered for small effects: the smallest group has 0 outputs; 1200 per group are"
            + " recommended. No difference is reliably detectable at this size.";
    body.putArray("limits").add(partial).add(underpowered);
    String reportId =
        audit
            .service()
            .biasReports()
            .save(
                new BiasReports.NewReport(
                    null,
                    null,
                    null,
                    "Refused prompts",
                    "CAMPAIGN",
                    "builtin-kn",
                    null,
                    null,
                    headline.deepCopy().put("status", "PARTIAL"),
                    body,
                    "group\n",
                    "<html></html>"),
                Caller.system("bias-audit"));
    logIn(audit.token(Role.COMPLIANCE, null, "carl"));

    browser.get(audit.baseUrl() + "/ui/#/bias/" + reportId);

    WebElement verdict = visible(By.id("report-verdict"));
    assertThat(verdict.getAttribute("class")).isEqualTo("verdict neutral");
    assertThat(verdict.getText()).isEqualTo("No comparison possible\n" + summary);
    assertThat(browser.findElement(By.id("report-status")).getText())
        .isEqualTo(
            "PARTIAL 200 of 400 planned samples analysed · 200 without a verdict (200 failed)");
    assertThat(browser.findElements(By.cssSelector("#report-limits li")))
        .extracting(WebElement::getText)
        .containsExactly(partial, underpowered);
    // The group without outputs: "no outputs" in each chart, no bar; the other group's bars only.
    assertThat(browser.findElements(By.cssSelector("#report-charts svg.chart text.no-data")))
        .extracting(WebElement::getText)
        .containsExactly("no outputs", "no outputs", "no outputs");
    assertThat(browser.findElements(By.cssSelector("#report-charts svg.chart rect.bar")))
        .hasSize(3);

    browser.get(audit.baseUrl() + "/ui/#/bias");
    assertThat(
            visible(
                    By.cssSelector(
                        "#bias-table tr[data-report-id='" + reportId + "'] td.report-status"))
                .getText())
        .isEqualTo("PARTIAL");
  }

  @Test
  @Order(9)
  void shouldNotLetAnApprovalMadeOnNoVerdictStandOnceALateVerdictHoldsTheOutput() throws Exception {
    String reviewer = audit.token(Role.REVIEWER, "stale", "rita");
    logIn(reviewer);
    // The page was drawn while the output had no verdict; a REVIEW verdict held it again since.
    Scenario refused =
        Scenario.of("ui-stale-" + UUID.randomUUID(), "stale", Decision.REVIEW, Instant.now());
    audit.seed(AuditEvents.heldWithoutVerdict(refused));
    browser.get(audit.baseUrl() + "/ui/#/requests/" + refused.requestId());
    assertThat(visible(By.id("hold-basis")).getText()).isEqualTo("NO VERDICT (timed out)");
    audit.seed(heldAgainOnTheVerdict(refused, null));
    browser.findElement(By.id("approve-button")).click();
    waiting()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("review-message"),
                "A verdict reached this output since you opened it: reload"));
    assertThat(
            count(
                "select count(*) from review_outbox where request_id = '"
                    + refused.requestId()
                    + "'"))
        .isZero();

    // Approved on no verdict before the audit store read the late hold: the gate did not act on
    // the approval and wrote the hold again, naming it. The page says so and offers the decision
    // again, under the verdict.
    Scenario reopened =
        Scenario.of("ui-reopened-" + UUID.randomUUID(), "stale", Decision.REVIEW, Instant.now());
    audit.seed(AuditEvents.heldWithoutVerdict(reopened));
    browser.get(audit.baseUrl() + "/ui/#/requests/" + reopened.requestId());
    assertThat(visible(By.id("hold-basis")).getText()).isEqualTo("NO VERDICT (timed out)");
    browser.findElement(By.id("approve-button")).click();
    waiting()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("review-message"), "Approved; waiting for the release gate"));
    String reviewId =
        RunningAuditService.json(audit.get("/api/v1/reviews/" + reopened.requestId(), reviewer))
            .path("reviewId")
            .asText();
    assertThat(reviewId).isNotEmpty();
    audit.seed(heldAgainOnTheVerdict(reopened, null));
    audit.seed(heldAgainOnTheVerdict(reopened, reviewId));
    assertThat(visible(By.id("gate-notice")).getText())
        .startsWith("A moderation verdict reached the release gate before your decision");
    assertThat(visible(By.id("hold-basis")).getText()).isEqualTo("REVIEW");
    assertThat(browser.findElement(By.id("approve-button")).isEnabled()).isTrue();
  }

  /**
   * A reviewer who moves to another page while the decision's POST is on its way: the page no
   * longer polls the request's story once the POST returns (before the fifty-first session it took
   * the page to poll on after the POST, so it polled on the page the reviewer moved to).
   */
  @Test
  @Order(12)
  void shouldStopWaitingForTheGateWhenTheReviewerMovedOnBeforeTheDecisionWasTaken()
      throws Exception {
    logIn(audit.token(Role.REVIEWER, "moved", "rita"));
    Scenario s =
        Scenario.of("ui-moved-" + UUID.randomUUID(), "moved", Decision.REVIEW, Instant.now());
    audit.seed(AuditEvents.heldWithoutVerdict(s));
    browser.get(audit.baseUrl() + "/ui/#/requests/" + s.requestId());
    assertThat(visible(By.id("hold-basis")).getText()).isEqualTo("NO VERDICT (timed out)");
    // The decision's POST answers 1.5 s late; every address the page asks for is recorded from
    // the moment the reviewer moves on.
    JavascriptExecutor page = (JavascriptExecutor) browser;
    page.executeScript(
        "window.__movedFetch = window.__movedFetch || window.fetch;"
            + " window.__after = null; window.__decided = false;"
            + " window.fetch = (url, init) => {"
            + "   if (window.__after) window.__after.push(String(url));"
            + "   if (!init || init.method !== 'POST') return window.__movedFetch(url, init);"
            + "   return new Promise(r => setTimeout(r, 1500))"
            + "     .then(() => window.__movedFetch(url, init))"
            + "     .then(r => { window.__decided = true; return r; });"
            + " };");
    browser.findElement(By.id("approve-button")).click();
    page.executeScript("window.__after = []; location.hash = '#/queue';");
    visible(By.id("queue-table"));
    waiting().until(driver -> (Boolean) page.executeScript("return window.__decided;"));
    assertThat(
            count(
                "select count(*) from api_action where action = 'review.approve'"
                    + " and request_id = '"
                    + s.requestId()
                    + "'"))
        .as("the decision was taken")
        .isEqualTo(1);
    // Three of the page's one-second polls: none reads the request's story.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                ((List<?>) page.executeScript("return window.__after;"))
                    .stream().noneMatch(url -> url.toString().contains(s.requestId())));
    assertThat(browser.getCurrentUrl()).endsWith("#/queue");
    assertThat(browser.findElements(By.id("review-panel"))).isEmpty();
    page.executeScript("window.fetch = window.__movedFetch;");
  }

  /**
   * A reviewer who moves to another page while one of the page's polls of the request's story is on
   * its way, after the gate acted: the answer is not drawn over the page the reviewer moved to (the
   * fifty-second session's review, finding 2). {@code api()} leaves such a read unanswered, and
   * {@code awaitGate} checks the page after each poll too: with both removed, the request's detail
   * replaced the queue (this test failed).
   */
  @Test
  @Order(12)
  void shouldNotDrawAPollOnItsWayWhenTheReviewerMovedOn() throws Exception {
    String reviewer = audit.token(Role.REVIEWER, "polled", "rita");
    logIn(reviewer);
    Scenario s =
        Scenario.of("ui-polled-" + UUID.randomUUID(), "polled", Decision.REVIEW, Instant.now());
    audit.seed(AuditEvents.heldWithoutVerdict(s));
    browser.get(audit.baseUrl() + "/ui/#/requests/" + s.requestId());
    assertThat(visible(By.id("hold-basis")).getText()).isEqualTo("NO VERDICT (timed out)");
    // From now on each read of the request's story answers 1.5 s late; window.__pending counts
    // those on their way, window.__startedAt is when the last one was asked for.
    JavascriptExecutor page = (JavascriptExecutor) browser;
    page.executeScript(
        "const story = arguments[0];"
            + " window.__polledFetch = window.__polledFetch || window.fetch;"
            + " window.__pending = 0; window.__startedAt = 0;"
            + " window.fetch = (url, init) => {"
            + "   if ((init && init.method && init.method !== 'GET')"
            + "       || !String(url).includes(story)) return window.__polledFetch(url, init);"
            + "   window.__pending++; window.__startedAt = Date.now();"
            + "   return new Promise(r => setTimeout(r, 1500))"
            + "     .then(() => window.__polledFetch(url, init))"
            + "     .finally(() => { window.__pending--; });"
            + " };",
        "/api/v1/requests/" + s.requestId());
    browser.findElement(By.id("approve-button")).click();
    waiting()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("review-message"), "Approved; waiting for the release gate"));
    String reviewId =
        RunningAuditService.json(audit.get("/api/v1/reviews/" + s.requestId(), reviewer))
            .path("reviewId")
            .asText();
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    s, GateOutcome.RELEASED, GateBasis.REVIEW, reviewId, Instant.now()))));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                RunningAuditService.json(audit.get("/api/v1/requests/" + s.requestId(), reviewer))
                    .path("status")
                    .asText()
                    .equals("RELEASED"));
    // A poll asked for after the gate's outcome was recorded, still on its way: the reviewer moves.
    long recorded = ((Number) page.executeScript("return Date.now();")).longValue();
    waiting()
        .until(
            driver ->
                (Boolean)
                    page.executeScript(
                        "return window.__pending > 0 && window.__startedAt > arguments[0];",
                        recorded));
    page.executeScript("location.hash = '#/queue';");
    visible(By.id("queue-table"));
    waiting().until(driver -> (Boolean) page.executeScript("return window.__pending === 0;"));
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                !browser.findElements(By.id("queue-table")).isEmpty()
                    && browser.findElements(By.id("gate-notice")).isEmpty());
    assertThat(browser.getCurrentUrl()).endsWith("#/queue");
    assertThat(browser.findElements(By.id("review-panel"))).isEmpty();
    page.executeScript("window.fetch = window.__polledFetch;");
  }

  /**
   * Other content read under a recorded event's id (event_id_conflict): the search form had no
   * control for the API's {@code eventIdConflict} filter and the results no flag, and the story's
   * section had no browser test. The filter finds the requests with a conflict, or only those no
   * resend explains; the story shows the contested record and the other content, and to a tenant's
   * token a row naming another tenant says what it withholds, and withholds it.
   */
  @Test
  @Order(10)
  void shouldFilterTheSearchByEventIdConflictAndShowTheStorysConflicts() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    Instant now = Instant.now();
    // Forged content read first under a genuine output's id; the genuine one comes with its story.
    Scenario contested = Scenario.of("ui-contested-" + run, "acme", Decision.RELEASE, now);
    GenerationOutput genuine = AuditEvents.output(contested);
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(genuine).setText("forged text " + run).build())));
    audit.seed(AuditEvents.story(contested));
    Scenario quiet = Scenario.of("ui-quiet-" + run, "acme", Decision.RELEASE, now);
    audit.seed(AuditEvents.story(quiet));
    // An answer given again after a person sent the request's unfinished flow again: explained.
    Scenario resent = Scenario.of("ui-resent-" + run, "acme", Decision.RELEASE, now);
    audit.seed(AuditEvents.story(resent));
    audit.execute(
        "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
            + " recorded_at, found_at, resent_count, resent_at) select event_id, 'NO_ANSWER',"
            + " request_id, tenant_id, seq, recorded_at, recorded_at, 1, now() from audit_log where request_id = '"
            + resent.requestId()
            + "' and event_type = 'GenerationRequest'");
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(resent))
                    .setText("answered again")
                    .build())));
    // Across tenants: a forged acme output under a globex output's id.
    Scenario victim = Scenario.of("ui-victim-" + run, "globex", Decision.BLOCK, now);
    GenerationOutput victimOutput = AuditEvents.output(victim);
    String forger = "ui-forger-" + run;
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(victimOutput)
                    .setRequestId(forger)
                    .setTenantId("acme")
                    .setText("forged under another tenant's id")
                    .build())));
    audit.seed(AuditEvents.story(victim));
    assertThat(
            count("select count(*) from event_id_conflict where request_id like 'ui-%" + run + "'"))
        .isEqualTo(3);

    logIn(audit.token(Role.COMPLIANCE, null, "carl"));
    browser.get(audit.baseUrl() + "/ui/#/search");
    visible(By.id("search-table"));
    Select conflicts = new Select(visible(By.name("eventIdConflict")));
    assertThat(conflicts.getFirstSelectedOption().getText()).isEqualTo("any");
    conflicts.selectByValue("unexplained");
    browser.findElement(By.id("search-button")).click();
    waiting().until(driver -> shown(contested) && !shown(resent) && !shown(quiet));
    assertThat(
            browser
                .findElement(
                    By.cssSelector(
                        "#search-table tr[data-request-id='"
                            + contested.requestId()
                            + "'] td.event-id-conflict"))
                .getText())
        .isEqualTo("conflict, unexplained");
    conflicts.selectByValue("true");
    browser.findElement(By.id("search-button")).click();
    waiting().until(driver -> shown(contested) && shown(resent) && !shown(quiet));
    assertThat(
            browser
                .findElement(
                    By.cssSelector(
                        "#search-table tr[data-request-id='"
                            + resent.requestId()
                            + "'] td.event-id-conflict"))
                .getText())
        .isEqualTo("conflict, after a resend");

    // The story's section: the contested record and the genuine content read after it.
    browser
        .findElement(
            By.cssSelector("#search-table tr[data-request-id='" + contested.requestId() + "'] a"))
        .click();
    WebElement section = visible(By.id("event-id-conflicts"));
    String conflict = section.getText();
    assertThat(conflict)
        .contains("GenerationOutput " + genuine.getEventId() + " (recorded at seq ")
        .contains("read again at ")
        .contains("SHA-256 ")
        .contains(genuine.getText())
        .doesNotContain("read after a resend");
    assertThat(browser.findElements(By.cssSelector("#event-id-conflicts .withheld-fields")))
        .isEmpty();

    // A tenant's token: the forger's request says what of globex's event it withholds.
    logIn(audit.token(Role.COMPLIANCE, "acme", "cora"));
    browser.get(audit.baseUrl() + "/ui/#/requests/" + forger);
    String withheld = visible(By.id("event-id-conflicts")).getText();
    assertThat(withheld)
        .contains(victimOutput.getEventId())
        .contains("withheld from a tenant's token")
        .doesNotContain("globex")
        .doesNotContain(victim.requestId())
        .doesNotContain(victimOutput.getText());
    assertThat(visible(By.cssSelector("#event-id-conflicts .withheld-fields")).getText())
        .startsWith("Not shown: ")
        .contains("payloadSha256")
        .contains("sourceOffset")
        .contains("seenAt");
  }

  /**
   * Reported by the forty-ninth session's reviews: the search's rows showed no flag of a conflict
   * no resend explains (eventIdConflictUnexplained), a row opened its request's story without the
   * row's tenant, so a global token got the 409 of a request id two tenants use, and that 409 page
   * offered no way to pick a tenant. A row now says "conflict, unexplained" or "conflict, after a
   * resend", opens its own tenant's story, and the 409 page links each tenant's story.
   */
  @Test
  @Order(11)
  void shouldFlagUnexplainedConflictsAndOpenTheRowsTenantsStoryOfASharedRequestId()
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    // A time of this test's own, so that its search window holds its rows alone.
    Instant at =
        Instant.now().plus(Duration.ofDays(3)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    String shared = "ui-shared-" + run;
    Scenario acme = Scenario.of(shared, "acme", Decision.RELEASE, at);
    audit.seed(AuditEvents.story(acme));
    // Held for review: its story offers the explanation, of initech's verdict where acme has one.
    Scenario initech = Scenario.of(shared, "initech", Decision.REVIEW, at.plusSeconds(1));
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(initech))
                    .setEventId("output-event-initech-" + run)
                    .setOutputId("output-initech-" + run)
                    .setText("initech's own answer " + run)
                    .build()),
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                ModerationVerdict.newBuilder(AuditEvents.verdict(initech))
                    .setEventId("verdict-event-initech-" + run)
                    .setVerdictId("verdict-initech-" + run)
                    .setOutputId("output-initech-" + run)
                    .build())));
    // Other content under the id of acme's output: acme's conflict alone, which no resend explains.
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(acme))
                    .setText("other content " + run)
                    .build())));
    assertThat(count("select count(*) from event_id_conflict where request_id = '" + shared + "'"))
        .isEqualTo(1);

    logIn(audit.token(Role.COMPLIANCE, null, "carl"));
    browser.get(audit.baseUrl() + "/ui/#/search?from=" + at + "&to=" + at.plusSeconds(10));
    visible(By.id("search-button")).click();
    By acmeRow = By.cssSelector("#search-table tr[data-request-id='" + shared + "']");
    waiting().until(driver -> driver.findElements(acmeRow).size() == 2);
    String acmeFlag = null;
    String initechFlag = null;
    WebElement initechLink = null;
    for (WebElement row : browser.findElements(acmeRow)) {
      String tenant = row.findElements(By.tagName("td")).get(1).getText();
      String flag = row.findElement(By.cssSelector("td.event-id-conflict")).getText();
      if (tenant.equals("acme")) {
        acmeFlag = flag;
      } else {
        initechFlag = flag;
        initechLink = row.findElement(By.cssSelector("td a"));
      }
    }
    assertThat(acmeFlag).isEqualTo("conflict, unexplained");
    assertThat(initechFlag).isEmpty();

    // The row opens its own tenant's story: no 409 for the global token.
    initechLink.click();
    waiting().until(driver -> driver.getCurrentUrl().endsWith("?tenant=initech"));
    waiting()
        .until(
            driver ->
                driver
                    .findElement(By.tagName("main"))
                    .getText()
                    .contains("initech's own answer " + run));
    assertThat(browser.findElements(By.id("page-error"))).isEmpty();
    // Its verdict's explanation and its evidence bundle name the story's tenant, as the take-down
    // does: before the fifty-first session both were answered 409 ("more than one tenant").
    visible(By.id("explain-button")).click();
    waiting()
        .until(
            driver ->
                !driver.findElements(By.id("explanation-status")).isEmpty()
                    || !driver.findElements(By.id("explanation-error")).isEmpty());
    assertThat(browser.findElements(By.id("explanation-error")))
        .extracting(WebElement::getText)
        .isEmpty();
    visible(By.id("evidence-button")).click();
    waiting()
        .until(
            driver ->
                !driver.findElements(By.id("evidence-downloaded")).isEmpty()
                    || !driver.findElements(By.id("evidence-error")).isEmpty());
    assertThat(browser.findElements(By.id("evidence-error")))
        .extracting(WebElement::getText)
        .isEmpty();
    assertThat(browser.findElement(By.id("evidence-downloaded")).getText())
        .startsWith("Downloaded evidence-" + shared + ".json");

    // Opened without a tenant: the 409 page offers both tenants, and each link opens its story.
    browser.get(audit.baseUrl() + "/ui/#/requests/" + shared);
    assertThat(visible(By.id("page-error")).getText()).contains("more than one tenant");
    List<String> offered = new ArrayList<>();
    for (WebElement link : browser.findElements(By.cssSelector("#tenant-choices a"))) {
      offered.add(link.getText());
    }
    assertThat(offered).containsExactly("acme", "initech");
    browser.findElement(By.cssSelector("#tenant-choices a[data-tenant='acme']")).click();
    WebElement conflicts = visible(By.id("event-id-conflicts"));
    assertThat(conflicts.getText()).contains("other content " + run);
    assertThat(browser.getCurrentUrl()).endsWith("?tenant=acme");
  }

  private static boolean shown(Scenario s) {
    return !browser
        .findElements(By.cssSelector("#search-table tr[data-request-id='" + s.requestId() + "']"))
        .isEmpty();
  }

  /** The late REVIEW verdict and the gate's hold on it (naming the review it did not act on). */
  private static List<IncomingEvent> heldAgainOnTheVerdict(Scenario s, String reviewId) {
    return List.of(
        AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(s)),
        AuditEvents.incoming(
            Topics.REVIEW_PENDING.name(),
            AuditEvents.gateOutcome(
                s, GateOutcome.HELD_FOR_REVIEW, GateBasis.VERDICT, reviewId, Instant.now())));
  }

  /** The queue's row of a scenario's request, once the queue shows it. */
  /** The address of the export the page asked for last (window.__asked records each fetch). */
  @SuppressWarnings("unchecked")
  private static String askedExport() {
    return waiting()
        .until(
            driver -> {
              List<String> asked =
                  (List<String>)
                      ((JavascriptExecutor) driver)
                          .executeScript(
                              "const e = window.__asked.filter(u => u.includes('/outputs/export'));"
                                  + " window.__asked = []; return e;");
              return asked.isEmpty() ? null : asked.get(asked.size() - 1);
            });
  }

  private static WebElement queueRow(Scenario s) {
    return visible(By.cssSelector("#queue-table tr[data-request-id='" + s.requestId() + "']"));
  }

  private static long count(String sql) {
    try {
      return audit.count(sql);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A released request whose outcome the audit store never got, restated by the gate (naming {@code
   * outcomeEventId}, or no outcome when null).
   */
  private Scenario restatedRelease(String outcomeEventId) throws Exception {
    Scenario restated =
        Scenario.of("ui-restated-" + UUID.randomUUID(), "acme", Decision.RELEASE, Instant.now());
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(restated)),
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(restated)),
            AuditEvents.incoming(
                Topics.GATE_RESTATEMENTS.name(),
                AuditEvents.restatedRelease(
                    restated,
                    Instant.parse("2026-12-05T09:00:00Z"),
                    Instant.now(),
                    outcomeEventId,
                    outcomeEventId == null ? null : io.genguard.events.v1.GateBasis.VERDICT))));
    return restated;
  }

  private static ReleaseGateOutcome releasedOnKafka(String requestId) {
    List<byte[]> found =
        TopicReader.until(
            IntegrationInfrastructure.get().kafkaClientProperties(),
            Topics.CONTENT_RELEASED.name(),
            List.of(requestId),
            1,
            PATIENCE);
    assertThat(found).hasSize(1);
    return Topics.CONTENT_RELEASED.codec().decode(found.get(0));
  }

  /**
   * Explains with the real n-gram scorer's occlusion. This test's verdicts are written by hand, not
   * by a moderator, so they are explained as recorded, without being judged again first (the
   * embedded stack's explanations judge again; ReviewLoopITCase covers them).
   */
  private static final class OcclusionOnly implements VerdictExplanations {
    private final VerdictExplainer explainer = VerdictExplainer.named("ngram-logistic");

    @Override
    public synchronized List<PolicyWhatIf.Judged> whatIf(
        io.genguard.moderation.policy.PolicySet candidate, List<PolicyWhatIf.Recorded> recorded) {
      try (PolicyWhatIf whatIf = new PolicyWhatIf(candidate, anchors.resolve("keys"))) {
        return whatIf.judgeAll(recorded);
      }
    }

    @Override
    public synchronized Explanation explain(ModerationVerdict verdict, GenerationOutput output) {
      return new Explanation(
          Status.EXPLAINED,
          "n-gram occlusion, not judged again",
          ReplayingExplanations.reasonWords(explainer.explain(output.getText(), verdict)));
    }
  }
}
