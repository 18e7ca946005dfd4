package io.genguard.testsupport;

/** Every container image the tests use, pinned in one place. */
public final class ContainerImages {
  private ContainerImages() {}

  /** Same Kafka release as the kafka-clients on the classpath. */
  public static final String KAFKA = "apache/kafka:4.2.0";

  /** Same major version as the embedded PostgreSQL binaries. */
  public static final String POSTGRES = "postgres:17.6";
}
