package io.genguard.deploy.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import java.nio.file.Path;

/** The Prometheus scrape configuration of docker-compose.yml (and the embedded stack's). */
public final class ScrapeConfig {
  static final Path FILE = Path.of("dashboards/prometheus/prometheus.yml");

  /** The configuration for {@code ./genguard demo | run} on this machine. */
  static final Path EMBEDDED_FILE = Path.of("dashboards/prometheus/prometheus-embedded.yml");

  private ScrapeConfig() {}

  public static JsonNode read() {
    return MonitoringQueries.readYaml(RepositoryFiles.root().resolve(FILE));
  }
}
