package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

class ClientPropertiesTest {
  @Test
  void shouldKeepTheClientsOwnAndTheSecuritySettingsOnly() {
    Map<String, Object> service =
        Map.of(
            "bootstrap.servers", "kafka:9092",
            "security.protocol", "SASL_SSL",
            "sasl.jaas.config", "secret",
            "ssl.truststore.location", "/etc/ts",
            "group.id", "genguard-audit",
            "isolation.level", "read_committed",
            "linger.ms", 5);

    assertThat(ClientProperties.forClient(service, AdminClientConfig.configNames()))
        .containsOnlyKeys(
            "bootstrap.servers",
            "security.protocol",
            "sasl.jaas.config",
            "ssl.truststore.location");
  }
}
