package io.genguard.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.ReplacingFiles;
import io.genguard.schemas.TenantIds;
import io.genguard.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A platform's side of the release contract, as a working reference: what {@code content.released}
 * releases is published (here: a JSON file per request in a directory), and what {@code
 * content.retractions} takes down is removed, whichever of the two topics a consumer reads first.
 *
 * <ul>
 *   <li>Both topics are read with {@code read_committed}; offsets are committed only after what was
 *       read is applied, so a crash re-applies a batch, which is idempotent (the same file written
 *       again, a file already gone). Each file is synced to disk before its move, and each folder a
 *       batch changed once before its offsets are committed, so a crash after the commit loses
 *       neither a file published nor a removal.
 *   <li>A symbolic link at a request's path is replaced by the published file, never followed: the
 *       publisher writes only inside its directory, and a takedown removes what it wrote. A tenant
 *       folder that is a symbolic link (or resolves outside the directory) stops the run instead,
 *       as a file it cannot write does: nothing is published or taken down through it.
 *   <li>A takedown also removes the request's temporary files ({@code .REQUEST.json.*.partial})
 *       that no running writer holds: a publish killed mid-write leaves the text in one.
 *   <li>A retraction of an output not published yet is remembered ({@code .retracted}, one released
 *       outcome's event id a line, written before the offsets that read it are committed), so the
 *       release that comes later is never published.
 *   <li>Releases that do not decode, and ids that are not safe as file names (a request id is
 *       whatever a producer wrote), are counted and skipped, never written: skipping a release
 *       fails closed.
 *   <li>A retraction that does not decode stops the run ({@link UndecodableRetractionException}):
 *       skipping it would leave what it takes down published, and nothing else tells a platform.
 *       What was read before it is applied and committed; its partition's position stays at it, so
 *       every run stops there again until a build that decodes it (a newer GenGuard wrote it) reads
 *       it. Nothing is published meanwhile.
 * </ul>
 */
public final class ReferencePublisher {
  private static final Logger LOG = LoggerFactory.getLogger(ReferencePublisher.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Ids used as file names: letters, digits, '.', '_', ':' or '-', not starting with a dot. */
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  static final String RETRACTED_FILE = ".retracted";
  public static final String DEFAULT_GROUP = "genguard-reference-publisher";

  /**
   * @param once stop once both topics are read to where they ended at the start
   * @param fromBeginning read from each topic's first record, not where the group stopped
   * @param releasedTopic where releases are read ({@code content.released}, or a mirror of it)
   * @param retractionsTopic where retractions are read ({@code content.retractions}, or a mirror)
   * @param tenant the only tenant whose releases and retractions are applied (the topics carry
   *     every tenant's), or null for all
   */
  public record Settings(
      Map<String, Object> kafkaProperties,
      Path directory,
      String group,
      boolean once,
      boolean fromBeginning,
      String releasedTopic,
      String retractionsTopic,
      String tenant) {
    public Settings {
      if (tenant != null && !TenantIds.isValid(tenant)) {
        throw new IllegalArgumentException(
            "tenant '" + tenant + "' is not valid: use " + TenantIds.RULE);
      }
    }

    /** The same, applying only {@code tenant}'s records (null: every tenant's). */
    public Settings onlyTenant(String tenant) {
      return new Settings(
          kafkaProperties,
          directory,
          group,
          once,
          fromBeginning,
          releasedTopic,
          retractionsTopic,
          tenant);
    }

    /** Reading the catalogue's topics. */
    public static Settings of(
        Map<String, Object> kafkaProperties,
        Path directory,
        String group,
        boolean once,
        boolean fromBeginning) {
      return new Settings(
          kafkaProperties,
          directory,
          group,
          once,
          fromBeginning,
          Topics.CONTENT_RELEASED.name(),
          Topics.CONTENT_RETRACTIONS.name(),
          null);
    }
  }

  /**
   * What a run did.
   *
   * @param undecodable releases that did not decode, skipped (a retraction that does not decode
   *     stops the run instead)
   * @param otherTenants releases and retractions of tenants other than {@link Settings#tenant},
   *     skipped
   */
  public record Result(
      long published,
      long takenDown,
      long withheldAsRetracted,
      long undecodable,
      long unsafeIds,
      long otherTenants) {
    public ObjectNode json() {
      ObjectNode out = JSON.createObjectNode();
      out.put("published", published);
      out.put("taken_down", takenDown);
      out.put("withheld_as_retracted", withheldAsRetracted);
      out.put("undecodable", undecodable);
      out.put("unsafe_ids", unsafeIds);
      out.put("other_tenants", otherTenants);
      return out;
    }
  }

  /**
   * A retraction that does not decode: the run stopped at it, with what it applied before committed
   * and the retraction's partition left at it.
   */
  public static final class UndecodableRetractionException extends IllegalStateException {
    private final String position;
    private final transient Result result;

    UndecodableRetractionException(String position, EventDecodingException cause, Result result) {
      super(
          "Stopped at "
              + position
              + ": a retraction that does not decode ("
              + cause.getMessage()
              + "). It was not skipped, since the output it takes down would stay published:"
              + " this group's position stays at it and every run stops there. If a newer"
              + " GenGuard wrote it, upgrade this publisher to a build whose schemas decode it and"
              + " run again; if it is not a retraction at all, see OPERATIONS.md (\"The reference"
              + " publisher stops at a retraction\")",
          cause);
      this.position = position;
      this.result = result;
    }

    /** The retraction it stopped at: topic-partition@offset. */
    public String position() {
      return position;
    }

    /** What the run did before it stopped. */
    public Result result() {
      return result;
    }
  }

  private final Settings settings;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong progress = new AtomicLong();
  private final Set<String> retracted = new HashSet<>();
  private long published;
  private long takenDown;
  private long withheld;
  private long undecodable;
  private long unsafe;
  private long otherTenants;

  public ReferencePublisher(Settings settings) {
    this.settings = settings;
  }

  /**
   * Stops a run that follows the topics (from another thread, e.g. a shutdown hook) once the batch
   * it applies is applied and committed, within one poll (half a second) when it is waiting. It
   * does not wake the consumer up: a wake-up lands on whichever call comes next, the position or
   * the commit of a batch already applied, and the run would end with an error, without its counts
   * and with that batch to read again.
   */
  public void stop() {
    running.set(false);
  }

  /**
   * A number that goes up as the run gets on (each record applied, each batch's folders synced and
   * its offsets committed): a stop may wait as long as it moves, however long the batch takes.
   */
  public long progress() {
    return progress.get();
  }

  public Result run() throws IOException {
    Files.createDirectories(settings.directory());
    Path retractedFile = settings.directory().resolve(RETRACTED_FILE);
    if (Files.exists(retractedFile)) {
      retracted.addAll(Files.readAllLines(retractedFile, StandardCharsets.UTF_8));
    }
    Properties props = new Properties();
    props.putAll(settings.kafkaProperties());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, settings.group());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, byte[]> kafka =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : List.of(settings.releasedTopic(), settings.retractionsTopic())) {
        List<PartitionInfo> infos = kafka.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
          throw new IllegalStateException(
              "The broker has no topic " + topic + " (is it the right cluster?)");
        }
        infos.forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
      }
      kafka.assign(partitions);
      ConsumerPositions.resume(kafka, partitions, settings.fromBeginning());
      Map<TopicPartition, Long> end = kafka.endOffsets(partitions);
      while (running.get() && !(settings.once() && ConsumerPositions.reachedEnd(kafka, end))) {
        List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
        kafka.poll(Duration.ofMillis(500)).forEach(batch::add);
        List<String> newlyRetracted = new ArrayList<>();
        ReplacingFiles.Folders changed = new ReplacingFiles.Folders();
        // A retraction that does not decode stops the batch: neither it nor anything after it is
        // applied, and each partition is committed at its first record not applied.
        Map<TopicPartition, Long> notApplied = new HashMap<>();
        ConsumerRecord<String, byte[]> stoppedAt = null;
        EventDecodingException stoppedBy = null;
        for (ConsumerRecord<String, byte[]> record : batch) {
          if (stoppedAt == null) {
            try {
              apply(record, newlyRetracted, changed);
              progress.incrementAndGet();
              continue;
            } catch (EventDecodingException e) {
              stoppedAt = record;
              stoppedBy = e;
            }
          }
          notApplied.putIfAbsent(
              new TopicPartition(record.topic(), record.partition()), record.offset());
        }
        if (!newlyRetracted.isEmpty()) {
          Files.writeString(
              retractedFile,
              String.join("\n", newlyRetracted) + "\n",
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND,
              StandardOpenOption.SYNC);
        }
        // The batch's moves and removals on disk before its offsets are committed (once a folder).
        changed.sync();
        progress.incrementAndGet();
        if (!batch.isEmpty()) {
          Map<TopicPartition, OffsetAndMetadata> position = new HashMap<>();
          for (TopicPartition partition : partitions) {
            Long first = notApplied.get(partition);
            position.put(
                partition,
                new OffsetAndMetadata(first != null ? first : kafka.position(partition)));
          }
          kafka.commitSync(position);
          progress.incrementAndGet();
        }
        if (stoppedAt != null) {
          String where = stoppedAt.topic() + "-" + stoppedAt.partition() + "@" + stoppedAt.offset();
          UndecodableRetractionException stop =
              new UndecodableRetractionException(
                  where,
                  stoppedBy,
                  new Result(published, takenDown, withheld, undecodable, unsafe, otherTenants));
          LOG.error("{}", stop.getMessage());
          throw stop;
        }
      }
    }
    return new Result(published, takenDown, withheld, undecodable, unsafe, otherTenants);
  }

  /**
   * Applies one record.
   *
   * @throws EventDecodingException for a retraction that does not decode (a release that does not
   *     decode is counted and skipped)
   */
  private void apply(
      ConsumerRecord<String, byte[]> record,
      List<String> newlyRetracted,
      ReplacingFiles.Folders changed)
      throws IOException {
    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
    if (record.topic().equals(settings.retractionsTopic())) {
      ContentRetraction retraction = Topics.CONTENT_RETRACTIONS.codec().decode(record.value());
      if (otherTenant(retraction.getTenantId())) {
        return;
      }
      Path file = file(retraction.getTenantId(), retraction.getRequestId(), where);
      if (file == null) {
        return;
      }
      if (retracted.add(retraction.getReleasedEventId())) {
        newlyRetracted.add(retraction.getReleasedEventId());
      }
      if (Files.deleteIfExists(file)) {
        changed.add(file.getParent());
        takenDown++;
        LOG.info("Took down {} ({}, {})", file.getFileName(), retraction.getBasis(), where);
      }
      // A publish killed mid-write left the text in a temporary file that no later write of this
      // file (taken down) would remove: removed now, however young, unless a writer holds it.
      if (ReplacingFiles.removeLeftTemporaryFiles(file, line -> LOG.warn("{} ({})", line, where))
          > 0) {
        changed.add(file.getParent());
      }
    } else {
      ReleaseGateOutcome released;
      try {
        released = Topics.CONTENT_RELEASED.codec().decode(record.value());
      } catch (EventDecodingException e) {
        undecodable++;
        LOG.warn("Skipped {}: it does not decode ({})", where, e.getMessage());
        return;
      }
      if (otherTenant(released.getTenantId())) {
        return;
      }
      Path file = file(released.getTenantId(), released.getRequestId(), where);
      if (file == null) {
        return;
      }
      if (retracted.contains(released.getEventId())) {
        withheld++;
        return;
      }
      ObjectNode content = JSON.createObjectNode();
      content.put("requestId", released.getRequestId());
      content.put("tenantId", released.getTenantId());
      content.put("outputId", released.getOutputId());
      content.put("releasedEventId", released.getEventId());
      content.put("decidedAt", released.getDecidedAt().toString());
      content.put("text", released.getText());
      byte[] bytes = JSON.writeValueAsBytes(content);
      if (Files.isSymbolicLink(file)) {
        LOG.warn(
            "Replacing the link {} with the published file ({}); its target is left as it was",
            file,
            where);
      }
      // FINISH: stop() lets the batch under way finish, so its last file must land, not be
      // removed by a hook of its own. REPLACE: a link at the path is replaced, never written
      // through (outside the directory, where a takedown would leave the text).
      ReplacingFiles.write(
          file,
          ReplacingFiles.OnStop.FINISH,
          ReplacingFiles.Links.REPLACE,
          changed,
          line -> LOG.warn("{}", line),
          out -> out.write(bytes));
      published++;
    }
  }

  /** Whether a record is another tenant's than the one this run publishes for (counted). */
  private boolean otherTenant(String tenantId) {
    if (settings.tenant() == null || settings.tenant().equals(tenantId)) {
      return false;
    }
    otherTenants++;
    return true;
  }

  /**
   * The request's file, or null (counted) when its ids are not safe as names.
   *
   * @throws FileSystemException when the tenant's folder is a symbolic link or resolves outside the
   *     directory: the run stops there, as at a file it cannot write, with nothing published or
   *     taken down through it and the batch's offsets not committed
   */
  private Path file(String tenantId, String requestId, String where) throws IOException {
    if (!TenantIds.isValid(tenantId)
        || !SAFE_ID.matcher(tenantId).matches()
        || !SAFE_ID.matcher(requestId).matches()) {
      unsafe++;
      LOG.warn("Skipped {}: its tenant or request id is not safe as a file name", where);
      return null;
    }
    Path directory = settings.directory();
    Path tenant = directory.resolve(tenantId);
    if (Files.isSymbolicLink(tenant)) {
      throw outside(
          tenant, "is a symbolic link (to " + Files.readSymbolicLink(tenant) + ")", where);
    }
    Files.createDirectories(tenant);
    Path real = tenant.toRealPath();
    if (!directory.toRealPath().equals(real.getParent())) {
      throw outside(tenant, "resolves to " + real + ", outside " + directory, where);
    }
    return tenant.resolve(requestId + ".json");
  }

  private static FileSystemException outside(Path tenant, String what, String where) {
    return new FileSystemException(
        tenant.toString(),
        null,
        "the tenant folder "
            + what
            + "; publish writes and takes down only inside its directory, so it stopped at "
            + where
            + " without applying it (the batch's offsets not committed; every run stops there)."
            + " Replace it with a real folder (move what it holds into it) and run again");
  }
}
