package io.genguard.stack.cli;

import io.genguard.moderation.batch.BatchScorer;
import io.genguard.moderation.evaluation.QualityReport;
import io.genguard.moderation.train.TrainCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * Commands implemented by the moderation module; their own argument parsing and usage text apply
 * (run one with no arguments to see it).
 */
final class PassThroughCommands {
  private PassThroughCommands() {}

  @Command(
      name = "score",
      description =
          "Score a JSONL file: --in IN.jsonl --out OUT.jsonl [--policy FILE]"
              + " [--scorer NAME] [--tenant ID] [--batch-size N] [--explain]; --scorer onnx-classifier"
              + " takes --classifier-dir DIR --classifier-labels MAP [--classifier-max-tokens N]."
              + " One output line per input line, same order; OUT is replaced only when the run ends."
              + " Exit 0 all scored, 4 some error lines, 5 the scorer failed on some lines, 2 usage,"
              + " 1 failed.")
  static final class Score implements Callable<Integer> {
    @Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
      return BatchScorer.run(args.toArray(String[]::new));
    }
  }

  @Command(
      name = "train",
      description =
          "Train the moderation models on the shared data:"
              + " --model ngram|stereotype|minilm|all [--data-dir DATASETS] [--out DIR] [--epochs N]."
              + " DATASETS defaults to ../shared/data (or GENGUARD_DATA_DIR). Needs about 8 GiB of heap"
              + " (GENGUARD_JAVA_OPTS=-Xmx8g).")
  static final class Train implements Callable<Integer> {
    @Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
      return TrainCommand.run(args.toArray(String[]::new));
    }
  }

  @Command(
      name = "quality",
      description =
          "Measure moderation quality on held-out data and print the"
              + " report: [--data-dir DATASETS] [--scorers a,b,c] [--policy FILE] [--out FILE] [--holistic-sample N]"
              + " [--classifier-dir DIR --classifier-labels MAP [--classifier-max-tokens N]] (for"
              + " onnx-classifier).")
  static final class Quality implements Callable<Integer> {
    @Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
      return QualityReport.run(args.toArray(String[]::new));
    }
  }
}
