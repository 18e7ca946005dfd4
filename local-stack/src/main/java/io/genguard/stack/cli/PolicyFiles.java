package io.genguard.stack.cli;

import io.genguard.moderation.policy.InvalidPolicyException;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import java.nio.file.Path;

/** Policy files given on the command line, checked before a command starts its work. */
final class PolicyFiles {
  private PolicyFiles() {}

  /**
   * The policy file {@code file}, loaded.
   *
   * @throws IllegalArgumentException (a usage error, exit 2) when it cannot be read or is not a
   *     valid policy, with the line and the reason ({@link InvalidPolicyException})
   */
  static PolicySet load(Path file) {
    return load(null, file);
  }

  /**
   * The policy file {@code file} that the setting {@code key} names (an environment key), loaded.
   *
   * @param key the setting, or null for a file given by a flag (the message then names the file
   *     alone)
   * @throws IllegalArgumentException as {@link #load(Path)}, its message led by {@code key}
   */
  static PolicySet load(String key, Path file) {
    try {
      return PolicyLoader.load(file);
    } catch (InvalidPolicyException e) {
      throw new IllegalArgumentException((key == null ? "" : key + ": ") + e.getMessage(), e);
    }
  }
}
