package io.genguard.audit.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.submit.RequestSubmitter.Submission;
import io.genguard.audit.submit.RequestSubmitter.SubmissionLimits;
import io.genguard.events.v1.GenerationRequest;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * How the submitter reacts to producer errors. The errors that matter here cannot be provoked on a
 * real broker without breaking it (a lost sequence, a revoked ACL), so the producers are Kafka's
 * own {@link MockProducer}; that requests reach a real broker is covered by the API's ITCases.
 */
class RequestSubmitterTest {
  private final List<MockProducer<String, GenerationRequest>> producers =
      new CopyOnWriteArrayList<>();

  private RequestSubmitter submitter(boolean autoComplete) {
    return new RequestSubmitter(
        () -> {
          MockProducer<String, GenerationRequest> producer =
              new MockProducer<>(
                  autoComplete, null, new StringSerializer(), (topic, value) -> null);
          producers.add(producer);
          return producer;
        },
        SubmissionLimits.defaults(),
        Clock.systemUTC());
  }

  private static Submission prompt(String prompt) {
    return new Submission(prompt, null, null, null, null, null, null, null, null, null);
  }

  @Test
  void shouldReplaceAProducerThatCannotContinueAndAcceptTheNextRequest() {
    RequestSubmitter submitter = submitter(true);
    producers.get(0).sendException = new OutOfOrderSequenceException("sequence lost");

    assertThatThrownBy(() -> submitter.submit(prompt("first")))
        .isInstanceOf(RequestSubmitter.NotAcceptedException.class)
        .hasMessageContaining("Kafka did not accept the request")
        .hasMessageContaining("sequence lost");
    assertThat(producers).hasSize(2);
    assertThat(producers.get(0).closed()).isTrue();

    GenerationRequest accepted = submitter.submit(prompt("second"));
    assertThat(producers.get(1).history())
        .singleElement()
        .satisfies(r -> assertThat(r.key()).isEqualTo(accepted.getRequestId()));
    submitter.close();
    assertThat(producers.get(1).closed()).isTrue();
  }

  @Test
  void shouldReplaceTheProducerWhenTheBrokerAnswersWithAFatalError() throws Exception {
    RequestSubmitter submitter = submitter(false);
    CompletableFuture<GenerationRequest> first =
        CompletableFuture.supplyAsync(() -> submitter.submit(prompt("first")));
    awaitSend(producers.get(0));
    producers.get(0).errorNext(new OutOfOrderSequenceException("sequence lost"));

    assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(RequestSubmitter.NotAcceptedException.class);
    assertThat(producers).hasSize(2);
    assertThat(producers.get(0).closed()).isTrue();
    submitter.close();
  }

  @Test
  void shouldNotStartANewProducerOnceClosed() throws Exception {
    RequestSubmitter submitter = submitter(false);
    CompletableFuture<GenerationRequest> inFlight =
        CompletableFuture.supplyAsync(() -> submitter.submit(prompt("late")));
    awaitSend(producers.get(0));
    submitter.close();
    producers.get(0).errorNext(new OutOfOrderSequenceException("sequence lost"));

    assertThatThrownBy(() -> inFlight.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RequestSubmitter.NotAcceptedException.class);
    assertThat(producers).as("no producer left running after close").hasSize(1);
  }

  @Test
  void shouldKeepTheProducerAfterAnErrorItRecoversFrom() throws Exception {
    RequestSubmitter submitter = submitter(false);
    CompletableFuture<GenerationRequest> first =
        CompletableFuture.supplyAsync(() -> submitter.submit(prompt("first")));
    awaitSend(producers.get(0));
    producers.get(0).errorNext(new NotEnoughReplicasException("one replica"));

    assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS))
        .hasRootCauseInstanceOf(NotEnoughReplicasException.class);
    assertThat(producers).hasSize(1);
    assertThat(producers.get(0).closed()).isFalse();
    submitter.close();
  }

  @Test
  void shouldRejectInvalidRequestsWithoutSendingThem() {
    RequestSubmitter submitter = submitter(true);
    assertThatThrownBy(() -> submitter.submit(prompt(" ")))
        .isInstanceOf(RequestSubmitter.InvalidSubmissionException.class)
        .hasMessageContaining("prompt is required");
    assertThatThrownBy(() -> submitter.submit(prompt("x".repeat(8_001))))
        .hasMessageContaining("the limit is 8000");
    assertThatThrownBy(
            () ->
                submitter.submit(
                    new Submission(
                        "hi", "bad tenant", null, null, null, null, null, null, null, null)))
        .hasMessageContaining("tenantId must be");
    assertThatThrownBy(() -> submitter.submit(prompt("hi\u0000there")))
        .hasMessage(
            "prompt holds the control character U+0000 at index 2; send text without control"
                + " characters (tab, line feed and carriage return are fine)");
    assertThatThrownBy(
            () ->
                submitter.submit(
                    new Submission(
                        "hi",
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        Map.of("channel", "web\u001b[31m"))))
        .hasMessageContaining("attribute 'channel' holds the control character U+001B");
    for (String key : List.of("user id", "user:id", "e-mail@", "")) {
      assertThatThrownBy(
              () ->
                  submitter.submit(
                      new Submission(
                          "hi",
                          null,
                          null,
                          null,
                          null,
                          null,
                          null,
                          null,
                          null,
                          Map.of(key, "u-1"))))
          .as("a key no search by attribute=key:value could name: '%s'", key)
          .isInstanceOf(RequestSubmitter.InvalidSubmissionException.class)
          .hasMessageContaining("attribute key");
    }
    Map<String, String> nullValue = new java.util.HashMap<>();
    nullValue.put("channel", null);
    assertThatThrownBy(
            () ->
                submitter.submit(
                    new Submission(
                        "hi", null, null, null, null, null, null, null, null, nullValue)))
        .hasMessage(
            "attribute 'channel' is null; attribute values are strings (send \"\" for an empty"
                + " one)");
    assertThat(producers.get(0).history()).isEmpty();

    submitter.close();
  }

  private static void awaitSend(MockProducer<?, ?> producer) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (producer.history().isEmpty()) {
      assertThat(System.nanoTime()).as("the submitter sent nothing").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void shouldSayWhetherATenantIsOverItsRateOrCannotBeCountedAtAll() {
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    RequestSubmitter submitter =
        new RequestSubmitter(
            () -> {
              MockProducer<String, GenerationRequest> producer =
                  new MockProducer<>(true, null, new StringSerializer(), (topic, value) -> null);
              producers.add(producer);
              return producer;
            },
            SubmissionLimits.defaults(),
            new TenantRateLimiter(1, 1, 1, now::get),
            Clock.systemUTC());
    submitter.submit(new Submission("hi", "a", null, null, null, null, null, null, null, null));

    assertThatThrownBy(
            () ->
                submitter.submit(
                    new Submission("hi", "a", null, null, null, null, null, null, null, null)))
        .isInstanceOf(RequestSubmitter.RateLimitedException.class)
        .hasMessageStartingWith(
            "Tenant 'a' submits more than its rate allows (1 request a second, bursts of 1:");
    assertThatThrownBy(
            () ->
                submitter.submit(
                    new Submission("hi", "b", null, null, null, null, null, null, null, null)))
        .isInstanceOf(RequestSubmitter.RateLimitedException.class)
        .hasMessageContaining("cannot count tenant 'b' as well")
        .hasMessageEndingWith("send it again in 1 s");
    assertThat(producers.get(0).history()).hasSize(1);
    assertThat(submitter.refusedForRate()).isEqualTo(2);
  }
}
