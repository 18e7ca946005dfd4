package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.stack.GenGuardStack;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditVerifyCommandTest {
  @TempDir Path stackDir;

  @Test
  void shouldCheckTheStacksAnchorFileByDefaultWhenItExists() throws Exception {
    assertThat(AuditVerifyCommand.stackAnchors(null)).isNull();
    assertThat(AuditVerifyCommand.stackAnchors(stackDir)).as("no file yet").isNull();

    Path file = Files.createFile(stackDir.resolve(GenGuardStack.ANCHOR_FILE));

    assertThat(AuditVerifyCommand.stackAnchors(stackDir)).isEqualTo(file);
  }
}
