package io.genguard.stack.cli;

/** Human progress on stderr, so stdout carries only results (the --exit JSON line). */
final class Progress {
  private Progress() {}

  static void say(String line) {
    System.err.println("[genguard] " + line);
  }
}
