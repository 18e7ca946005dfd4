package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.stack.DeadLetterRedrive;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code genguard dlq}: the dead-letter topics. */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = "Dead-letter topics: send back what this build can now decode.",
    subcommands = {DlqCommand.Redrive.class})
final class DlqCommand {
  private DlqCommand() {}

  /** {@code genguard dlq redrive}: {@link DeadLetterRedrive} from the command line. */
  @Command(
      name = "redrive",
      mixinStandardHelpOptions = true,
      description =
          "Send the dead letters of one topic back to the topic they came from, when the stage"
              + " could not decode them and this build's schemas can (after a consumer caught up"
              + " with a producer's schema, say). Everything else stays, counted by why. Goes on"
              + " where the last run of the same --group stopped, except that it does not commit"
              + " past a dead letter that still does not decode, so a run of an upgraded build"
              + " reads it again (and passes over the letters after it already handled); prints"
              + " one JSON object. Exit 0 = every dead letter read was sent back, 1 = some stay.")
  static final class Redrive implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(
        names = "--topic",
        required = true,
        paramLabel = "TOPIC",
        description = "The dead-letter topic, e.g. gen.outputs.dlq.")
    String topic;

    @Option(
        names = "--stage",
        paramLabel = "STAGE",
        description =
            "Only the dead letters of this stage (generator, moderation, gate, bias-aggregation);"
                + " a run with a stage keeps its own position (its group gets the stage's name).")
    String stage;

    @Option(
        names = "--group",
        paramLabel = "GROUP",
        defaultValue = DeadLetterRedrive.DEFAULT_GROUP,
        description = "Consumer group that remembers how far runs got (default ${DEFAULT-VALUE}).")
    String group;

    @Option(
        names = "--dry-run",
        description = "Say what would be sent back; send and commit nothing.")
    boolean dryRun;

    @Option(
        names = "--from-beginning",
        description = "Read the topic from its first record, not from where the last run stopped.")
    boolean fromBeginning;

    @Override
    public Integer call() throws Exception {
      Map<String, Object> kafkaProperties = kafka.clientProperties();
      if (stage != null && !stage.matches("[a-z][a-z0-9-]{0,63}")) {
        throw new IllegalArgumentException(
            "--stage '" + stage + "' is not a stage name (generator, moderation, gate, ...)");
      }
      DeadLetterRedrive.sourceOf(topic); // a clear error before connecting
      DeadLetterRedrive.Result result =
          DeadLetterRedrive.run(
              new DeadLetterRedrive.Settings(
                  kafkaProperties,
                  topic,
                  stage,
                  stage == null ? group : group + "." + stage,
                  dryRun,
                  fromBeginning));
      ObjectMapper json = new ObjectMapper();
      ObjectNode out = json.createObjectNode();
      out.put("topic", result.deadLetterTopic());
      out.put("source_topic", result.sourceTopic());
      out.put("dry_run", result.dryRun());
      out.put("read", result.read());
      out.put(result.dryRun() ? "would_send" : "sent", result.sent());
      out.set("kept", json.valueToTree(result.kept()));
      out.set("examples", json.valueToTree(result.examples()));
      out.set("held_at", json.valueToTree(result.heldAt()));
      out.put("passed_over", result.passedOver());
      System.out.println(json.writeValueAsString(out));
      if (!result.heldAt().isEmpty()) {
        Progress.say(
            (result.dryRun() ? "would keep" : "kept")
                + " the group's position at the first dead letter that still does not decode ("
                + String.join(", ", result.heldAt())
                + "): the next run reads from there, sends what an upgraded build decodes, and"
                + " passes over the letters after it that this run already sent back or kept");
      }
      return result.kept().isEmpty() ? 0 : 1;
    }
  }
}
