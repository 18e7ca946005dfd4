package io.genguard.generator;

import io.genguard.events.v1.GenerationRequest;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which requests of {@code gen.requests} this worker pool answers, when pools differ in backends (a
 * GPU pool with a DJL model beside CPU pools without). Kafka assigns partitions without regard to
 * backends, so pools that split the backends between them each read every request, in a consumer
 * group of their own, and answer only their share:
 *
 * <ul>
 *   <li>a pool with {@code onlyBackends} (the GPU pool: {@code djl}) answers the requests that name
 *       one of them and leaves the rest to the main pool;
 *   <li>a pool with {@code leftBackends} (the main pool: {@code djl}) answers every request but
 *       those that name one of them, requests naming no backend included;
 *   <li>a pool with neither answers every request (one pool, or pools that serve alike).
 * </ul>
 *
 * A request is then answered by exactly one pool as long as the main pool leaves exactly the
 * backends the other pool takes. Left requests are committed with the pool's other offsets and
 * produce no event. Records that do not decode are no pool's to leave: every pool dead-letters them
 * (pools of different builds may decode different schemas, so a record one pool cannot read may be
 * one the other decodes only to leave it), under its own stage ({@link #deadLetterStage}); the
 * copies share one event id, that of the source position ({@code DeadLetters.of}), so the audit
 * store records it once. A record sent back for one pool's stage is answered only by that pool, if
 * it is its share: the other pool read it the first time. The side pool reads in a group of its own
 * ({@link #readingGroup}), which the main pool hands over at its own offsets ({@link
 * PoolHandover}).
 */
public record PoolRouting(Set<String> onlyBackends, Set<String> leftBackends) {
  /** Answers every request. */
  public static final PoolRouting ALL = new PoolRouting(Set.of(), Set.of());

  /** The backend names a route may name. */
  public static final List<String> KNOWN_BACKENDS =
      List.of(
          GeneratorConfig.BACKEND_BUILTIN,
          GeneratorConfig.BACKEND_ECHO,
          GeneratorConfig.BACKEND_OPENAI,
          GeneratorConfig.BACKEND_DJL);

  public PoolRouting {
    onlyBackends = Set.copyOf(onlyBackends);
    leftBackends = Set.copyOf(leftBackends);
    if (!onlyBackends.isEmpty() && !leftBackends.isEmpty()) {
      throw new IllegalArgumentException(
          GeneratorConfig.Keys.ONLY_BACKENDS
              + " and "
              + GeneratorConfig.Keys.LEAVE_BACKENDS
              + " exclude each other: a pool either answers only some backends' requests or leaves"
              + " some to another pool");
    }
  }

  /**
   * From the two settings' values (comma-separated backend names; null or blank for none).
   *
   * @throws IllegalArgumentException naming the setting, for an unknown backend name
   */
  public static PoolRouting parse(String only, String leave) {
    return new PoolRouting(
        names(GeneratorConfig.Keys.ONLY_BACKENDS, only),
        names(GeneratorConfig.Keys.LEAVE_BACKENDS, leave));
  }

  private static Set<String> names(String key, String value) {
    Set<String> names = new LinkedHashSet<>();
    if (value == null) {
      return names;
    }
    for (String name : Arrays.stream(value.split(",")).map(String::strip).toList()) {
      if (name.isEmpty()) {
        continue;
      }
      if (!KNOWN_BACKENDS.contains(name)) {
        throw new IllegalArgumentException(
            key
                + " names '"
                + (name.length() <= 40 ? name : name.substring(0, 40) + "...")
                + "', which is not a backend; known backends are "
                + KNOWN_BACKENDS);
      }
      names.add(name);
    }
    return names;
  }

  /** Whether this pool answers the request (with an output or a failure). */
  public boolean answers(GenerationRequest request) {
    String backend = request.getBackend();
    if (!onlyBackends.isEmpty()) {
      return backend != null && onlyBackends.contains(backend);
    }
    return backend == null || !leftBackends.contains(backend);
  }

  /**
   * The consumer group this pool reads in: the main group, or for a pool that answers only some
   * backends, a group of its own named after them ({@link #sideGroup}).
   */
  public String readingGroup(String mainGroup) {
    return onlyBackends.isEmpty() ? mainGroup : sideGroup(mainGroup, onlyBackends);
  }

  /** The group of the pool that answers only {@code backends}: {@code MAIN-only-B1-B2}, sorted. */
  public static String sideGroup(String mainGroup, Set<String> backends) {
    return mainGroup + "-only-" + String.join("-", new java.util.TreeSet<>(backends));
  }

  /** The dead-letter stage of the main pool, and of a pool that answers every request. */
  public static final String MAIN_STAGE = "generator";

  /**
   * The stage this pool's dead letters name, and the one a record sent back for it ({@code dlq
   * redrive}) names: {@value #MAIN_STAGE}, or for a pool that answers only some backends, {@code
   * generator-only-B1-B2} (sorted). A pool reads a record sent back for another pool's stage as
   * that pool's and leaves it: it read the record the first time, and answered it if it was its
   * share.
   */
  public String deadLetterStage() {
    return onlyBackends.isEmpty() ? MAIN_STAGE : sideGroup(MAIN_STAGE, onlyBackends);
  }

  /** Whether this pool answers every request. */
  public boolean answersAll() {
    return onlyBackends.isEmpty() && leftBackends.isEmpty();
  }
}
