package io.genguard.generator.worker;

import io.genguard.generator.backend.GenerationBackend;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The backends one generator deployment offers, by name, and the default one. */
public final class BackendRegistry implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BackendRegistry.class);

  private final Map<String, GenerationBackend> backends = new LinkedHashMap<>();
  private final String defaultBackend;
  private final Map<String, String> notConfigured;

  /**
   * @param notConfigured backends this deployment knows of but has not configured, with the setting
   *     that would enable each (for the failure message)
   */
  public BackendRegistry(
      List<GenerationBackend> backends, String defaultBackend, Map<String, String> notConfigured) {
    for (GenerationBackend backend : backends) {
      this.backends.put(backend.name(), backend);
    }
    this.defaultBackend = defaultBackend;
    this.notConfigured = Map.copyOf(notConfigured);
  }

  public String defaultBackend() {
    return defaultBackend;
  }

  public Optional<GenerationBackend> find(String name) {
    return Optional.ofNullable(backends.get(name));
  }

  public Set<String> names() {
    return backends.keySet();
  }

  /** The setting that would enable a known but unconfigured backend, if {@code name} is one. */
  public Optional<String> settingToEnable(String name) {
    return Optional.ofNullable(notConfigured.get(name));
  }

  public List<GenerationBackend> all() {
    return new ArrayList<>(backends.values());
  }

  /**
   * Why one of the named backends cannot serve now (its model does not load, or it is not
   * configured here), or empty when all can. A pool that answers only these backends holds their
   * requests in Kafka meanwhile: before the forty-first session unconfigured ones were passed over,
   * and a GPU pool started without {@code DJL_MODEL_PATH} answered every request it took {@code
   * unknown_backend}. May retry a load that is due ({@link GenerationBackend#whyNotReady}).
   */
  public Optional<String> whyNotReady(Collection<String> names) {
    for (String name : names) {
      GenerationBackend backend = backends.get(name);
      String setting = notConfigured.get(name);
      if (backend == null && setting != null) {
        return Optional.of(
            "backend " + name + ": not configured on this generator (set " + setting + ")");
      }
      if (backend != null) {
        Optional<String> reason = backend.whyNotReady();
        if (reason.isPresent()) {
          return Optional.of("backend " + name + ": " + reason.get());
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Loads every backend's model; a failure is logged, and that backend then retries the load on its
   * own back-off, failing its requests meanwhile (or, in a pool that answers only such backends,
   * leaving them in Kafka).
   *
   * @return the backends whose model did not load, in order
   */
  public List<GenerationBackend> warmUp() {
    List<GenerationBackend> failed = new ArrayList<>();
    for (GenerationBackend backend : backends.values()) {
      try {
        backend.warmUp();
      } catch (Exception e) {
        LOG.error("Backend {} could not load its model: {}", backend.name(), e.getMessage());
        failed.add(backend);
      }
    }
    return failed;
  }

  @Override
  public void close() {
    for (GenerationBackend backend : backends.values()) {
      try {
        backend.close();
      } catch (RuntimeException e) {
        LOG.warn("Closing backend {} failed: {}", backend.name(), e.toString());
      }
    }
  }
}
