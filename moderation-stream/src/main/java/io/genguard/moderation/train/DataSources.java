package io.genguard.moderation.train;

import java.util.List;

/**
 * The shared data sets the models learn from or are evaluated on, as the data README names them.
 */
public final class DataSources {
  /** One data set: folder, upstream repository and commit, license, and how GenGuard uses it. */
  public record Source(String folder, String upstream, String license, String use) {}

  public static final List<Source> ALL =
      List.of(
          new Source(
              "toxigen/",
              "microsoft/TOXIGEN @ 01517e81",
              "MIT + CDLA-Permissive-2.0",
              "train/validation/test"),
          new Source(
              "davidson/",
              "t-davidson/hate-speech-and-offensive-language @ cb50f7e9",
              "MIT",
              "train/validation/test"),
          new Source(
              "bold/",
              "amazon-science/bold @ 3ad652c7",
              "CC BY-SA 4.0",
              "benign texts: train/validation/test"),
          new Source(
              "safety/SimpleSafetyTests",
              "bertiev/SimpleSafetyTests @ d7aee9a",
              "CC BY 4.0",
              "train/validation/test"),
          new Source(
              "safety/AdversariaLLM (HarmBench, StrongREJECT, AdvBench)",
              "busycalibrating/AdversariaLLM @ f970939",
              "MIT",
              "train/validation/test"),
          new Source(
              "safety/jailbreakbench-artifacts",
              "JailbreakBench/artifacts @ 909e68c",
              "MIT",
              "train/validation/test"),
          new Source(
              "safety/aart-ai-safety-dataset",
              "google-research-datasets/aart-ai-safety-dataset @ fcdb2a8",
              "CC BY 4.0",
              "train/validation/test"),
          new Source(
              "safety/noncompliance (coconot_eval, coconot_pref)",
              "allenai/noncompliance @ 25bf77c",
              "MIT / ODC-BY",
              "benign prompts and responses: train/validation/test"),
          new Source(
              "safety/noncompliance (coconot_contrast_eval)",
              "allenai/noncompliance @ 25bf77c",
              "MIT / ODC-BY",
              "evaluation only (false positives)"),
          new Source(
              "safety/exaggerated-safety (XSTest)",
              "paul-rottger/exaggerated-safety @ d7bb5bd",
              "CC BY 4.0",
              "evaluation only (false positives)"),
          new Source(
              "holistic_bias/v1.1",
              "facebookresearch/ResponsibleNLP @ 0ec714eb",
              "CC BY-SA 4.0",
              "evaluation only (moderator bias)"));

  private DataSources() {}
}
