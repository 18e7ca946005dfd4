package io.genguard.services.gate;

import io.genguard.moderation.gate.GateTimings;
import io.genguard.moderation.gate.ReleaseGateTopology;
import java.nio.file.Path;
import java.util.Map;

/**
 * Settings of the release-gate service. Defaults, overridden by GENGUARD_GATE_* keys.
 *
 * @param stateDir where Kafka Streams keeps the gate's local state stores (a volume: a restart with
 *     the same directory does not restore from the changelog); by default one folder per host name
 *     under the data directory, so replicas sharing a volume never share a state directory
 * @param replicationFactor replication of the gate's internal topics (changelog, repartition)
 * @param timings the decision retention and the verdict timeout ({@link GateTimings}' keys)
 * @param stateFormat the format of the state-store entries it writes ({@link
 *     ReleaseGateTopology#STATE_FORMAT}: 1, 2, 3 or 4)
 * @param commitIntervalMs how often the gate commits ({@link
 *     ReleaseGateTopology#COMMIT_INTERVAL_MS}; one transaction each)
 */
public record ReleaseGateSettings(
    Path stateDir,
    int replicationFactor,
    GateTimings timings,
    int stateFormat,
    int commitIntervalMs) {
  public static final String STATE_DIR = "GENGUARD_GATE_STATE_DIR";
  public static final String REPLICATION_FACTOR = "GENGUARD_GATE_REPLICATION_FACTOR";

  public ReleaseGateSettings {
    if (replicationFactor < 1) {
      throw new IllegalArgumentException(
          REPLICATION_FACTOR + " must be at least 1, was " + replicationFactor);
    }
    if (stateFormat < 1 || stateFormat > ReleaseGateTopology.HIGHEST_STATE_FORMAT) {
      throw new IllegalArgumentException(
          ReleaseGateTopology.STATE_FORMAT
              + " must be 1, 2, 3 or "
              + ReleaseGateTopology.HIGHEST_STATE_FORMAT
              + ", was "
              + stateFormat);
    }
  }

  public static ReleaseGateSettings fromEnvironment(Map<String, String> env, Path dataDir) {
    return new ReleaseGateSettings(
        Path.of(
            env.getOrDefault(
                STATE_DIR,
                dataDir
                    .resolve("release-gate")
                    .resolve(env.getOrDefault("HOSTNAME", "local"))
                    .toString())),
        integer(env, REPLICATION_FACTOR, 1),
        GateTimings.fromEnvironment(env),
        integer(env, ReleaseGateTopology.STATE_FORMAT, ReleaseGateTopology.LATEST_STATE_FORMAT),
        ReleaseGateTopology.commitIntervalMs(env));
  }

  private static int integer(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }
}
