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
}
