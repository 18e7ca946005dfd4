package io.genguard.stack;

import io.genguard.testsupport.IntegrationInfrastructure;

/** Embedded stacks of the integration tests on the shared broker and PostgreSQL server. */
final class SharedServers {
  private SharedServers() {}

  /**
   * A stack on the shared broker and on the database {@code jdbcUrl} of the shared server, with
   * free HTTP ports.
   */
  static StackConfig stackOn(String jdbcUrl) {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    return StackConfig.defaults()
        .withPorts(0, 0, 0)
        .withExternal(
            new StackConfig.ExternalInfrastructure(
                infra.kafkaBootstrapServers(), jdbcUrl, infra.jdbcUser(), infra.jdbcPassword()));
  }
}
