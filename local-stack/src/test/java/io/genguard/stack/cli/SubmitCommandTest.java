package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.javalin.Javalin;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code submit} against a Javalin server (the audit API's own server library, so paths are matched
 * as the API matches them) that answers as the API's routes do, to pin how the command builds its
 * URLs and how long it waits (the routes themselves are tested against the real service in the
 * audit service's ITs).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubmitCommandTest {
  private final List<String> paths = new CopyOnWriteArrayList<>();
  private final CountDownLatch released = new CountDownLatch(1);
  private final List<String> keys = new CopyOnWriteArrayList<>();
  private final CountDownLatch postReleased = new CountDownLatch(1);
  private Javalin server;

  private String start(boolean answerPolls) {
    server =
        Javalin.create(config -> config.showJavalinBanner = false)
            .post(
                "/api/v1/requests",
                ctx -> {
                  paths.add("POST " + ctx.path());
                  keys.add(String.valueOf(ctx.header("Idempotency-Key")));
                  if (ctx.body().contains("slow")) {
                    postReleased.await();
                  }
                  ctx.status(202)
                      .contentType("application/json")
                      .result("{\"requestId\":\"req-1\"}");
                })
            .get(
                "/api/v1/requests/{id}",
                ctx -> {
                  paths.add("GET " + ctx.path());
                  if (!answerPolls) {
                    released.await();
                  }
                  ctx.contentType("application/json")
                      .result("{\"requestId\":\"req-1\",\"status\":\"RELEASED\"}");
                })
            .start("127.0.0.1", 0);
    return "http://127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() {
    released.countDown();
    postReleased.countDown();
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void shouldReadABaseUrlWithATrailingSlashAsTheSameRoutes() {
    String api = start(true) + "//";

    CommandRun run = CommandRun.of(new SubmitCommand(), "a prompt", "--token", "t", "--api", api);

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(paths).containsExactly("POST /api/v1/requests", "GET /api/v1/requests/req-1");
    assertThat(run.out()).contains("RELEASED");
  }

  @Test
  void shouldSendAnIdempotencyKeyAndNameItWhenTheSubmissionGetsNoAnswer() {
    String api = start(true);
    CommandRun run = CommandRun.of(new SubmitCommand(), "a prompt", "--token", "t", "--api", api);
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(keys).hasSize(1);
    assertThat(java.util.UUID.fromString(keys.get(0))).as("a fresh random key").isNotNull();

    SubmitCommand slow = new SubmitCommand();
    slow.submitTimeout = Duration.ofMillis(500);
    java.io.PrintStream originalErr = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    CommandRun timedOut;
    try {
      timedOut = CommandRun.of(slow, "a slow prompt", "--token", "t", "--api", api);
    } finally {
      System.setErr(originalErr);
    }
    assertThat(timedOut.code()).isEqualTo(1);
    String sent = keys.get(1);
    assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8))
        .contains("may or may not have been accepted")
        .contains("--idempotency-key " + sent);

    CommandRun again =
        CommandRun.of(
            new SubmitCommand(),
            "a prompt",
            "--token",
            "t",
            "--api",
            api,
            "--idempotency-key",
            sent);
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(keys)
        .as("the rerun sends the key it was given")
        .containsExactly(keys.get(0), sent, sent);
  }

  @Test
  void shouldStopWaitingAtWaitWhenTheServerDoesNotAnswer() {
    String api = start(false);
    long started = System.nanoTime();

    CommandRun run =
        CommandRun.of(new SubmitCommand(), "a prompt", "--token", "t", "--api", api, "--wait", "1");

    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("the poll that got no answer ended with --wait, not when the server let go")
        .isLessThan(Duration.ofSeconds(20));
    assertThat(run.code()).isEqualTo(1);
    assertThat(run.out()).as("no outcome to print").isEmpty();
  }
}
