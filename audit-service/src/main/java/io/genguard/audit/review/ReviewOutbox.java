package io.genguard.audit.review;

import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes what the audit service tells the release gate and the publishers, from the
 * review_outbox table (transactional outbox): review decisions to review.decisions, erasure notices
 * to audit.erasures and retractions to content.retractions, each row naming its topic. A row is
 * committed to PostgreSQL together with the review or erasure and its audit record, and this
 * publisher sends it afterwards, marking it published only once the broker acknowledged it. A crash
 * between send and mark re-sends the same event (same event id), which the release gate ignores for
 * a request it already decided and the audit store records once. A review decision of a request
 * erased after the decision was committed is dropped, not sent (erased content is not released); an
 * erasure of one tenant's records under a request id (a data subject's) drops that tenant's
 * decisions only.
 */
public final class ReviewOutbox implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReviewOutbox.class);
  private static final int BATCH = 200;

  private final DataSource dataSource;
  private final KafkaProducer<String, byte[]> producer;
  private final Clock clock;
  private final Duration interval;
  private final Semaphore wake = new Semaphore(0);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong published = new AtomicLong();
  private Thread thread;

  /**
   * Puts an event in the outbox, in the caller's transaction, for this publisher to send to {@code
   * topic} once it commits. An event id already waiting there is the same event: kept once.
   */
  public static <T extends SpecificRecord> void enqueue(
      Connection connection,
      String eventId,
      String requestId,
      Topic<String, T> topic,
      T event,
      Instant now)
      throws SQLException {
    try (PreparedStatement row =
        connection.prepareStatement(
            "insert into review_outbox (review_id, request_id, payload, created_at, topic)"
                + " values (?, ?, ?, ?, ?) on conflict (review_id) do nothing")) {
      row.setString(1, eventId);
      row.setString(2, requestId);
      row.setBytes(3, topic.codec().encode(event));
      row.setObject(4, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
      row.setString(5, topic(topic.name()));
      row.executeUpdate();
    }
  }

  /**
   * Deletes the review decisions of {@code requestId} in the outbox that an erasure of {@code
   * tenant}'s records under it reaches (null: every tenant's, an erasure of the whole request), in
   * the erasure's transaction. Two tenants may use one request id: a data subject's erasure (one
   * tenant's) drops that tenant's decisions only; before the fifty-first session it dropped every
   * tenant's. A row another publisher is sending is skipped (see {@link #publishPending}).
   *
   * @return how many were deleted
   */
  public static int dropDecisionsOfErased(Connection connection, String requestId, String tenant)
      throws SQLException {
    List<String> ids = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select review_id, payload from review_outbox where request_id = ? and topic = ?"
                + " for update skip locked")) {
      select.setString(1, requestId);
      select.setString(2, Topics.REVIEW_DECISIONS.name());
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          if (erasedFor(rs.getBytes(2), tenant)) {
            ids.add(rs.getString(1));
          }
        }
      }
    }
    return delete(connection, ids);
  }

  /**
   * Whether an erasure of {@code erasedTenant}'s records (null: the whole request's) reaches a
   * review decision: the decision's tenant is the erased one, or it cannot be read (then it is not
   * sent: erased content is not released).
   */
  static boolean erasedFor(byte[] payload, String erasedTenant) {
    if (erasedTenant == null) {
      return true;
    }
    try {
      return erasedTenant.equals(Topics.REVIEW_DECISIONS.codec().decode(payload).getTenantId());
    } catch (RuntimeException e) {
      return true;
    }
  }

  /**
   * A review decision's row's ({@code o}) erasure notes, one per tenant scope (V39; '' for every
   * tenant's), in one array, null for none or a row of another topic (the parameter: the review
   * decisions' topic). A join gave a row one result row per note: two tenants' notes sent another
   * tenant's decision twice, and a note not its own could send it.
   */
  private static final String ERASURE_SCOPES =
      " (select array_agg(coalesce(e.tenant_id, '')) from request_erasure e"
          + " where o.topic = ? and e.request_id = o.request_id)";

  /**
   * Whether one of a request's erasure notes ({@code scopes}: each the tenant it erased, '' for
   * every tenant; null: none) reaches a review decision ({@link #erasedFor}).
   */
  private static boolean erasedForAny(byte[] payload, java.sql.Array scopes) throws SQLException {
    if (scopes == null) {
      return false;
    }
    for (Object scope : (Object[]) scopes.getArray()) {
      String tenant = (String) scope;
      if (erasedFor(payload, tenant.isEmpty() ? null : tenant)) {
        return true;
      }
    }
    return false;
  }

  private static int delete(Connection connection, List<String> ids) throws SQLException {
    if (ids.isEmpty()) {
      return 0;
    }
    try (PreparedStatement delete =
        connection.prepareStatement("delete from review_outbox where review_id = any(?)")) {
      delete.setArray(1, connection.createArrayOf("text", ids.toArray()));
      return delete.executeUpdate();
    }
  }

  public ReviewOutbox(
      DataSource dataSource, Map<String, Object> kafkaProperties, Clock clock, Duration interval) {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    this.dataSource = dataSource;
    this.clock = clock;
    this.interval = interval;
  }

  public ReviewOutbox start() {
    thread = new Thread(this::run, "review-outbox");
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  /** Publish soon: a decision was just committed. */
  public void nudge() {
    wake.release();
  }

  /** Decisions published by this instance since start. */
  public long publishedCount() {
    return published.get();
  }

  private void run() {
    while (running.get()) {
      try {
        wake.tryAcquire(interval.toMillis(), TimeUnit.MILLISECONDS);
        wake.drainPermits();
        while (running.get() && publishPending() == BATCH) {
          // a full batch: more may be waiting
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        LOG.warn(
            "Publishing review decisions failed; retrying in {} ms: {}",
            interval.toMillis(),
            e.toString());
      }
    }
  }

  /**
   * Sends unpublished decisions and marks those the broker acknowledged; rows another instance is
   * publishing are skipped.
   *
   * @return how many rows this call looked at
   */
  public int publishPending() throws SQLException, InterruptedException {
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      try {
        // A decision of a request erased since it was committed is not sent (erased content is
        // not released): the erasure deletes those it finds, and leaves those another publisher
        // was sending then rather than wait for Kafka under the chain lock; if Kafka did not take
        // them, they go here.
        // An erasure of one tenant's records (a data subject's, request_erasure naming the
        // tenant) reaches that tenant's decisions only: two tenants may use one request id.
        List<String> dropped = new ArrayList<>();
        try (PreparedStatement erased =
            connection.prepareStatement(
                "select o.review_id, o.payload,"
                    + ERASURE_SCOPES
                    + " from review_outbox o where o.published_at is null and o.topic = ?"
                    + " and exists (select 1 from request_erasure e where e.request_id = o.request_id)"
                    + " for update of o skip locked")) {
          erased.setString(1, Topics.REVIEW_DECISIONS.name());
          erased.setString(2, Topics.REVIEW_DECISIONS.name());
          try (ResultSet rs = erased.executeQuery()) {
            while (rs.next()) {
              if (erasedForAny(rs.getBytes(2), rs.getArray(3))) {
                dropped.add(rs.getString(1));
              }
            }
          }
        }
        delete(connection, dropped);
        List<String> ids = new ArrayList<>();
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        int looked = 0;
        try (PreparedStatement select =
            connection.prepareStatement(
                "select o.review_id, o.request_id, o.payload, o.topic,"
                    + ERASURE_SCOPES
                    + " from review_outbox o where o.published_at is null"
                    + " order by o.created_at limit ? for update of o skip locked")) {
          select.setString(1, Topics.REVIEW_DECISIONS.name());
          select.setInt(2, BATCH);
          try (ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
              looked++;
              if (erasedForAny(rs.getBytes(3), rs.getArray(5))) {
                continue; // erased since the delete above: dropped next round, not sent
              }
              ids.add(rs.getString(1));
              sends.add(
                  producer.send(
                      new ProducerRecord<>(
                          topic(rs.getString(4)), rs.getString(2), rs.getBytes(3))));
            }
          }
        }
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
          try {
            sends.get(i).get(35, TimeUnit.SECONDS);
            acknowledged.add(ids.get(i));
          } catch (java.util.concurrent.ExecutionException
              | java.util.concurrent.TimeoutException e) {
            LOG.warn(
                "Outbox event {} not acknowledged by Kafka, will retry: {}",
                ids.get(i),
                e.toString());
          }
        }
        if (!acknowledged.isEmpty()) {
          try (PreparedStatement mark =
              connection.prepareStatement(
                  "update review_outbox set published_at = ? where review_id = any(?)")) {
            mark.setObject(1, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
            mark.setArray(2, connection.createArrayOf("text", acknowledged.toArray()));
            mark.executeUpdate();
          }
        }
        connection.commit();
        published.addAndGet(acknowledged.size());
        return looked;
      } catch (SQLException | RuntimeException | InterruptedException e) {
        connection.rollback();
        throw e;
      }
    }
  }

  /** The outbox's topics (the table's check constraint allows no other). */
  private static String topic(String name) {
    if (name.equals(Topics.REVIEW_DECISIONS.name())
        || name.equals(Topics.AUDIT_ERASURES.name())
        || name.equals(Topics.CONTENT_RETRACTIONS.name())) {
      return name;
    }
    throw new IllegalStateException(
        "review_outbox names topic '" + name + "', which it never sends to");
  }

  /** Publishes what is pending (best effort), then stops. */
  @Override
  public void close() {
    running.set(false);
    wake.release();
    if (thread != null) {
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      publishPending();
    } catch (Exception e) {
      LOG.warn(
          "Unpublished review decisions stay in the outbox for the next start: {}", e.toString());
    }
    producer.close(Duration.ofSeconds(5));
  }
}
