package io.genguard.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files at the repository root that deploy GenGuard (dashboards, compose file, docs). */
public final class RepositoryFiles {
  private RepositoryFiles() {}

  /** The repository root: the system property the build sets, else this module's parent. */
  public static Path root() {
    String configured = System.getProperty("genguard.repository.root");
    Path root = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath().getParent();
    root = root.toAbsolutePath().normalize();
    if (!Files.isRegularFile(root.resolve("pom.xml"))
        || !Files.isDirectory(root.resolve("dashboards"))) {
      throw new IllegalStateException(
          "Cannot find the repository root (a folder with pom.xml and dashboards/) at "
              + root
              + "; run the tests through Maven or set -Dgenguard.repository.root");
    }
    return root;
  }

  public static Path resolve(String relative) {
    return root().resolve(relative);
  }
}
