package io.genguard.moderation.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the policy of one file current: {@link #reloadIfChanged()} re-reads the file when it has
 * changed and swaps the policy in only if the new file is valid. An invalid file, or a changed file
 * that names a version already used for other rules, is rejected with its reason (logged as an
 * error) and the running policy stays in force. Thread-safe: readers call {@link #get()}.
 *
 * <p>A version names one file for good: verdicts record it, and verdict and event ids are derived
 * from the output and the version, so two rule sets under one version would be indistinguishable
 * and their verdicts would collide. So the reloader remembers the SHA-256 of every version it has
 * had in force (the last {@value #MAX_VERSIONS_REMEMBERED}; {@link #versionsSeen()}, which the job
 * checkpoints and gives back to a restored reloader) and refuses a file that reuses one of them for
 * other content, whatever its policy id: A (version 1), then B (version 2), then C (version 1 with
 * other rules) is refused, while going back to A itself is accepted.
 *
 * <p>A change is told by the file's modification time, size and content digest: a rewrite that
 * keeps the size and the modification time ({@code cp -p}, {@code rsync -t}, two writes within the
 * file system's time resolution) is still seen. So each check reads the file, at most {@link
 * PolicyLoader#MAX_POLICY_BYTES} and one byte (a policy is a few kilobytes, and the job checks at
 * most once a second).
 *
 * <p>A file is read only once it has settled, so that a file caught half-written cannot go into
 * force (and then, being a version already in force, lock out the complete file): its modification
 * time, size and content must have stayed the same for {@link #SETTLE} by this reloader's clock,
 * and must not change while it is read; otherwise the check answers {@link Outcome#SETTLING} and
 * reads it at a later check. A writer that pauses longer than that mid-file can still be caught;
 * replacing the file in one step (write a temporary file, then rename it over the policy) is always
 * safe.
 *
 * <p>A reloader that starts under a policy already in force (a restored task) has read nothing, so
 * by {@link #reloadIfChanged()} alone it would take even a long-settled file only at its second
 * check. {@link #takeFileOnceSettled(Duration)} reads the file before the task decides anything: at
 * once when it was last modified at least {@link #SETTLED_BY_AGE} ago by the wall clock, else once
 * it has settled as above, waiting a bounded time for it.
 */
public final class PolicyReloader implements Supplier<PolicySet> {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  /** How long a changed file must stay unchanged before it is read. */
  public static final Duration SETTLE = Duration.ofSeconds(1);

  /**
   * A file last modified at least this long ago by the wall clock has settled and is read at once
   * by {@link #takeFileOnceSettled(Duration)}: {@link #SETTLE}, and one second more for file
   * systems that keep modification times to the whole second (a write can look up to a second older
   * than it is).
   */
  public static final Duration SETTLED_BY_AGE = SETTLE.plusSeconds(1);

  /** How often {@link #takeFileOnceSettled(Duration)} looks at a file that is settling. */
  private static final Duration SETTLING_CHECK_INTERVAL = Duration.ofMillis(100);

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

  /**
   * How many versions (with their digests) are remembered; the oldest is forgotten first. A version
   * used once before that many later ones can be reused for other rules.
   */
  public static final int MAX_VERSIONS_REMEMBERED = 256;

  /**
   * What tells one version of the file from another: its modification time, size and the SHA-256 of
   * its bytes (of the first {@link PolicyLoader#MAX_POLICY_BYTES} and one, for a larger file).
   */
  private record Stamp(FileTime modified, long size, String sha256) {}

  private final Path file;
  private final LongSupplier nanoClock;
  private final Function<Path, PolicySet> loader;
  private final AtomicReference<PolicySet> current = new AtomicReference<>();

  // Guarded by this: the stamp of the file last read, and a changed stamp waiting to settle.
  private Stamp read;
  private Stamp settling;
  private long settlingSince;
  // Guarded by this: each version had in force and the SHA-256 of its file, oldest first.
  private final LinkedHashMap<String, String> versions = new LinkedHashMap<>();
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
   * treats the file as changed: it is read once it has settled ({@link
   * #takeFileOnceSettled(Duration)} reads it before the first decision), and taken only if it is
   * valid and, when it differs, names a new version. So a restart never fails on the file, and
   * never puts in force a half-written file or changed rules under the version in force.
   */
  public PolicyReloader(Path file, PolicySet inForce) {
    this(file, inForce, Map.of());
  }

  /**
   * {@link #PolicyReloader(Path, PolicySet)}, remembering the versions an earlier reloader had in
   * force ({@link #versionsSeen()}, from a checkpoint), so that a restart does not forget them: a
   * file that reuses one of them for other rules is refused.
   *
   * @param versionsSeen each version and the SHA-256 of its file, oldest first (of more than
   *     {@value #MAX_VERSIONS_REMEMBERED}, the newest are kept)
   */
  public PolicyReloader(Path file, PolicySet inForce, Map<String, String> versionsSeen) {
    this(file, inForce, versionsSeen, System::nanoTime, PolicyLoader::load);
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
    remember(current.get());
  }

  /** {@link #PolicyReloader(Path, PolicySet)} with the seams for the tests. */
  PolicyReloader(
      Path file, PolicySet inForce, LongSupplier nanoClock, Function<Path, PolicySet> loader) {
    this(file, inForce, Map.of(), nanoClock, loader);
  }

  /** {@link #PolicyReloader(Path, PolicySet, Map)} with the seams for the tests. */
  PolicyReloader(
      Path file,
      PolicySet inForce,
      Map<String, String> versionsSeen,
      LongSupplier nanoClock,
      Function<Path, PolicySet> loader) {
    this.file = file;
    this.nanoClock = nanoClock;
    this.loader = loader;
    current.set(Objects.requireNonNull(inForce, "inForce"));
    read = null; // nothing read yet: the file's first stamp is a change to settle and check
    versionsSeen.forEach(this::remember);
    remember(inForce);
  }

  @Override
  public PolicySet get() {
    return current.get();
  }

  public Path file() {
    return file;
  }

  /**
   * Each version this reloader (and those it was restored from) had in force, with the SHA-256 of
   * its file, oldest first; at most {@value #MAX_VERSIONS_REMEMBERED}.
   */
  public synchronized Map<String, String> versionsSeen() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(versions));
  }

  /** The reason the last changed file was rejected, or null if the last change was accepted. */
  public String lastError() {
    return lastError;
  }

  /**
   * Re-reads the file if its size, modification time or content changed and has since stayed the
   * same for {@link #SETTLE}.
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
   * Reads the file before the first decision of a reloader that started under a policy in force (a
   * restored task): a file last modified at least {@link #SETTLED_BY_AGE} ago is read at once, a
   * more recent one once it has settled ({@link #reloadIfChanged()}), waiting for that at most
   * {@code atMost}. What it reads is taken as any change is: only if valid and, when its rules
   * differ, under a version not in force before with other rules. A file still changing after
   * {@code atMost} is logged, and read by a later {@link #reloadIfChanged()} once it has settled.
   * An interrupt ends the wait (and stays set).
   *
   * @return the last outcome: {@link Outcome#SETTLING} when the wait ran out
   */
  public Result takeFileOnceSettled(Duration atMost) {
    return takeFileOnceSettled(atMost, Clock.systemUTC(), PolicyReloader::pause);
  }

  /**
   * {@link #takeFileOnceSettled(Duration)} with the wall clock that dates the file and the pause
   * between checks (nanoseconds): seams for the tests.
   */
  Result takeFileOnceSettled(Duration atMost, Clock wallClock, LongConsumer pause) {
    long deadline = nanoClock.getAsLong() + atMost.toNanos();
    Result result = readIfSettledByAge(wallClock.instant());
    while (result.outcome() == Outcome.SETTLING && !Thread.currentThread().isInterrupted()) {
      long left = deadline - nanoClock.getAsLong();
      if (left <= 0) {
        PolicySet running = current.get();
        LOG.warn(
            "Policy {} was still changing {} ms after this task started; deciding under policy {}"
                + " version {} until it has stayed the same for {} ms",
            file,
            atMost.toMillis(),
            running.policyId(),
            running.version(),
            SETTLE.toMillis());
        break;
      }
      pause.accept(Math.min(left, SETTLING_CHECK_INTERVAL.toNanos()));
      result = reloadIfChanged();
    }
    return result;
  }

  /**
   * Reads a changed file at once when it was last modified at least {@link #SETTLED_BY_AGE} before
   * {@code now}; else checks it as {@link #reloadIfChanged()} does (a modification time in the
   * future, from another host's clock, is not old).
   */
  private synchronized Result readIfSettledByAge(Instant now) {
    Stamp seen = stamp();
    if (seen != null
        && !seen.equals(read)
        && !seen.modified().toInstant().isAfter(now.minus(SETTLED_BY_AGE))) {
      return reload();
    }
    return reloadIfChanged();
  }

  private static void pause(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
    String earlier = versions.get(candidate.version());
    if (earlier != null && !earlier.equals(candidate.sha256())) {
      return reject(
          "Policy "
              + file
              + " says version '"
              + candidate.version()
              + "', which this job already had in force with other rules (SHA-256 "
              + earlier
              + ", now "
              + candidate.sha256()
              + "); a version names one file for good (verdicts and their ids name it), so give"
              + " these rules a new version");
    }
    current.set(candidate);
    remember(candidate);
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

  /** Records a version put in force, as the newest; forgets the oldest beyond the bound. */
  private void remember(String version, String sha256) {
    versions.remove(version);
    versions.put(version, sha256);
    Iterator<String> oldest = versions.keySet().iterator();
    while (versions.size() > MAX_VERSIONS_REMEMBERED) {
      oldest.next();
      oldest.remove();
    }
  }

  private void remember(PolicySet policy) {
    remember(policy.version(), policy.sha256());
  }

  /** The file's modification time, size and digest, or null when it cannot be read. */
  private Stamp stamp() {
    try {
      FileTime modified = Files.getLastModifiedTime(file);
      long size = Files.size(file);
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (InputStream in = Files.newInputStream(file)) {
        digest.update(in.readNBytes(PolicyLoader.MAX_POLICY_BYTES + 1));
      }
      return new Stamp(modified, size, HexFormat.of().formatHex(digest.digest()));
    } catch (IOException e) {
      return null;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
