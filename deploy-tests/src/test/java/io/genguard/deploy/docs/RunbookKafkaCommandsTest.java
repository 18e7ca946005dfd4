package io.genguard.deploy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.deploy.RepositoryFiles;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Kafka commands docs/OPERATIONS.md gives, often in an incident, run as written on the compose
 * deployment: the apache/kafka image keeps its tools in /opt/kafka/bin (not on the PATH) under
 * their {@code .sh} names, and the current tools refuse a command without {@code
 * --bootstrap-server}.
 */
class RunbookKafkaCommandsTest {
  /** A Kafka tool given options: {@code kafka-consumer-groups.sh --...}, with or without .sh. */
  private static final Pattern INVOCATION =
      Pattern.compile("kafka-[a-z]+(?:-[a-z]+)*(?:\\.sh)?(?=\\s+--)");

  private static final String PREFIX = "docker compose exec kafka /opt/kafka/bin/";

  @Test
  void shouldRunEveryKafkaCommandInTheBrokersContainerAgainstItsBroker() throws Exception {
    String text = Files.readString(RepositoryFiles.resolve("docs/OPERATIONS.md"));
    List<String> commands = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Matcher matcher = INVOCATION.matcher(text);
    while (matcher.find()) {
      // The command is the inline code span the tool is named in (a command in a fenced block
      // reads from the fence on, which fails the prefix: write it as an inline span, or extend
      // this).
      int start = text.lastIndexOf('`', matcher.start()) + 1;
      int end = text.indexOf('`', matcher.end());
      String command =
          text.substring(start, end < 0 ? text.length() : end).replaceAll("\\s+", " ").trim();
      commands.add(command);
      if (!matcher.group().endsWith(".sh")) {
        problems.add(matcher.group() + " is " + matcher.group() + ".sh in the image: " + command);
      }
      if (!command.startsWith(PREFIX + matcher.group())) {
        problems.add("run it as " + PREFIX + matcher.group() + ": " + command);
      }
      if (!command.contains(" --bootstrap-server ")) {
        problems.add("give it --bootstrap-server: " + command);
      }
    }
    assertThat(problems).isEmpty();
    assertThat(commands).as("Kafka commands in the runbook").hasSizeGreaterThanOrEqualTo(5);
  }
}
