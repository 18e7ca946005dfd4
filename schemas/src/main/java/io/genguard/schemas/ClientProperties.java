package io.genguard.schemas;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A service's Kafka client settings hold keys for its consumers and producers alike; a client of
 * another kind (an admin client, a consumer of no group) takes only its own keys and the security
 * ones, so that it neither warns about the rest nor inherits a group id.
 */
public final class ClientProperties {
  private ClientProperties() {}

  /**
   * The settings among {@code properties} that a client with {@code configNames} takes (e.g. {@code
   * AdminClientConfig.configNames()}), plus every {@code sasl.} and {@code ssl.} setting.
   */
  public static Map<String, Object> forClient(
      Map<String, Object> properties, Set<String> configNames) {
    Map<String, Object> taken = new HashMap<>();
    properties.forEach(
        (key, value) -> {
          if (configNames.contains(key) || key.startsWith("sasl.") || key.startsWith("ssl.")) {
            taken.put(key, value);
          }
        });
    return taken;
  }
}
