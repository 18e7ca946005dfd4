package io.genguard.moderation.job;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.policy.PolicySet;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Judges a batch of outputs: one verdict per output, same order. Implementations are plain Java
 * (scorers and policy); the Flink operator only batches and calls them. Must fail closed: an
 * implementation returns REVIEW or BLOCK verdicts for what it could not score, never throws them
 * away.
 */
public interface BatchModerator extends AutoCloseable {
  List<ModerationVerdict> moderate(List<GenerationOutput> outputs);

  /**
   * The policy file the next verdicts are decided under (checking for a changed file as deciding
   * would), or null for a moderator without one.
   */
  default PolicySet policy() {
    return null;
  }

  /**
   * Each version of the policy file this moderator (and those it was restored from) had in force,
   * with the SHA-256 of its file, oldest first: checkpointed, so that a restored moderator still
   * refuses a version reused for other rules. Empty for a moderator that does not reload a file.
   */
  default Map<String, String> policyVersionsSeen() {
    return Map.of();
  }

  @Override
  default void close() {}

  /** Creates the moderator inside the task, after the job graph has been shipped. */
  @FunctionalInterface
  interface Factory extends Serializable {
    BatchModerator create();

    /**
     * Creates the moderator of a task restored from a checkpoint, given the policy file the task
     * decided under when the checkpoint was taken (null when the checkpoint has none), so that a
     * restart starts under that policy and takes the file on disk only as a valid change of it
     * (checked before the first batch), rather than whatever the file says at that instant. A
     * factory without a policy file ignores it.
     */
    default BatchModerator create(PolicySet inForceAtCheckpoint) {
      return create();
    }

    /**
     * {@link #create(PolicySet)}, also given the versions the task's moderator had seen at the
     * checkpoint ({@link BatchModerator#policyVersionsSeen()}; empty when the checkpoint has none).
     * A factory without a policy file ignores them.
     */
    default BatchModerator create(
        PolicySet inForceAtCheckpoint, Map<String, String> versionsSeenAtCheckpoint) {
      return create(inForceAtCheckpoint);
    }
  }
}
