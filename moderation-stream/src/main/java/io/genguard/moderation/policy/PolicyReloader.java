package io.genguard.moderation.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the policy of one file current: {@link #reloadIfChanged()} re-reads the file when it has
 * changed and swaps the policy in only if the new file is valid. An invalid file, or a changed file
 * that kept its version (verdicts would then name one version for two rule sets), is rejected with
 * its reason and the running policy stays in force. Thread-safe: readers call {@link #get()}.
 */
public final class PolicyReloader implements Supplier<PolicySet> {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  /** What a reload attempt did. */
  public enum Outcome {
    UNCHANGED,
    RELOADED,
    REJECTED
  }

  /** The outcome, the policy in force afterwards, and the error of a rejected file (else null). */
  public record Result(Outcome outcome, PolicySet inForce, String error) {}

  private final Path file;
  private final AtomicReference<PolicySet> current = new AtomicReference<>();
  private volatile FileTime lastModified;
  private volatile long lastSize;
  private volatile String lastError;

  /**
   * Loads the file; the first load must succeed.
   *
   * @throws InvalidPolicyException when the file is invalid
   */
  public PolicyReloader(Path file) {
    this.file = file;
    current.set(PolicyLoader.load(file));
    rememberStamp();
  }

  @Override
  public PolicySet get() {
    return current.get();
  }

  public Path file() {
    return file;
  }

  /** The reason the last changed file was rejected, or null if the last change was accepted. */
  public String lastError() {
    return lastError;
  }

  /** Re-reads the file if its size or modification time changed. */
  public Result reloadIfChanged() {
    try {
      if (Files.getLastModifiedTime(file).equals(lastModified) && Files.size(file) == lastSize) {
        return new Result(Outcome.UNCHANGED, current.get(), null);
      }
    } catch (IOException e) {
      return reject("cannot read " + file + ": " + e.getMessage());
    }
    return reload();
  }

  /** Re-reads the file unconditionally. */
  public Result reload() {
    PolicySet candidate;
    try {
      candidate = PolicyLoader.load(file);
    } catch (InvalidPolicyException e) {
      rememberStamp();
      return reject(e.getMessage());
    }
    rememberStamp();
    PolicySet running = current.get();
    if (candidate.sha256().equals(running.sha256())) {
      lastError = null;
      return new Result(Outcome.UNCHANGED, running, null);
    }
    if (candidate.policyId().equals(running.policyId())
        && candidate.version().equals(running.version())) {
      return reject(
          "Policy "
              + file
              + " changed but still says version '"
              + running.version()
              + "'; give changed rules a new version so that verdicts name the rules they were decided by");
    }
    current.set(candidate);
    lastError = null;
    LOG.info(
        "Policy {} version {} is now in force (was {})",
        candidate.policyId(),
        candidate.version(),
        running.version());
    return new Result(Outcome.RELOADED, candidate, null);
  }

  private Result reject(String error) {
    lastError = error;
    PolicySet running = current.get();
    LOG.error(
        "{}; policy {} version {} stays in force", error, running.policyId(), running.version());
    return new Result(Outcome.REJECTED, running, error);
  }

  private void rememberStamp() {
    try {
      lastModified = Files.getLastModifiedTime(file);
      lastSize = Files.size(file);
    } catch (IOException e) {
      lastModified = null;
      lastSize = -1;
    }
  }
}
