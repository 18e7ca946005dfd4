package io.genguard.testsupport;

import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.infra.EmbeddedPostgresServer;
import io.genguard.schemas.TopicProvisioner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The one place integration tests get their servers from: Kafka and PostgreSQL in containers when a
 * Docker engine is reachable, the embedded real servers (KRaft broker, PostgreSQL binaries)
 * otherwise. Started once per JVM and shared; each test isolates itself with its own topics,
 * consumer groups and database schema. {@link #mode()} says which kind is running.
 */
public final class IntegrationInfrastructure {
  private static final Logger LOG = LoggerFactory.getLogger(IntegrationInfrastructure.class);
  private static IntegrationInfrastructure instance;

  /** Which kind of servers the tests run on. */
  public enum Mode {
    TESTCONTAINERS,
    EMBEDDED
  }

  private final Mode mode;
  private final String bootstrapServers;
  private final String jdbcUrl;
  private final String jdbcUser;
  private final String jdbcPassword;
  private final List<AutoCloseable> resources;

  private IntegrationInfrastructure(
      Mode mode,
      String bootstrapServers,
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword,
      List<AutoCloseable> resources) {
    this.mode = mode;
    this.bootstrapServers = bootstrapServers;
    this.jdbcUrl = jdbcUrl;
    this.jdbcUser = jdbcUser;
    this.jdbcPassword = jdbcPassword;
    this.resources = resources;
  }

  /** The shared servers, started on first call. */
  public static synchronized IntegrationInfrastructure get() {
    if (instance == null) {
      instance = start();
      Runtime.getRuntime().addShutdownHook(new Thread(instance::stop, "integration-infra-stop"));
    }
    return instance;
  }

  public Mode mode() {
    return mode;
  }

  public String kafkaBootstrapServers() {
    return bootstrapServers;
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String jdbcUser() {
    return jdbcUser;
  }

  public String jdbcPassword() {
    return jdbcPassword;
  }

  /**
   * Creates a fresh database (so each test class has its own schema) and returns its JDBC URL.
   *
   * @param name lower-case letters, digits and underscores
   */
  /**
   * A fresh database for one test method: {@code prefix} and the method's name in lower case, cut
   * to 60 characters (PostgreSQL's limit is 63).
   */
  public String createDatabase(String prefix, org.junit.jupiter.api.TestInfo test) {
    String name =
        (prefix + test.getTestMethod().orElseThrow().getName().toLowerCase(java.util.Locale.ROOT))
            .replaceAll("[^a-z0-9_]", "");
    return createDatabase(name.substring(0, Math.min(60, name.length())));
  }

  public String createDatabase(String name) {
    if (!name.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException(
          "Database name '" + name + "' must match [a-z_][a-z0-9_]*");
    }
    try (java.sql.Connection connection =
            java.sql.DriverManager.getConnection(jdbcUrl, jdbcUser, jdbcPassword);
        java.sql.Statement statement = connection.createStatement()) {
      statement.execute("drop database if exists " + name);
      statement.execute("create database " + name);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("Cannot create database " + name, e);
    }
    int query = jdbcUrl.indexOf('?');
    String base = query < 0 ? jdbcUrl : jdbcUrl.substring(0, query);
    String params = query < 0 ? "" : jdbcUrl.substring(query);
    return base.substring(0, base.lastIndexOf('/') + 1) + name + params;
  }

  /** Client properties that reach the broker. */
  public Map<String, Object> kafkaClientProperties() {
    return Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
  }

  /** Creates the topics (idempotently) with the given partition count, and waits for leaders. */
  public void createTopics(int partitions, List<String> names) {
    TopicProvisioner.provision(kafkaClientProperties(), names, partitions, (short) 1);
  }

  private static IntegrationInfrastructure start() {
    if (dockerAvailable()) {
      return startContainers();
    }
    return startEmbedded();
  }

  private static boolean dockerAvailable() {
    if (Boolean.getBoolean("genguard.it.embedded")) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  @SuppressWarnings("resource")
  private static IntegrationInfrastructure startContainers() {
    KafkaContainer kafka = new KafkaContainer(DockerImageName.parse(ContainerImages.KAFKA));
    PostgreSQLContainer<?> postgres =
        new PostgreSQLContainer<>(DockerImageName.parse(ContainerImages.POSTGRES))
            .withDatabaseName("genguard");
    kafka.start();
    postgres.start();
    LOG.info(
        "Integration tests run on Testcontainers: {} and {}",
        ContainerImages.KAFKA,
        ContainerImages.POSTGRES);
    System.out.println("[IntegrationInfrastructure] mode=TESTCONTAINERS");
    return new IntegrationInfrastructure(
        Mode.TESTCONTAINERS,
        kafka.getBootstrapServers(),
        postgres.getJdbcUrl(),
        postgres.getUsername(),
        postgres.getPassword(),
        List.of(postgres::stop, kafka::stop));
  }

  private static IntegrationInfrastructure startEmbedded() {
    Path root;
    try {
      root = Files.createTempDirectory("genguard-it-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(root.resolve("kafka"), 0);
    EmbeddedPostgresServer postgres =
        EmbeddedPostgresServer.start(root.resolve("postgres"), 0, "genguard");
    LOG.info("No Docker engine: integration tests run on the embedded Kafka broker and PostgreSQL");
    System.out.println("[IntegrationInfrastructure] mode=EMBEDDED (no Docker engine)");
    List<AutoCloseable> resources =
        new ArrayList<>(List.of(postgres, kafka, () -> TempTrees.deleteTree(root)));
    return new IntegrationInfrastructure(
        Mode.EMBEDDED,
        kafka.bootstrapServers(),
        postgres.jdbcUrl(),
        postgres.user(),
        postgres.password(),
        Collections.unmodifiableList(resources));
  }

  private void stop() {
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        LOG.warn("Could not stop {}: {}", resource, e.toString());
      }
    }
  }
}
