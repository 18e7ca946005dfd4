package io.genguard.schemas;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.TopicConfig;

/**
 * How long Kafka keeps the topics whose records carry a request's content ({@link
 * Topics#requestDataTopics()}: prompts, generated texts, attributes, reviewers' notes, and the dead
 * letters that may hold any of them). The audit store is the system of record; these topics are the
 * way there, and an erasure in the audit store does not reach them, so their retention is the bound
 * on how long a copy outlives an erasure.
 *
 * <p>{@value #KEY}: whole hours from 1 to {@value #LONGEST_HOURS} (default {@value #DEFAULT_HOURS},
 * the broker's own default made explicit), or {@value #UNMANAGED} to leave those topics' retention
 * to whoever runs the cluster. A managed retention is applied to the topics when they are created
 * and set again on existing ones at every start, with a segment age of an eighth of it: Kafka
 * deletes whole segments once their newest record is older than the retention, so a record is gone
 * at most retention + segment age + the broker's retention check interval ({@code
 * log.retention.check.interval.ms}, 5 minutes by default) after it was written.
 *
 * @param retention how long the topics keep records; empty when unmanaged
 */
public record ContentRetention(Optional<Duration> retention) {
  public static final String KEY = "GENGUARD_CONTENT_RETENTION_HOURS";
  public static final String UNMANAGED = "unmanaged";
  public static final long DEFAULT_HOURS = 168;
  public static final long LONGEST_HOURS = 10L * 366 * 24;

  public ContentRetention {
    retention.ifPresent(
        value -> {
          if (value.compareTo(Duration.ofHours(1)) < 0
              || value.compareTo(Duration.ofHours(LONGEST_HOURS)) > 0) {
            throw new IllegalArgumentException(
                KEY + " must be between 1 and " + LONGEST_HOURS + " hours, not " + value);
          }
        });
  }

  public static ContentRetention defaults() {
    return hours(DEFAULT_HOURS);
  }

  public static ContentRetention hours(long hours) {
    if (hours < 1 || hours > LONGEST_HOURS) {
      throw new IllegalArgumentException(
          KEY + "=" + hours + " must be between 1 and " + LONGEST_HOURS + " (hours)");
    }
    return new ContentRetention(Optional.of(Duration.ofHours(hours)));
  }

  public static ContentRetention unmanaged() {
    return new ContentRetention(Optional.empty());
  }

  public static ContentRetention fromEnvironment(Map<String, String> env) {
    return parse(env.get(KEY));
  }

  /**
   * Reads the key's value: blank or absent is the default, {@value #UNMANAGED} leaves the topics
   * alone, anything else must be a whole number of hours in range.
   */
  public static ContentRetention parse(String value) {
    if (value == null || value.isBlank()) {
      return defaults();
    }
    String trimmed = value.trim();
    if (trimmed.equalsIgnoreCase(UNMANAGED)) {
      return unmanaged();
    }
    long hours;
    try {
      hours = Long.parseLong(trimmed);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          KEY
              + "='"
              + shown(trimmed)
              + "' is neither a whole number of hours (1 to "
              + LONGEST_HOURS
              + ") nor '"
              + UNMANAGED
              + "'",
          e);
    }
    return hours(hours);
  }

  /**
   * The topic configuration a managed retention sets: {@code retention.ms} and {@code segment.ms};
   * empty when unmanaged.
   */
  public Map<String, String> topicConfig() {
    return retention
        .map(
            value ->
                Map.of(
                    TopicConfig.RETENTION_MS_CONFIG,
                    Long.toString(value.toMillis()),
                    TopicConfig.SEGMENT_MS_CONFIG,
                    Long.toString(value.dividedBy(8).toMillis())))
        .orElse(Map.of());
  }

  @Override
  public String toString() {
    return retention.map(value -> value.toHours() + " h").orElse(UNMANAGED);
  }

  private static String shown(String value) {
    String printable = value.replaceAll("\\p{Cntrl}", "?");
    return printable.length() > 40 ? printable.substring(0, 40) + "..." : printable;
  }
}
