package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./genguard audit bench} on a temporary directory: the directory names its owner, as a
 * stack's does, so that one left by a bench killed with -9 (its PostgreSQL still running) is
 * cleaned by the next bench or stack; and the bench cleans what one that is gone left.
 */
class AuditBenchCommandTest {
  @TempDir Path root;

  @Test
  void shouldNameItsOwnerAndRemoveWhatABenchThatIsGoneLeft() throws Exception {
    // A bench killed before it removed its directory: its owner (a process that has ended) is gone.
    Process gone = new ProcessBuilder("true").start();
    assertThat(gone.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Path left = Files.createDirectories(root.resolve("genguard-audit-bench-1/postgres"));
    Files.writeString(left.getParent().resolve("temporary-stack-owner"), gone.pid() + " unknown\n");

    Path dir = AuditBenchCommand.temporaryDirectory(root);

    assertThat(dir.getParent()).isEqualTo(root);
    assertThat(dir.getFileName().toString()).startsWith("genguard-audit-bench-");
    assertThat(Files.readString(dir.resolve("temporary-stack-owner")))
        .as("the owner: this process")
        .startsWith(ProcessHandle.current().pid() + " ");
    assertThat(left.getParent()).as("the directory of the bench that is gone").doesNotExist();
  }
}
