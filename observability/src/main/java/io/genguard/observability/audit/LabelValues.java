package io.genguard.observability.audit;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReviewAction;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The label values the audit-store collector takes from what events say, bounded before they become
 * a series. Anyone who can write an input topic chooses them (a GenerationOutput's {@code
 * cost.device}, a verdict's policy version or reason codes, a dead letter's stage), and every value
 * becomes a row of {@code metric_counter}, kept and exported for good: a value of kilobytes made
 * that row larger than PostgreSQL's index accepts and failed every round after it, and a stream of
 * distinct values would grow the series without end.
 *
 * <ul>
 *   <li>A label with a fixed vocabulary keeps only its words: {@code decision}, {@code outcome},
 *       {@code basis} and {@code action} their enum's names, {@code source_topic} GenGuard's input
 *       topics, {@code stage} the known stages and the generator pools' {@code generator-...}.
 *   <li>A code ({@code code}, {@code category}) is 1-64 letters, digits, '_', '.', ':' or '-'.
 *   <li>Any other label (model, device, policy version, bias group) is 1-{@value #MAX_CHARS}
 *       printable ASCII characters.
 * </ul>
 *
 * Anything else reads {@value #OTHER}; a missing or blank value {@value #NONE}. A longest label set
 * is a few hundred bytes, far below the 2,704 of a btree index row.
 */
final class LabelValues {
  /** Most characters of a free-form label value. */
  static final int MAX_CHARS = 100;

  /** A value a label does not take: too long, not in its vocabulary, or not printable ASCII. */
  static final String OTHER = "other";

  /** No value. */
  static final String NONE = "none";

  /**
   * Labels whose values are all known here: never folded into {@value #OTHER} by the collector's
   * cap on the series of a counter.
   */
  static final Set<String> FIXED = Set.of("decision", "outcome", "basis", "action", "source_topic");

  private static final Set<String> DECISIONS = names(Decision.values());
  private static final Set<String> OUTCOMES = names(GateOutcome.values());
  private static final Set<String> BASES = names(GateBasis.values());
  private static final Set<String> ACTIONS = names(ReviewAction.values());
  private static final Set<String> TOPICS =
      Topics.eventTopics().stream().map(Topic::name).collect(Collectors.toUnmodifiableSet());
  private static final Pattern CODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}");
  private static final Pattern POOL_STAGE = Pattern.compile("generator-[A-Za-z0-9._-]{1,80}");
  private static final Pattern PRINTABLE = Pattern.compile("[\\x20-\\x7e]{1," + MAX_CHARS + "}");

  private LabelValues() {}

  /**
   * The value label {@code key} shows for {@code value}.
   *
   * @param knownStages the stages that write dead letters, for {@code stage}
   */
  static String of(String key, String value, List<String> knownStages) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    boolean taken =
        switch (key) {
          case "decision" -> DECISIONS.contains(value);
          case "outcome" -> OUTCOMES.contains(value);
          case "basis" -> BASES.contains(value);
          case "action" -> ACTIONS.contains(value);
          case "source_topic" -> TOPICS.contains(value);
          case "stage" -> knownStages.contains(value) || POOL_STAGE.matcher(value).matches();
          case "code", "category" -> CODE.matcher(value).matches();
          default -> PRINTABLE.matcher(value).matches();
        };
    return taken ? value : OTHER;
  }

  /** {@code tags} with every label not {@link #FIXED} reading {@value #OTHER}. */
  static Tags folded(Tags tags) {
    List<Tag> folded = new ArrayList<>();
    for (Tag tag : tags) {
      folded.add(FIXED.contains(tag.getKey()) ? tag : Tag.of(tag.getKey(), OTHER));
    }
    return Tags.of(folded);
  }

  private static Set<String> names(Enum<?>[] values) {
    return Arrays.stream(values).map(Enum::name).collect(Collectors.toUnmodifiableSet());
  }
}
