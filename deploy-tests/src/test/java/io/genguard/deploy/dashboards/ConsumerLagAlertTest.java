package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.AuditConfig;
import io.genguard.deploy.promql.PromQlMetricNames;
import io.genguard.moderation.job.ExactlyOnceKafka;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * GenGuardConsumerLagHigh goes by how long records have waited, not by how many wait: 1,000 records
 * are seconds of work for the release gate and an hour for a generator pool on one GPU, and a stage
 * that stopped with a few records unread never reaches any count. The age of a group's oldest
 * unread record is how far behind it is in time, whatever its speed.
 */
class ConsumerLagAlertTest {
  private static final String ALERT = "GenGuardConsumerLagHigh";

  /**
   * ConsumerGroupLagCollector.AGE_UNREAD as Prometheus names it (DashboardMetricsITCase checks the
   * names the audit service exports).
   */
  private static final String AGE_UNREAD = "genguard_kafka_lag_age_unread_total";

  /** {@code ... > N} at the end of the expression: the age in seconds it fires above. */
  private static final Pattern THRESHOLD = Pattern.compile(">\\s*([0-9]+(?:\\.[0-9]+)?)\\s*$");

  @Test
  void shouldAlertOnHowLongTheOldestUnreadRecordHasWaitedNotOnHowManyWait() {
    String expression = FlinkAlertRulesTest.rule(ALERT).path("expr").asText().trim();

    assertThat(PromQlMetricNames.of(expression))
        .as(ALERT + " reads the age of the oldest unread record only, not a record count")
        .containsExactly("genguard_kafka_consumer_group_lag_age_seconds");
  }

  @Test
  void shouldFireBeforeAWaitingRequestPassesItsAnswerDeadlineButNotWhileAFlinkJobCheckpoints() {
    JsonNode rule = FlinkAlertRulesTest.rule(ALERT);
    Matcher threshold = THRESHOLD.matcher(rule.path("expr").asText().trim());
    assertThat(threshold.find()).as(ALERT + " ends in '> seconds'").isTrue();
    Duration age = Duration.ofMillis(Math.round(Double.parseDouble(threshold.group(1)) * 1000));
    Duration fired = age.plus(duration(rule.path("for").asText("0s")));
    Duration answerDeadline =
        Duration.ofMinutes(
            AuditConfig.of("jdbc:postgresql://localhost/genguard", "genguard", "", 0)
                .answerDeadlineMinutes());

    assertThat(fired)
        .as("the oldest unread record's wait when the alert fires, against the default deadline")
        .isLessThan(answerDeadline);
    // The Flink jobs commit their source offsets once a checkpoint completes: a record they have
    // read stays unread for Kafka up to an interval and a checkpoint's time longer.
    assertThat(age)
        .as("longer than a Flink job keeps records it has read uncommitted")
        .isGreaterThan(
            ExactlyOnceKafka.MAX_CHECKPOINT_INTERVAL.plus(ExactlyOnceKafka.CHECKPOINT_TIMEOUT));
  }

  @Test
  void shouldAlertWhenTheAgesOfLaggingPartitionsGoUnreadRoundAfterRound() {
    JsonNode rule = FlinkAlertRulesTest.rule("GenGuardLagAgeUnread");
    String expression = rule.path("expr").asText().trim().replaceAll("\\s+", " ");
    Matcher range =
        Pattern.compile("^max\\(increase\\(" + AGE_UNREAD + "\\[(\\d+)m\\]\\)\\) > 0$")
            .matcher(expression);

    assertThat(PromQlMetricNames.of(expression)).containsExactly(AGE_UNREAD);
    // While the first unread records cannot be read, the ages are NaN or lower bounds, so
    // GenGuardConsumerLagHigh and GenGuardUnreadNearRetention may stay silent; and the collector's
    // rounds succeed, so GenGuardLagCollectorStale does too. Every audit replica runs a collector
    // and counts the same partitions: the max over replicas, not the sum.
    assertThat(range.matches()).as("max over replicas of the increase: " + expression).isTrue();
    Duration window = Duration.ofMinutes(Long.parseLong(range.group(1)));
    Duration held = duration(rule.path("for").asText("0s"));
    assertThat(held)
        .as("one slow round raises the increase for one range only: it must not fire alone")
        .isGreaterThan(window);
    assertThat(window.plus(held)).isLessThanOrEqualTo(Duration.ofMinutes(30));
    assertThat(rule.path("labels").path("severity").asText()).isEqualTo("warning");
  }

  private static Duration duration(String text) {
    Matcher matcher = Pattern.compile("(\\d+)([smh])").matcher(text);
    Duration total = Duration.ZERO;
    while (matcher.find()) {
      long amount = Long.parseLong(matcher.group(1));
      total =
          total.plus(
              switch (matcher.group(2)) {
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
              });
    }
    return total;
  }
}
