package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void topicNamesAreUnique() {
    Set<String> names = new HashSet<>();
    Topics.all().forEach(topic -> assertThat(names.add(topic.name())).as(topic.name()).isTrue());
  }

  @Test
  void everyInputTopicHasItsDeadLetterTopicInTheCatalogue() {
    Set<String> deadLetterNames = new HashSet<>();
    Topics.deadLetterTopics().forEach(topic -> deadLetterNames.add(topic.name()));
    Topics.eventTopics().stream()
        .filter(topic -> topic.deadLetterTopic().isPresent())
        .forEach(topic -> assertThat(deadLetterNames).contains(topic.requireDeadLetterTopic()));
  }

  /**
   * A topic is a request-data topic exactly when its records can hold what a data subject wrote or
   * is described by, so that a new schema with such a field cannot slip past the retention.
   */
  @Test
  void requestDataTopicsAreThoseWhoseRecordsCarryContentOrAttributes() {
    Set<String> contentFields = Set.of("prompt", "text", "attributes", "note", "reason", "payload");
    Set<String> requestData = new HashSet<>();
    Topics.requestDataTopics().forEach(topic -> requestData.add(topic.name()));
    for (Topic<String, ?> topic : Topics.all()) {
      boolean carriesContent =
          topic.codec().schema().getFields().stream()
              .anyMatch(field -> contentFields.contains(field.name()));
      assertThat(requestData.contains(topic.name()))
          .as(topic.name() + " carries content: " + carriesContent)
          .isEqualTo(carriesContent);
    }
  }
}
