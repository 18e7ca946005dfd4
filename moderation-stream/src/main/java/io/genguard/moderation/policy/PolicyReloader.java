package io.genguard.moderation.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the policy of one file current: {@link #reloadIfChanged()} re-reads the file when it has
 * changed and swaps the policy in only if the new file is valid. An invalid file, or a changed file
 * that kept its version (verdicts would then name one version for two rule sets), is rejected with
 * its reason and the running policy stays in force. Thread-safe: readers call {@link #get()}.
 *
 * <p>A file is read only once it has settled, so that a file caught half-written cannot go into
 * force (and then, being a version already in force, lock out the complete file): its modification
 * time and size must have stayed the same for {@link #SETTLE} by this reloader's clock, and must
 * not change while it is read; otherwise the check answers {@link Outcome#SETTLING} and reads it at
 * a later check. A writer that pauses longer than that mid-file can still be caught; replacing the
 * file in one step (write a temporary file, then rename it over the policy) is always safe.
 */
public final class PolicyReloader implements Supplier<PolicySet> {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  /** How long a changed file must stay unchanged before it is read. */
  public static final Duration SETTLE = Duration.ofSeconds(1);

  /** What a reload attempt did. */
  public enum Outcome {
    UNCHANGED,
    /** The file changed less than {@link #SETTLE} ago, or while it was read: read it later. */
    SETTLING,
    RELOADED,
    REJECTED
  }

  /** The outcome, the policy in force afterwards, and the error of a rejected file (else null). */
  public record Result(Outcome outcome, PolicySet inForce, String error) {}

  /** What tells one version of the file from another without reading it. */
  private record Stamp(FileTime modified, long size) {}

  private final Path file;
  private final LongSupplier nanoClock;
  private final Function<Path, PolicySet> loader;
  private final AtomicReference<PolicySet> current = new AtomicReference<>();

  // Guarded by this: the stamp of the file last read, and a changed stamp waiting to settle.
  private Stamp read;
  private Stamp settling;
  private long settlingSince;
  private volatile String lastError;

  /**
   * Loads the file; the first load must succeed.
   *
   * @throws InvalidPolicyException when the file is invalid
   */
  public PolicyReloader(Path file) {
    this(file, System::nanoTime, PolicyLoader::load);
  }

  /**
   * Starts with a policy already in force (the one a restarted task decided under before) and
   * treats the file as changed: it is read once it has settled, and taken only if it is valid and,
   * when it differs, names a new version. So a restart never fails on the file, and never puts in
   * force a half-written file or changed rules under the version in force.
   */
  public PolicyReloader(Path file, PolicySet inForce) {
    this(file, inForce, System::nanoTime, PolicyLoader::load);
  }

  /**
   * With the clock that times {@link #SETTLE} (nanoseconds, monotonic) and the loader: seams for
   * the tests.
   */
  PolicyReloader(Path file, LongSupplier nanoClock, Function<Path, PolicySet> loader) {
    this.file = file;
    this.nanoClock = nanoClock;
    this.loader = loader;
    // Stamped before reading: a write during the first load shows as a change at the next check.
    Stamp before = stamp();
    current.set(loader.apply(file));
    read = before;
  }

  /** {@link #PolicyReloader(Path, PolicySet)} with the seams for the tests. */
  PolicyReloader(
      Path file, PolicySet inForce, LongSupplier nanoClock, Function<Path, PolicySet> loader) {
    this.file = file;
    this.nanoClock = nanoClock;
    this.loader = loader;
    current.set(Objects.requireNonNull(inForce, "inForce"));
    read = null; // nothing read yet: the file's first stamp is a change to settle and check
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

  /**
   * Re-reads the file if its size or modification time changed and has since stayed the same for
   * {@link #SETTLE}.
   */
  public synchronized Result reloadIfChanged() {
    Stamp seen = stamp();
    if (seen == null) {
      return reject(cannotRead());
    }
    if (seen.equals(read)) {
      settling = null;
      return new Result(Outcome.UNCHANGED, current.get(), null);
    }
    long now = nanoClock.getAsLong();
    if (!seen.equals(settling)) {
      settling = seen;
      settlingSince = now;
      return new Result(Outcome.SETTLING, current.get(), null);
    }
    if (now - settlingSince < SETTLE.toNanos()) {
      return new Result(Outcome.SETTLING, current.get(), null);
    }
    return reload();
  }

  /**
   * Re-reads the file now, settled or not; a file that changes while it is read is not taken
   * ({@link Outcome#SETTLING}).
   */
  public synchronized Result reload() {
    Stamp before = stamp();
    if (before == null) {
      return reject(cannotRead());
    }
    PolicySet candidate;
    String invalid = null;
    try {
      candidate = loader.apply(file);
    } catch (InvalidPolicyException e) {
      candidate = null;
      invalid = e.getMessage();
    }
    if (!before.equals(stamp())) {
      // Written while it was read: what was read may be half of it. Read it again later.
      settling = null;
      return new Result(Outcome.SETTLING, current.get(), null);
    }
    read = before;
    settling = null;
    if (invalid != null) {
      return reject(invalid);
    }
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

  private String cannotRead() {
    return "cannot read " + file + ": it is missing or not readable";
  }

  /** The file's modification time and size, or null when it cannot be read. */
  private Stamp stamp() {
    try {
      return new Stamp(Files.getLastModifiedTime(file), Files.size(file));
    } catch (IOException e) {
      return null;
    }
  }
}
