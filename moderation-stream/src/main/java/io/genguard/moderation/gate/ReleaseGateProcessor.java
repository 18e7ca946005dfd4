package io.genguard.moderation.gate;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ErasureCause;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.schemas.CarriedAttributes;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.EventTooLargeException;
import io.genguard.schemas.LogText;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers each request's output and verdict in a state store until both are there, then releases,
 * quarantines or holds the output for review; a person's review decision later releases or
 * quarantines a held output.
 *
 * <p>Invariants (fail closed):
 *
 * <ul>
 *   <li>Text reaches content.released only with a RELEASE verdict whose outputSha256 equals the
 *       SHA-256 of that text, or with an APPROVE review of an output held for review, made on the
 *       verdict the output is held on when the review names one (an approval made on no verdict,
 *       before a late REVIEW verdict held the output again, leaves it held).
 *   <li>A request is released or quarantined at most once: after the final decision only a small
 *       marker stays in the store, and anything arriving later for that request is ignored.
 *   <li>Bytes that are not the expected event go to the input topic's dead-letter topic, with the
 *       source offset.
 *   <li>Nothing waits for ever: an output without a verdict after the verdict timeout is held for
 *       review (a verdict that comes later still decides it, unless a person decided first), and a
 *       verdict without an output, like a decided marker, is forgotten after the retention.
 *   <li>An outcome never exceeds the event limit, and text is never published in part: see {@link
 *       #fitted}.
 *   <li>An output generated longer ago than the gate remembers decisions ({@link
 *       GateTimings#decisionHorizon}), or more than {@link GateTimings#CLOCK_SKEW_ALLOWANCE} ahead
 *       of its clock, is quarantined, never decided: the gate may have decided its request and
 *       forgotten it (a copy sent again, a replay after lost offsets), or could not tell.
 *   <li>An output or verdict under another tenant than its request's (gen.requests) is not that
 *       request's: it goes to its dead-letter topic and leaves the request open for its own output,
 *       so a copy re-published under another tenant cannot take the request id from it.
 *   <li>From format 4 (keyed by request id and tenant), an output under a tenant whose request the
 *       gate has not read, while another tenant's request under the id was read, is not decided
 *       ({@link #withheld}): it waits for its own request, and is dead-lettered as a copy when that
 *       does not come within the verdict timeout, never held for a person.
 *   <li>An output whose verdict found its provenance manifest INVALID ({@link #forged}: forged
 *       under the request's own tenant, or altered) does not take the request while it waits: an
 *       output that comes within the verdict timeout takes its place, and it goes to its
 *       dead-letter topic with its verdict; an output that comes while the first waits for its
 *       verdict waits beside it (one, under {@link #contenderKey}), and takes the request if the
 *       first turns out forged. A forged output that nothing replaced is decided on its verdict
 *       after the verdict timeout, so that its request still ends.
 *   <li>An erased request (audit.erasures) is never published: the output it holds, or the one that
 *       comes later, is quarantined with neither its text nor its attributes, and only the marker
 *       stays in the store. An output released before the erasure stays released.
 * </ul>
 */
final class ReleaseGateProcessor implements Processor<byte[], byte[], String, byte[]> {
  private static final Logger LOG = LoggerFactory.getLogger(ReleaseGateProcessor.class);
  private static final EventCodec<DeadLetter> DEAD_LETTERS = EventCodec.of(DeadLetter.class);
  private static final EventCodec<ReleaseGateOutcome> OUTCOMES = Topics.CONTENT_RELEASED.codec();

  /**
   * Longest request or output id, in UTF-8 bytes, the gate accepts. Ids are store keys and are
   * repeated in every entry and outcome; with longer ones a single decodable event could make a
   * changelog or outcome record larger than Kafka accepts, failing the transaction on every retry.
   */
  static final int MAX_ID_BYTES = DeadLetters.MAX_KEY_BYTES;

  /**
   * Overdue outputs held per sweep, at most: after a long outage of the moderation job the rest
   * follow in the next sweeps instead of one transaction of every held text.
   */
  static final int MAX_HOLDS_PER_SWEEP = 10_000;

  /**
   * The longest one piece of a sweep reads the store. A sweep runs on the stream thread, inside its
   * open exactly-once transaction (which Kafka Streams gives 10 s), and reading takes about 1 µs a
   * marker: a store of millions of markers (a week of decisions at tens a second) is swept in
   * pieces, with records processed and transactions committed between them.
   */
  static final Duration SWEEP_PIECE = Duration.ofMillis(500);

  /**
   * Entries one piece of a sweep forgets, at most: each is a delete and a changelog tombstone
   * (about 6 µs here), so a week of markers expiring at once is forgotten over several pieces.
   */
  static final int MAX_FORGETS_PER_PIECE = 50_000;

  /** How soon the next piece of a sweep that stopped at {@link #SWEEP_PIECE} is read. */
  static final Duration SWEEP_RESUME = Duration.ofSeconds(1);

  /**
   * The reviewer the audit service's review expiry decides as ({@code
   * GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS}): its rejections get a fixed reason instead of its note.
   */
  static final String EXPIRY_REVIEWER = "review-expiry";

  private final Clock clock;
  private final GateTimings timings;
  private final int maxHoldsPerSweep;
  private final Duration sweepPieceLength;

  /**
   * The format the store's entries are written in ({@link ReleaseGateTopology#STATE_FORMAT}): below
   * 3 an entry cannot keep its request's tenant, so requests are ignored and the gate decides as
   * before (a request-only entry would also start an older gate's verdict timeout at the request
   * after a rollback).
   */
  private final int stateFormat;

  /**
   * Whether a forged output (its verdict found its manifest INVALID: {@link #forged}) is kept from
   * taking its request, with an output that comes while the first waits for its verdict kept beside
   * it ({@link #contenderKey}): from format 3, so that a gate told to write an older format, to be
   * rolled back, leaves nothing an older gate would take for a request of its own.
   */
  private final boolean keepsForgedOut;

  /**
   * Forged outputs dead-lettered since the last sweep (their verdicts found their manifests
   * INVALID), and the first one's request: logged once a sweep.
   */
  private int forgedOutputs;

  private String firstForged;

  /**
   * Copies of outputs ignored since the last sweep (the gate holds or decided their request
   * already), and the first one's request: logged once a sweep, not once a copy.
   */
  private int ignoredOutputs;

  private String firstIgnored;

  /**
   * Outputs and verdicts dead-lettered since the last sweep because they came under another tenant
   * than their request's, and the first one's request: logged once a sweep.
   */
  private int otherTenants;

  private String firstOtherTenant;

  /** Whether a sweep is under way, and the key its next piece starts at (null: the first). */
  private boolean sweeping;

  private String resumeAt;
  private int sweepPieces;
  private long sweptEntries;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, GateEntry> store;

  ReleaseGateProcessor(
      Clock clock,
      GateTimings timings,
      int maxHoldsPerSweep,
      Duration sweepPieceLength,
      int stateFormat) {
    this.clock = clock;
    this.timings = timings;
    this.maxHoldsPerSweep = maxHoldsPerSweep;
    this.sweepPieceLength = sweepPieceLength;
    this.stateFormat = stateFormat;
    this.keepsForgedOut = stateFormat >= 3;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.store = context.getStateStore(ReleaseGateTopology.STATE_STORE);
    context.schedule(timings.sweepInterval(), PunctuationType.WALL_CLOCK_TIME, now -> sweep());
    context.schedule(
        SWEEP_RESUME,
        PunctuationType.WALL_CLOCK_TIME,
        now -> {
          if (sweeping) {
            sweepPiece();
          }
        });
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata source =
        context.recordMetadata().orElseThrow(() -> new IllegalStateException("No record metadata"));
    String topic = source.topic();
    Header unreadable = record.headers().lastHeader(UnreadableBatchClients.UNREADABLE_HEADER);
    if (unreadable != null) {
      // Copied without Kafka's check from a batch that failed it: never decided on.
      CorruptRecordException damage =
          new CorruptRecordException(
              new String(unreadable.value(), java.nio.charset.StandardCharsets.UTF_8));
      if (topic.equals(Topics.GENERATION_REQUESTS.name())) {
        // The generator dead-letters it; the gate only learns no tenant from it.
        return;
      }
      if (topic.equals(Topics.AUDIT_ERASURES.name())) {
        // Dropping an erasure notice would let the request's output be released: one that decodes
        // is applied as well (erasing is the safe direction, even for a damaged notice), and one
        // that does not fails the thread, so that nothing behind it on the partition is released.
        ErasureNotice notice = damagedErasure(record, damage);
        deadLetter(source, record, damage);
        onErasure(notice);
        return;
      }
      deadLetter(source, record, damage);
      return;
    }
    if (topic.equals(Topics.GENERATION_REQUESTS.name())) {
      onRequest(record);
      return;
    }
    try {
      if (topic.equals(Topics.GENERATION_OUTPUTS.name())) {
        GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(record.value());
        requireBoundedIds(output.getRequestId(), output.getOutputId());
        requireKeyable(output.getRequestId(), output.getTenantId());
        onOutput(output, source, record);
      } else if (topic.equals(Topics.MODERATION_VERDICTS.name())) {
        ModerationVerdict verdict = Topics.MODERATION_VERDICTS.codec().decode(record.value());
        requireBoundedIds(verdict.getRequestId(), verdict.getOutputId());
        requireKeyable(verdict.getRequestId(), verdict.getTenantId());
        onVerdict(verdict, source, record);
      } else if (topic.equals(Topics.REVIEW_DECISIONS.name())) {
        ReviewDecision review = Topics.REVIEW_DECISIONS.codec().decode(record.value());
        requireBoundedIds(review.getRequestId(), review.getOutputId());
        requireKeyable(review.getRequestId(), review.getTenantId());
        onReview(review, source, record);
      } else if (topic.equals(Topics.AUDIT_ERASURES.name())) {
        ErasureNotice notice = Topics.AUDIT_ERASURES.codec().decode(record.value());
        requireBoundedId("request id", notice.getRequestId());
        onErasure(notice);
      } else {
        throw new IllegalStateException("The gate does not read " + topic);
      }
    } catch (EventDecodingException e) {
      deadLetter(source, record, e);
    }
  }

  /**
   * The erasure notice of a record copied from a damaged batch of audit.erasures, or a thrown
   * {@code damage} where it does not decode: the thread fails on it, as on a batch that cannot be
   * copied.
   */
  private static ErasureNotice damagedErasure(
      Record<byte[], byte[]> record, CorruptRecordException damage) {
    try {
      ErasureNotice notice = Topics.AUDIT_ERASURES.codec().decode(record.value());
      requireBoundedId("request id", notice.getRequestId());
      return notice;
    } catch (EventDecodingException e) {
      damage.addSuppressed(e);
      throw new CorruptRecordException(
          "An erasure notice copied from a damaged batch does not decode, so the gate cannot"
              + " apply it and stops here rather than skip it: "
              + damage.getMessage(),
          damage);
    }
  }

  /**
   * A request (gen.requests): the gate keeps its tenant, so that an output or verdict under another
   * tenant is not taken for the request's own (a copy of the output re-published under another
   * tenant by someone who can write gen.outputs). The first request of an id decides its tenant; a
   * request that does not decode, or whose id is too long, is the generator's to dead-letter and
   * teaches the gate nothing. A copy that came before the request, and waits, is dead-lettered now;
   * one decided or held before its request came keeps the request (the request's timestamp is
   * earlier than any output's, so Kafka Streams reads it first unless a copy's timestamp was set
   * earlier still). A gate writing an entry format without the tenant (below 3) ignores requests:
   * the tenant would be lost at every write, so each request of the id would evict again.
   */
  private void onRequest(Record<byte[], byte[]> record) {
    if (stateFormat < 3) {
      return;
    }
    GenerationRequest request;
    try {
      request = Topics.GENERATION_REQUESTS.codec().decode(record.value());
      requireBoundedId("request id", request.getRequestId());
      requireKeyable(request.getRequestId(), request.getTenantId());
    } catch (EventDecodingException e) {
      return;
    }
    String tenant = request.getTenantId();
    String requestId = storeKey(request.getRequestId(), tenant);
    GateEntry entry = store.get(requestId);
    long now = clock.millis();
    if (entry == null) {
      if (request.getSubmittedAt().toEpochMilli() < now - timings.decisionHorizon().toMillis()) {
        // Its output is outside the gate's memory and quarantined whatever the tenant: nothing to
        // keep (a gate reading gen.requests for the first time reads it from the start).
        return;
      }
      store.put(requestId, GateEntry.empty().withRequestTenant(tenant, false, false, now));
      return;
    }
    if (entry.state() != GateEntry.State.WAITING || entry.requestTenant() != null) {
      return; // held, decided or erased already, or its tenant known: the first request's stays
    }
    // An output and its verdict that waited for this request (another tenant's request under the
    // id came first, see withheld): decided once the request is read.
    boolean waitedForRequest =
        entry.output() != null
            && entry.verdict() != null
            && withheld(entry, request.getRequestId(), tenant) != null;
    GenerationOutput output =
        entry.output() == null ? null : Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
    ModerationVerdict verdict =
        entry.verdict() == null ? null : Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
    boolean keepOutput = output == null || output.getTenantId().equals(tenant);
    boolean keepVerdict = verdict == null || verdict.getTenantId().equals(tenant);
    RecordMetadata source = context.recordMetadata().orElseThrow();
    if (!keepOutput) {
      evicted(
          Topics.GENERATION_OUTPUTS.name(),
          source,
          record.key(),
          entry.output(),
          otherTenantReason("output " + output.getOutputId(), output.getTenantId(), request));
    }
    if (!keepVerdict) {
      evicted(
          Topics.MODERATION_VERDICTS.name(),
          source,
          record.key(),
          entry.verdict(),
          otherTenantReason("verdict " + verdict.getVerdictId(), verdict.getTenantId(), request));
    }
    GateEntry kept = entry.withRequestTenant(tenant, keepOutput, keepVerdict, now);
    store.put(requestId, kept);
    GateEntry beside = store.get(contenderKey(requestId));
    if (beside != null) {
      contendersOnRequest(requestId, kept, beside, request, source, record, now);
    }
    if (waitedForRequest) {
      GateEntry waited = store.get(requestId);
      if (waited != null
          && waited.state() == GateEntry.State.WAITING
          && waited.output() != null
          && waited.verdict() != null) {
        decideIfComplete(requestId, waited);
      }
    }
  }

  /**
   * The output waiting beside the first ({@code beside}) when the request of {@code kept} comes:
   * dead-lettered under another tenant, or taking the first's place if that was another tenant's.
   */
  private void contendersOnRequest(
      String requestId,
      GateEntry kept,
      GateEntry beside,
      GenerationRequest request,
      RecordMetadata source,
      Record<byte[], byte[]> record,
      long now) {
    String tenant = request.getTenantId();
    GenerationOutput other = Topics.GENERATION_OUTPUTS.codec().decode(beside.output());
    if (!other.getTenantId().equals(tenant)) {
      store.delete(contenderKey(requestId));
      evicted(
          Topics.GENERATION_OUTPUTS.name(),
          source,
          record.key(),
          beside.output(),
          otherTenantReason("output " + other.getOutputId(), other.getTenantId(), request),
          "beside");
      if (beside.verdict() != null) {
        evicted(
            Topics.MODERATION_VERDICTS.name(),
            source,
            record.key(),
            beside.verdict(),
            otherTenantReason(
                "verdict of output " + other.getOutputId(), other.getTenantId(), request),
            "beside");
      }
    } else if (kept.output() == null) {
      // The first output was a copy under another tenant: the one beside it takes its place.
      decideIfComplete(requestId, promoted(requestId, kept, beside, now));
    }
  }

  private static String otherTenantReason(String what, String tenant, GenerationRequest request) {
    return otherTenantReason(what, tenant, request.getRequestId(), request.getTenantId());
  }

  /** The reason a dead letter of an output or verdict under another tenant gives. */
  static String otherTenantReason(
      String what, String tenant, String requestId, String requestTenant) {
    return "not this request's: "
        + what
        + " came under tenant "
        + LogText.quoted(tenant)
        + ", but request "
        + LogText.quoted(requestId)
        + " is tenant "
        + LogText.quoted(requestTenant)
        + "'s (gen.requests): a copy re-published under another tenant; the request waits for its"
        + " own";
  }

  /** Dead-letters the output or verdict just read: under another tenant than its request's. */
  private void otherTenant(RecordMetadata source, Record<byte[], byte[]> record, String reason) {
    count(record.key());
    deadLetter(source, record, new IllegalStateException(reason));
  }

  /**
   * Dead-letters an output or verdict the store kept for the request {@code request} (the record
   * read) came for under another tenant: its offset is not known (-1), and the dead letter's event
   * id is made from the request's record instead, and {@code which} where given (the output waiting
   * beside the first: "beside").
   */
  private void evicted(
      String topic,
      RecordMetadata request,
      byte[] key,
      byte[] payload,
      String reason,
      String... which) {
    count(key);
    List<String> idParts = new ArrayList<>();
    idParts.add("dlq-other-tenant");
    idParts.add(topic);
    idParts.add(Integer.toString(request.partition()));
    idParts.add(request.topic() + "@" + request.offset());
    idParts.addAll(List.of(which));
    deadLetter(
        topic,
        request.partition(),
        -1,
        key,
        payload,
        new IllegalStateException(reason),
        EventIds.nameBased(idParts.toArray(String[]::new)));
  }

  /**
   * Dead-letters a forged output or its verdict that the store kept: its offset is not known (-1),
   * and the dead letter's event id is made from the record read now, and {@code which} (the first
   * output's, or the one beside it).
   */
  private void forgedOut(
      String topic, String requestId, byte[] payload, String reason, String which) {
    RecordMetadata now = context.recordMetadata().orElseThrow();
    requestId = requestIdOf(requestId);
    if (forgedOutputs++ == 0) {
      firstForged = requestId;
    }
    deadLetter(
        topic,
        now.partition(),
        -1,
        requestId.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        payload,
        new IllegalStateException(reason),
        EventIds.nameBased(
            "dlq-forged",
            topic,
            Integer.toString(now.partition()),
            now.topic() + "@" + now.offset(),
            which));
  }

  /** The reason a dead letter of a forged output gives. */
  static String forgedReason(GenerationOutput output, ModerationVerdict verdict) {
    return "not this request's: output "
        + output.getOutputId()
        + " carries a provenance manifest that verdict "
        + verdict.getVerdictId()
        + " found INVALID (forged, or altered after it was signed): it does not take request "
        + LogText.quoted(output.getRequestId())
        + ", which waits for its own output";
  }

  /** The reason a dead letter of a forged output's verdict gives. */
  static String forgedVerdictReason(ModerationVerdict verdict) {
    return "not this request's: verdict "
        + verdict.getVerdictId()
        + " found the provenance manifest of output "
        + verdict.getOutputId()
        + " INVALID (forged, or altered after it was signed): it decides nothing for request "
        + LogText.quoted(verdict.getRequestId())
        + ", which waits for its own output";
  }

  /**
   * Dead-letters the forged output {@code entry} holds, with its verdict, and returns the entry
   * without them (the request's tenant kept), for another output to take.
   */
  private GateEntry withoutForged(
      String requestId,
      GateEntry entry,
      GenerationOutput output,
      ModerationVerdict verdict,
      long now) {
    forgedOut(
        Topics.GENERATION_OUTPUTS.name(),
        requestId,
        entry.output(),
        forgedReason(output, verdict),
        "first");
    forgedOut(
        Topics.MODERATION_VERDICTS.name(),
        requestId,
        entry.verdict(),
        forgedVerdictReason(verdict),
        "first");
    return entry.withRequestTenant(entry.requestTenant(), false, false, now);
  }

  /**
   * The output that waited beside the first takes its place in {@code open} (an entry without an
   * output), with its verdict if that came; the entry beside is deleted.
   */
  private GateEntry promoted(String requestId, GateEntry open, GateEntry beside, long now) {
    store.delete(contenderKey(requestId));
    GateEntry promoted = open.withOutput(beside.outputId(), beside.output(), now);
    if (beside.verdict() != null) {
      if (promoted.verdict() != null) {
        // A verdict that waited without its output: the one beside came with its own.
        promoted = promoted.withRequestTenant(promoted.requestTenant(), true, false, now);
      }
      promoted = promoted.withVerdict(beside.verdict(), now);
    }
    return promoted;
  }

  /** Deletes the output waiting beside the request's first, if one does. */
  private void dropContender(String requestId) {
    String key = contenderKey(requestId);
    if (store.get(key) != null) {
      store.delete(key);
    }
  }

  /** Whether {@code output} is the one {@code held} encodes: the same id and text. */
  private static boolean sameOutput(byte[] held, GenerationOutput output) {
    GenerationOutput kept = Topics.GENERATION_OUTPUTS.codec().decode(held);
    return kept.getOutputId().equals(output.getOutputId())
        && kept.getText().equals(output.getText());
  }

  private void count(byte[] key) {
    if (otherTenants++ == 0) {
      firstOtherTenant =
          key == null ? null : new String(key, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  private void onOutput(
      GenerationOutput output, RecordMetadata source, Record<byte[], byte[]> record) {
    byte[] bytes = record.value();
    String requestId = storeKey(output.getRequestId(), output.getTenantId());
    GateEntry entry = current(requestId);
    if (entry.requestTenant() != null && !entry.requestTenant().equals(output.getTenantId())) {
      otherTenant(
          source,
          record,
          otherTenantReason(
              "output " + output.getOutputId(),
              output.getTenantId(),
              output.getRequestId(),
              entry.requestTenant()));
      return;
    }
    if (entry.state() == GateEntry.State.ERASED && entry.outputId() == null) {
      // Erased before its output came: quarantined without the text, like a held one. The marker
      // keeps no cause (the store's format predates it), so the reason names both.
      String key = erasedKey(requestId, entry, output);
      GateEntry own = key.equals(requestId) ? entry : entry.erased(clock.millis(), null);
      publish(key, own, erased(key, output, null, null), output.getOutputId());
      return;
    }
    if (keepsForgedOut
        && entry.state() == GateEntry.State.WAITING
        && entry.output() != null
        && !sameOutput(entry.output(), output)) {
      if (entry.verdict() == null
          || withheld(entry, output.getRequestId(), output.getTenantId()) != null) {
        // Another output while the first waits for its verdict, or with it for its own request
        // (withheld, see decideIfComplete): the first may be forged or a copy, or genuine. Whether
        // it is forged is decided once its request comes; until then this one waits beside it.
        waitBeside(requestId, output, record.value());
        return;
      }
      // The first is forged (its verdict came and kept it from the request, see decideIfComplete;
      // the only other entry waiting with an output and its verdict is a withheld one, above):
      // this one takes its place.
      entry =
          withoutForged(
              requestId,
              entry,
              Topics.GENERATION_OUTPUTS.codec().decode(entry.output()),
              Topics.MODERATION_VERDICTS.codec().decode(entry.verdict()),
              clock.millis());
    }
    if (entry.output() != null || entry.state() != GateEntry.State.WAITING) {
      // Duplicate delivery, or already decided: an output the audit service sent again included.
      if (ignoredOutputs++ == 0) {
        firstIgnored = requestIdOf(requestId);
      }
      restate(requestId, entry, output);
      return;
    }
    long now = clock.millis();
    String outside = outsideMemory(output, now);
    if (outside != null) {
      // The gate may have decided this request and forgotten it (a copy sent again, a replay after
      // lost offsets), or could not tell a later copy from a new output: it never decides it. Nor
      // does it publish the text: it has forgotten whether the request was erased since, and an
      // outcome is a new record, which would bring erased content back to the audit store.
      publish(
          requestId,
          entry,
          ReleaseGateOutcome.newBuilder(
                  outcome(
                      requestId,
                      output,
                      null,
                      GateOutcome.QUARANTINED,
                      GateBasis.INTEGRITY,
                      null,
                      List.of(outside, OUTSIDE_MEMORY_WITHOUT_TEXT)))
              .setText("")
              .setAttributes(Map.of())
              .build(),
          output.getOutputId());
      LOG.warn(
          "Quarantined the output of request {}: generated at {}, outside the gate's memory of"
              + " decisions",
          LogText.quoted(output.getRequestId()),
          output.getGeneratedAt());
      return;
    }
    decideIfComplete(requestId, entry.withOutput(output.getOutputId(), bytes, now));
  }

  /**
   * The store key under which {@code output}, erased before it came, is quarantined: the key it
   * found ({@code key}), or from format 4, where that is an erased marker under the request id
   * alone whose tenant is unknown (a tenantless erasure's, which erased every tenant's records of
   * the request), the output's tenant's own key, so that the marker stays for every other tenant's
   * output, each of which gets its own outcome (its event id with its tenant), instead of finding
   * the first one's decision.
   */
  private String erasedKey(String key, GateEntry marker, GenerationOutput output) {
    if (stateFormat < TENANT_KEYED_FORMAT
        || !key.equals(output.getRequestId())
        || marker.requestTenant() != null) {
      return key;
    }
    return key + TENANT_SEPARATOR + output.getTenantId();
  }

  /**
   * Keeps an output that came while the request's first output waits for its verdict, so that it
   * takes the request if the first turns out forged ({@link #forged}). One at most: a copy of it, a
   * third output, or one outside the gate's memory is ignored, as a second output was before.
   */
  private void waitBeside(String requestId, GenerationOutput output, byte[] bytes) {
    String key = contenderKey(requestId);
    long now = clock.millis();
    if (store.get(key) == null && outsideMemory(output, now) == null) {
      store.put(key, GateEntry.empty().withOutput(output.getOutputId(), bytes, now));
      return;
    }
    if (ignoredOutputs++ == 0) {
      firstIgnored = requestIdOf(requestId);
    }
  }

  /**
   * Answers a copy of an output the gate holds or decided, never by deciding again, so that an
   * audit store that lost the outcome learns it (the audit service sends an output again when it
   * found none): a held output's hold is written again as it was (the same event, to
   * review.pending); a decided one is restated from the store's marker, to gate.restatements,
   * naming the outcome written then (so that the audit store can take a release down by it). A copy
   * of another output of the request (a second output, which exactly-once rules out) and a copy of
   * one still waiting for its verdict get nothing.
   */
  private void restate(String key, GateEntry entry, GenerationOutput copy) {
    if (!copy.getOutputId().equals(entry.outputId())) {
      return;
    }
    String requestId = copy.getRequestId();
    if (entry.state() == GateEntry.State.HELD) {
      GenerationOutput held = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
      ModerationVerdict verdict =
          entry.verdict() == null
              ? null
              : Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
      ReleaseGateOutcome hold =
          ReleaseGateOutcome.newBuilder(
                  outcome(
                      key,
                      held,
                      verdict,
                      GateOutcome.HELD_FOR_REVIEW,
                      verdict == null ? GateBasis.VERDICT_TIMEOUT : GateBasis.VERDICT,
                      null,
                      verdict == null ? List.of(noVerdictReason()) : reasonTexts(verdict)))
              .setDecidedAt(Instant.ofEpochMilli(entry.sinceMillis()))
              .build();
      context.forward(
          new Record<>(requestId, fitted(hold).bytes(), clock.millis()),
          ReleaseGateTopology.sinkName(Topics.REVIEW_PENDING));
    } else if (entry.state().isFinal()) {
      GateDecisionRestated restated =
          GateDecisionRestated.newBuilder()
              .setEventId(restatementId(key, copy, entry))
              .setRequestId(requestId)
              .setTenantId(copy.getTenantId())
              .setOutputId(entry.outputId())
              .setDecision(RestatedDecision.valueOf(entry.state().name()))
              .setDecidedAt(Instant.ofEpochMilli(entry.sinceMillis()))
              .setRestatedAt(Instant.ofEpochMilli(clock.millis()))
              .setOutcomeEventId(entry.outcomeEventId())
              .setOutcomeBasis(
                  entry.outcomeBasis() == null ? null : GateBasis.valueOf(entry.outcomeBasis()))
              .build();
      context.forward(
          new Record<>(
              requestId, Topics.GATE_RESTATEMENTS.codec().encode(restated), clock.millis()),
          ReleaseGateTopology.sinkName(Topics.GATE_RESTATEMENTS));
    }
  }

  /** The event id of the restatement of {@code entry}'s decision (see {@link #idTenant}). */
  private String restatementId(String key, GenerationOutput copy, GateEntry entry) {
    String requestId = copy.getRequestId();
    String tenant = idTenant(key, requestId, copy.getTenantId());
    return tenant == null
        ? EventIds.nameBased("gate-restated", requestId, entry.outputId(), entry.state().name())
        : EventIds.nameBased(
            "gate-restated", requestId, tenant, entry.outputId(), entry.state().name());
  }

  /**
   * Why the gate cannot decide the output, by when it was generated, or null when it can. A
   * decision is remembered for the retention from when it was made; for an output generated up to
   * {@link GateTimings#CLOCK_SKEW_ALLOWANCE} ahead of the gate's clock and at most {@link
   * GateTimings#decisionHorizon} ago, every copy that comes while its decision is forgotten is
   * older than the horizon, so the gate never decides one twice.
   */
  /** The second reason of a quarantine outside the gate's memory: why it carries no text. */
  static final String OUTSIDE_MEMORY_WITHOUT_TEXT =
      "its text and attributes are left out: the gate no longer knows whether the request was"
          + " erased since (the audit store has the output as it was recorded, unless erased)";

  private String outsideMemory(GenerationOutput output, long now) {
    long generated = output.getGeneratedAt().toEpochMilli();
    if (generated < now - timings.decisionHorizon().toMillis()) {
      return "integrity: generated at "
          + output.getGeneratedAt()
          + ", more than "
          + timings.decisionHorizon().toMinutes()
          + " minutes ago (the gate's decision retention, "
          + timings.decisionRetention().toHours()
          + " h, less "
          + GateTimings.CLOCK_SKEW_ALLOWANCE.toMinutes()
          + " minutes for clock skew): the gate may have decided this request and forgotten it,"
          + " so it does not decide it again";
    }
    if (generated > now + GateTimings.CLOCK_SKEW_ALLOWANCE.toMillis()) {
      return "integrity: generated at "
          + output.getGeneratedAt()
          + ", more than "
          + GateTimings.CLOCK_SKEW_ALLOWANCE.toMinutes()
          + " minutes ahead of the gate's clock ("
          + Instant.ofEpochMilli(now)
          + "): the gate could not tell a copy that comes after it forgot its decision from a"
          + " new output, so it does not decide it";
    }
    return null;
  }

  private void onVerdict(
      ModerationVerdict verdict, RecordMetadata source, Record<byte[], byte[]> record) {
    String requestId = storeKey(verdict.getRequestId(), verdict.getTenantId());
    GateEntry entry = current(requestId);
    if (entry.requestTenant() != null && !entry.requestTenant().equals(verdict.getTenantId())) {
      otherTenant(
          source,
          record,
          otherTenantReason(
              "verdict " + verdict.getVerdictId(),
              verdict.getTenantId(),
              verdict.getRequestId(),
              entry.requestTenant()));
      return;
    }
    if (keepsForgedOut && entry.state() == GateEntry.State.WAITING && entry.output() != null) {
      GateEntry beside = store.get(contenderKey(requestId));
      if (beside != null) {
        GenerationOutput other = Topics.GENERATION_OUTPUTS.codec().decode(beside.output());
        GenerationOutput first = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
        if (integrityMismatch(other, verdict) == null
            && integrityMismatch(first, verdict) != null) {
          // The verdict of the output waiting beside the first.
          if (beside.verdict() != null) {
            // Read again (a moderation job restored from an older savepoint judges again): a
            // repeated verdict never decides twice, nor the first output, which is not its own.
            return;
          }
          if (forged(verdict)) {
            store.delete(contenderKey(requestId));
            forgedOut(
                Topics.GENERATION_OUTPUTS.name(),
                requestId,
                beside.output(),
                forgedReason(other, verdict),
                "beside");
            forgedOutputs++;
            deadLetter(source, record, new IllegalStateException(forgedVerdictReason(verdict)));
          } else {
            store.put(
                contenderKey(requestId),
                beside.withVerdict(
                    Topics.MODERATION_VERDICTS.codec().encode(slim(verdict)), clock.millis()));
          }
          return;
        }
      }
    }
    boolean awaited =
        (entry.state() == GateEntry.State.WAITING && entry.verdict() == null)
            || entry.heldWithoutVerdict();
    if (!awaited) {
      return; // a repeated verdict never decides twice
    }
    // The slim verdict goes on as it is: decoding the bytes just encoded gives an equal one.
    ModerationVerdict kept = slim(verdict);
    decideIfComplete(
        requestId,
        entry.withVerdict(Topics.MODERATION_VERDICTS.codec().encode(kept), clock.millis()),
        kept);
  }

  /**
   * The verdict with only what the gate reads (ids, hash, decision, reasons, policy). The rest, the
   * output's attributes above all, would otherwise sit in the store next to the output itself, and
   * a held entry could then outgrow what the changelog accepts. Made with the all-fields
   * constructor from the fields kept, which it shares with {@code verdict} (a builder copied from
   * the verdict deep-copied every field, the dropped ones too, for a verdict decoded for this one
   * record and never changed): a field added to the schema fails to compile here until it is
   * placed. The fields it shares are immutable (strings, an enum, boxed numbers) but for the
   * reasons, an Avro array of Avro records that can be changed: it gets a list of its own, an
   * unmodifiable one of copies ({@link #ownReasons}), so that no change of {@code verdict} reaches
   * the verdict the gate decides on and stores.
   */
  static ModerationVerdict slim(ModerationVerdict verdict) {
    return new ModerationVerdict(
        verdict.getEventId(),
        verdict.getVerdictId(),
        verdict.getOutputId(),
        verdict.getRequestId(),
        verdict.getTenantId(),
        verdict.getOutputSha256(),
        verdict.getDecision(),
        ownReasons(verdict.getReasons()),
        verdict.getUnsafeScore(),
        Map.of(),
        List.of(),
        null,
        verdict.getTextTruncated(),
        verdict.getPolicyId(),
        verdict.getPolicyVersion(),
        verdict.getPolicySha256(),
        Map.of(),
        null,
        Map.of(),
        verdict.getDecidedAt());
  }

  /**
   * An unmodifiable list of copies of {@code reasons}, made with the all-fields constructor (the
   * fields are immutable values): a field added to {@link Reason} fails to compile here until it is
   * placed. A verdict has a few reasons, so this is a few small objects per verdict.
   */
  private static List<Reason> ownReasons(List<Reason> reasons) {
    Reason[] copies = new Reason[reasons.size()];
    for (int i = 0; i < copies.length; i++) {
      Reason reason = reasons.get(i);
      copies[i] =
          new Reason(
              reason.getCode(),
              reason.getDecision(),
              reason.getCategory(),
              reason.getScore(),
              reason.getThreshold(),
              reason.getMessage());
    }
    return List.of(copies);
  }

  private static void requireBoundedIds(String requestId, String outputId) {
    requireBoundedId("request id", requestId);
    requireBoundedId("output id", outputId);
  }

  private static void requireBoundedId(String what, String id) {
    int bytes = id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > MAX_ID_BYTES) {
      throw new EventDecodingException(
          "The " + what + " has " + bytes + " bytes; the gate accepts at most " + MAX_ID_BYTES);
    }
    if (id.indexOf(CONTENDER_SEPARATOR) >= 0) {
      // Its store keys are request ids, and the key of an output waiting beside a request's first
      // one is the request id, this character and more: no id may hold it.
      throw new EventDecodingException("The " + what + " holds a NUL character");
    }
  }

  /**
   * What ends a request id in the key of the output waiting beside its first ({@link
   * #contenderKey}).
   */
  static final char CONTENDER_SEPARATOR = '\u0000';

  /**
   * The store key of the output that waits beside the request's first one while that waits for its
   * verdict (at most one: a flood of outputs keeps two entries); no request id holds its separator.
   */
  static String contenderKey(String requestId) {
    return requestId + CONTENDER_SEPARATOR + "contender";
  }

  private static boolean isContenderKey(String key) {
    return key.indexOf(CONTENDER_SEPARATOR) >= 0;
  }

  /**
   * The state format from which the store is keyed by request id and tenant ({@link #storeKey}).
   */
  static final int TENANT_KEYED_FORMAT = 4;

  /**
   * What ends a request id in the store key of one tenant's entry for it (format 4: {@link
   * #storeKey}); no request id holds it.
   */
  static final char TENANT_SEPARATOR = '\u0001';

  /**
   * The key of the request's entry for {@code tenant}. Below format 4 the request id itself: one
   * entry a request id, its first request's tenant's. From format 4 the request id, {@link
   * #TENANT_SEPARATOR} and the tenant, so that two tenants' requests under one id are decided each
   * on its own; but an entry an earlier gate wrote under the request id alone is still found and
   * used (the request goes on as before the upgrade, until the sweep forgets it) where the tenant
   * has no entry of its own and the old one is not known to be another tenant's, so that an upgrade
   * with requests in flight loses none and decides none twice. An earlier gate's entry for a
   * request id holding the separator, under the same key, is not taken for the pair's: see {@link
   * #earlierRequests}.
   */
  private String storeKey(String requestId, String tenant) {
    if (stateFormat < TENANT_KEYED_FORMAT) {
      return requestId;
    }
    String key = requestId + TENANT_SEPARATOR + tenant;
    GateEntry own = store.get(key);
    if (own != null) {
      if (!earlierRequests(requestId, tenant, own)) {
        return key;
      }
      retireEarlierRequest(key, own, requestId, tenant);
    }
    GateEntry old = store.get(requestId);
    if (old != null && (old.requestTenant() == null || old.requestTenant().equals(tenant))) {
      return requestId;
    }
    return key;
  }

  /** The request id of a stored output, read without the rest of it ({@link #earlierRequests}). */
  private static final EventCodec<GenerationOutput>.StringField OUTPUT_REQUEST_ID =
      Topics.GENERATION_OUTPUTS.codec().stringField("requestId");

  /** The request id of a stored verdict, read without the rest of it. */
  private static final EventCodec<ModerationVerdict>.StringField VERDICT_REQUEST_ID =
      Topics.MODERATION_VERDICTS.codec().stringField("requestId");

  /**
   * Whether {@code entry}, under the key format 4 gives request {@code requestId} of {@code
   * tenant}, is not that pair's but an earlier gate's entry for the request whose id is that key (a
   * gate below format 4 accepted request ids holding {@link #TENANT_SEPARATOR}): told apart by the
   * request id of the output or verdict it holds, or where it holds neither, by its request's
   * tenant (the pair's entry names the pair's tenant or none). An entry that holds neither and
   * names the pair's tenant or none (a request read, a final or erased marker) cannot be told apart
   * and is taken for the pair's; the sweep forgets an earlier gate's such entry after the
   * retention.
   */
  private static boolean earlierRequests(String requestId, String tenant, GateEntry entry) {
    // Only the request id is read, not the whole event: this runs for every record whose pair has
    // an entry, and a full decode (text included) cost about as much as the record's own decode.
    if (entry.output() != null) {
      return !OUTPUT_REQUEST_ID.read(entry.output()).equals(requestId);
    }
    if (entry.verdict() != null) {
      return !VERDICT_REQUEST_ID.read(entry.verdict()).equals(requestId);
    }
    return entry.requestTenant() != null && !entry.requestTenant().equals(tenant);
  }

  /**
   * Takes an earlier gate's entry for the request whose id is {@code key} ({@link
   * #earlierRequests}) out of the way of request {@code requestId} of {@code tenant}: no record of
   * that request is read at format 4 (its id holds the separator), so the output it holds, and one
   * waiting beside it, is quarantined (basis INTEGRITY, never decided; a hold written for it is
   * closed so), a verdict or request it holds is forgotten, and its key is the pair's from now.
   */
  private void retireEarlierRequest(String key, GateEntry entry, String requestId, String tenant) {
    GateEntry beside = store.get(contenderKey(key));
    if (beside != null) {
      store.delete(contenderKey(key));
      quarantineEarlier(key, beside.output(), requestId, tenant);
    }
    if (entry.output() != null) {
      quarantineEarlier(key, entry.output(), requestId, tenant);
    }
    store.delete(key);
    LOG.warn(
        "Request {} (its id holds U+0001, which state format {} refuses) had an entry from an"
            + " earlier gate under the key of request {} of tenant {}: {} ({}), taken out of that"
            + " pair's way",
        LogText.quoted(key),
        stateFormat,
        LogText.quoted(requestId),
        LogText.quoted(tenant),
        entry.state(),
        entry.output() != null || beside != null ? "its output quarantined" : "forgotten");
  }

  private void quarantineEarlier(String key, byte[] held, String requestId, String tenant) {
    GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(held);
    ReleaseGateOutcome quarantined =
        outcome(
            key,
            output,
            null,
            GateOutcome.QUARANTINED,
            GateBasis.INTEGRITY,
            null,
            List.of(earlierRequestReason(output.getRequestId(), requestId, tenant)));
    context.forward(
        new Record<>(output.getRequestId(), fitted(quarantined).bytes(), clock.millis()),
        ReleaseGateTopology.sinkName(Topics.CONTENT_QUARANTINED));
  }

  /**
   * The reason of the quarantine of an output {@link #retireEarlierRequest} takes out of the way.
   */
  static String earlierRequestReason(String earlierId, String requestId, String tenant) {
    return "integrity: request id "
        + LogText.quoted(earlierId)
        + " holds U+0001, which the gate refuses from state format 4; the entry an earlier gate"
        + " kept for it is under the key format 4 gives request "
        + LogText.quoted(requestId)
        + " of tenant "
        + LogText.quoted(tenant)
        + ", so its output is quarantined, never decided, when that request's records come";
  }

  /** The request id of a store key (either layout, or a contender's). */
  static String requestIdOf(String key) {
    int end = key.length();
    int tenant = key.indexOf(TENANT_SEPARATOR);
    int contender = key.indexOf(CONTENDER_SEPARATOR);
    if (tenant >= 0) {
      end = tenant;
    }
    if (contender >= 0 && contender < end) {
      end = contender;
    }
    return key.substring(0, end);
  }

  /**
   * From format 4, a request id and tenant that make a store key no other pair makes: no request id
   * holds {@link #TENANT_SEPARATOR}, and no tenant {@link #CONTENDER_SEPARATOR} (a tenant's key
   * would be another's contender key) or the separator.
   */
  private void requireKeyable(String requestId, String tenant) {
    if (stateFormat < TENANT_KEYED_FORMAT || keyable(requestId, tenant)) {
      return;
    }
    throw new EventDecodingException(
        "The request id holds a U+0001 character, or the tenant id a U+0000 or U+0001 character:"
            + " the gate keys its store by both");
  }

  private static boolean keyable(String requestId, String tenant) {
    return requestId.indexOf(TENANT_SEPARATOR) < 0
        && (tenant == null
            || (tenant.indexOf(TENANT_SEPARATOR) < 0 && tenant.indexOf(CONTENDER_SEPARATOR) < 0));
  }

  /**
   * Whether the verdict found the output's provenance manifest INVALID (its signature does not
   * verify, or it was signed for another output or tenant) and the policy does not release it for
   * that: a forged output, which does not take its request. A manifest signed with a key the job
   * does not know is another reason ({@code provenance.manifest_unknown_key}, not tampering) and
   * takes the request as before.
   */
  static boolean forged(ModerationVerdict verdict) {
    for (Reason reason : verdict.getReasons()) {
      if (ReasonCodes.MANIFEST_INVALID.equals(reason.getCode())
          && reason.getDecision() != Decision.RELEASE) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why {@code verdict} must not decide {@code output}, or null when it may: it judged another
   * output or other text, or the same output re-published under another tenant, which is judged
   * under that tenant's policy (its manifest is INVALID there when it is a v2 one, which binds the
   * tenant; a v1 manifest, signed before, does not).
   */
  private static String integrityMismatch(GenerationOutput output, ModerationVerdict verdict) {
    String actualHash = ContentHash.sha256Hex(output.getText());
    if (!verdict.getOutputId().equals(output.getOutputId())
        || !verdict.getOutputSha256().equals(actualHash)) {
      return "the verdict judged output "
          + verdict.getOutputId()
          + " with hash "
          + verdict.getOutputSha256()
          + ", but output "
          + output.getOutputId()
          + " has hash "
          + actualHash;
    }
    if (!verdict.getTenantId().equals(output.getTenantId())) {
      return "the verdict judged output "
          + verdict.getOutputId()
          + " for tenant "
          + LogText.quoted(verdict.getTenantId())
          + ", but the output is tenant "
          + LogText.quoted(output.getTenantId())
          + "'s";
    }
    return null;
  }

  private void decideIfComplete(String requestId, GateEntry entry) {
    decideIfComplete(requestId, entry, null);
  }

  /**
   * As above, with the verdict {@code entry} holds already decoded ({@code decoded}; null: decoded
   * here from the entry).
   */
  private void decideIfComplete(String requestId, GateEntry entry, ModerationVerdict decoded) {
    if (entry.output() == null || entry.verdict() == null) {
      store.put(requestId, entry);
      return;
    }
    GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
    if (withheld(entry, output.getRequestId(), output.getTenantId()) != null) {
      // Another tenant's request under the id came, this tenant's has not: it waits for its own
      // request (a copy under another tenant's name would otherwise be decided on its own verdict),
      // and is dead-lettered as a copy if that does not come within the verdict timeout (sweep).
      store.put(requestId, entry);
      return;
    }
    ModerationVerdict verdict =
        decoded != null ? decoded : Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
    if (keepsForgedOut && entry.state() == GateEntry.State.WAITING && forged(verdict)) {
      long now = clock.millis();
      if (integrityMismatch(output, verdict) != null) {
        // The verdict of another output, a forged one the gate did not keep: not this output's,
        // which waits for its own.
        forgedOut(
            Topics.MODERATION_VERDICTS.name(),
            requestId,
            entry.verdict(),
            forgedVerdictReason(verdict),
            "first");
        store.put(requestId, entry.withRequestTenant(entry.requestTenant(), true, false, now));
        return;
      }
      GateEntry beside = store.get(contenderKey(requestId));
      if (beside != null) {
        GateEntry open = withoutForged(requestId, entry, output, verdict, now);
        decideIfComplete(requestId, promoted(requestId, open, beside, now));
        return;
      }
      // Forged, with no other output yet: it keeps its verdict and waits, the clock started again,
      // so that an output that comes within the verdict timeout takes the request (onOutput); the
      // sweep decides it on its verdict after that, so that the request still ends.
      store.put(requestId, entry.clockStarted(now));
      return;
    }
    decide(requestId, entry, output, verdict);
  }

  /**
   * From format 4, the tenant of another request under {@code requestId} that the gate read (its
   * entry knows its request's tenant) when {@code entry}, this tenant's, waits without its own
   * request; null otherwise. Such an output is not decided until its request comes: keyed by
   * request id and tenant, a copy of one tenant's output re-published under another tenant would
   * have an entry of its own and be decided on that tenant's verdict (a v1 manifest names no
   * tenant), where below format 4 it is dead-lettered as not the request's. An output that comes
   * before any request of its id is decided on its verdict, as below format 4.
   */
  private String withheld(GateEntry entry, String requestId, String tenant) {
    if (stateFormat < TENANT_KEYED_FORMAT
        || entry.state() != GateEntry.State.WAITING
        || entry.requestTenant() != null) {
      return null;
    }
    GateEntry old = store.get(requestId);
    if (old != null && old.requestTenant() != null && !old.requestTenant().equals(tenant)) {
      return old.requestTenant();
    }
    for (KeyValue<String, GateEntry> next : tenantEntries(requestId)) {
      String other = next.value.requestTenant();
      if (other != null && !other.equals(tenant)) {
        return other;
      }
    }
    return null;
  }

  /**
   * From format 4, the entries keyed by {@code requestId} and a tenant (not the outputs kept beside
   * them, nor an earlier gate's entry of another request under such a key: {@link
   * #earlierRequests}), in key order.
   */
  private List<KeyValue<String, GateEntry>> tenantEntries(String requestId) {
    List<KeyValue<String, GateEntry>> entries = new ArrayList<>();
    // range's upper bound is inclusive: the request id followed by U+0002 is another request's
    // key, so only keys that start with the request id and the separator are this request's.
    String prefix = requestId + TENANT_SEPARATOR;
    try (KeyValueIterator<String, GateEntry> tenants =
        store.range(prefix, requestId + (char) (TENANT_SEPARATOR + 1))) {
      while (tenants.hasNext()) {
        KeyValue<String, GateEntry> next = tenants.next();
        if (next.key.startsWith(prefix)
            && !isContenderKey(next.key)
            && !earlierRequests(requestId, next.key.substring(prefix.length()), next.value)) {
          entries.add(next);
        }
      }
    }
    return entries;
  }

  /**
   * Dead-letters, as a copy re-published under another tenant (the reason format 3 gives), an
   * output that waited the verdict timeout for its own request while {@code other}'s request under
   * the id was read ({@link #withheld}), with its verdict and any output beside it and that one's
   * verdict, and forgets its entry: its tenant's request, if it comes later, waits for an output of
   * its own. From the sweep, where no record is read: the dead letters' event ids are made from the
   * key.
   */
  private void unrequested(String key, GateEntry entry, GenerationOutput output, String other) {
    String outputId = output.getOutputId();
    unrequestedLetter(
        output,
        other,
        Topics.GENERATION_OUTPUTS.name(),
        "output " + outputId,
        outputId,
        entry.output());
    if (entry.verdict() != null) {
      String verdictId = Topics.MODERATION_VERDICTS.codec().decode(entry.verdict()).getVerdictId();
      unrequestedLetter(
          output,
          other,
          Topics.MODERATION_VERDICTS.name(),
          "verdict " + verdictId,
          verdictId,
          entry.verdict());
    }
    GateEntry beside = store.get(contenderKey(key));
    if (beside != null) {
      String besideId = Topics.GENERATION_OUTPUTS.codec().decode(beside.output()).getOutputId();
      unrequestedLetter(
          output,
          other,
          Topics.GENERATION_OUTPUTS.name(),
          "output " + besideId,
          besideId + "/beside",
          beside.output());
      if (beside.verdict() != null) {
        // Its verdict, kept beside it (onVerdict): dead-lettered with it, not dropped.
        String besideVerdictId =
            Topics.MODERATION_VERDICTS.codec().decode(beside.verdict()).getVerdictId();
        unrequestedLetter(
            output,
            other,
            Topics.MODERATION_VERDICTS.name(),
            "verdict of output " + besideId,
            besideVerdictId + "/beside",
            beside.verdict());
      }
      store.delete(contenderKey(key));
    }
    store.delete(key);
  }

  /**
   * Dead-letters one record {@link #unrequested} lets go ({@code what}, of {@code topic}), under
   * {@code output}'s tenant, whose request did not come while {@code other}'s did; {@code idPart}
   * tells its dead letter's event id from the others'.
   */
  private void unrequestedLetter(
      GenerationOutput output,
      String other,
      String topic,
      String what,
      String idPart,
      byte[] payload) {
    String requestId = output.getRequestId();
    String tenant = output.getTenantId();
    byte[] recordKey = requestId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    count(recordKey);
    deadLetter(
        topic,
        context.taskId().partition(),
        -1,
        recordKey,
        payload,
        new IllegalStateException(otherTenantReason(what, tenant, requestId, other)),
        EventIds.nameBased("dlq-unrequested", topic, requestId, tenant, idPart));
  }

  /** Decides the output on its verdict (paired in {@code entry}). */
  private void decide(
      String requestId, GateEntry entry, GenerationOutput output, ModerationVerdict verdict) {
    String mismatch = integrityMismatch(output, verdict);
    if (mismatch != null) {
      publish(
          requestId,
          entry,
          outcome(
              requestId,
              output,
              verdict,
              GateOutcome.QUARANTINED,
              GateBasis.INTEGRITY,
              null,
              List.of("integrity: " + mismatch)));
      return;
    }
    List<String> reasons = reasonTexts(verdict);
    GateOutcome outcome =
        switch (verdict.getDecision()) {
          case RELEASE -> GateOutcome.RELEASED;
          case BLOCK -> GateOutcome.QUARANTINED;
          case REVIEW -> GateOutcome.HELD_FOR_REVIEW;
          default -> throw new IllegalStateException("Unknown decision " + verdict.getDecision());
        };
    publish(
        requestId,
        entry,
        outcome(requestId, output, verdict, outcome, GateBasis.VERDICT, null, reasons));
  }

  /**
   * Writes the outcome (as {@link #fitted} makes it) to its topic and records in the store what was
   * written: a final decision, or a hold.
   */
  private void publish(String requestId, GateEntry entry, ReleaseGateOutcome intended) {
    publish(requestId, entry, intended, entry.outputId());
  }

  /** As above, with the output id the store's marker keeps (an output the entry did not hold). */
  private void publish(
      String requestId, GateEntry entry, ReleaseGateOutcome intended, String outputId) {
    Fitted fitted = fitted(intended);
    ReleaseGateOutcome outcome = fitted.outcome();
    Topic<String, ReleaseGateOutcome> topic =
        switch (outcome.getOutcome()) {
          case RELEASED -> Topics.CONTENT_RELEASED;
          case QUARANTINED -> Topics.CONTENT_QUARANTINED;
          case HELD_FOR_REVIEW -> Topics.REVIEW_PENDING;
        };
    context.forward(
        new Record<>(outcome.getRequestId(), fitted.bytes(), clock.millis()),
        ReleaseGateTopology.sinkName(topic));
    // The entry's time is the outcome's own, so that a restatement, or a hold written again, says
    // exactly when the outcome it names was decided.
    long now = outcome.getDecidedAt().toEpochMilli();
    store.put(
        requestId,
        switch (outcome.getOutcome()) {
          case RELEASED ->
              entry.decided(
                  GateEntry.State.RELEASED,
                  outputId,
                  now,
                  outcome.getEventId(),
                  outcome.getBasis().name());
          case QUARANTINED ->
              entry.decided(
                  outcome.getBasis() == GateBasis.ERASURE
                      ? GateEntry.State.ERASED
                      : GateEntry.State.QUARANTINED,
                  outputId,
                  now,
                  outcome.getEventId(),
                  outcome.getBasis().name());
          case HELD_FOR_REVIEW -> entry.held(now);
        });
    // An output that waited beside this one is not the request's (nor kept for a person).
    dropContender(requestId);
  }

  /** An outcome and its encoding, within the event limit. */
  record Fitted(ReleaseGateOutcome outcome, byte[] bytes) {}

  /**
   * The outcome as it can be written: whole when it fits the event limit. Otherwise its reasons
   * shrink to one line (the verdict has them all), then its attributes to {@link
   * CarriedAttributes}' marker (the output event has them). Only an output within a few hundred
   * bytes of the limit can still be too large with its text and ids alone; then the outcome is
   * written without the text (the output event has it), and a release becomes a quarantine, since a
   * text is never published in part or empty in its place.
   */
  static Fitted fitted(ReleaseGateOutcome outcome) {
    Fitted whole = encoded(outcome);
    if (whole != null) {
      return whole;
    }
    ReleaseGateOutcome lighter =
        ReleaseGateOutcome.newBuilder(outcome)
            .setReasons(
                List.of(
                    outcome.getReasons().size()
                        + " reasons left out to keep the outcome within the event limit; verdict '"
                        + outcome.getVerdictId()
                        + "' and the review have them"))
            .build();
    Fitted withoutReasons = encoded(lighter);
    if (withoutReasons != null) {
      return withoutReasons;
    }
    lighter =
        ReleaseGateOutcome.newBuilder(lighter)
            .setAttributes(CarriedAttributes.omitted(outcome.getAttributes()))
            .build();
    Fitted withoutAttributes = encoded(lighter);
    if (withoutAttributes != null) {
      return withoutAttributes;
    }
    GateOutcome written =
        outcome.getOutcome() == GateOutcome.RELEASED
            ? GateOutcome.QUARANTINED
            : outcome.getOutcome();
    List<String> reasons = new ArrayList<>(lighter.getReasons());
    reasons.add(
        (written == outcome.getOutcome() ? "" : "not released: ")
            + "the text was left out, since with it this outcome exceeds the event limit; output '"
            + outcome.getOutputId()
            + "' has it");
    ReleaseGateOutcome withoutText =
        ReleaseGateOutcome.newBuilder(lighter)
            .setEventId(
                eventId(
                    outcome.getRequestId(),
                    tenantOfEventId(outcome),
                    written,
                    outcome.getBasis(),
                    outcome.getReviewId()))
            .setOutcome(written)
            .setText("")
            .setReasons(reasons)
            .build();
    return new Fitted(withoutText, OUTCOMES.encode(withoutText));
  }

  private static Fitted encoded(ReleaseGateOutcome outcome) {
    try {
      return new Fitted(outcome, OUTCOMES.encode(outcome));
    } catch (EventTooLargeException e) {
      return null;
    }
  }

  /**
   * An erased request: the output the gate holds (waiting for its verdict or held for review) is
   * quarantined without its text, and the store keeps only the marker, so that the output, if it
   * has not come yet, is quarantined the same way when it does. A request already released or
   * quarantined keeps its outcome: the gate cannot recall what a platform received.
   */
  private void onErasure(ErasureNotice notice) {
    String requestId = notice.getRequestId();
    String tenant = notice.getTenantId();
    if (stateFormat < TENANT_KEYED_FORMAT
        || (tenant != null && !tenant.isBlank() && keyable(requestId, tenant))) {
      erase(storeKey(requestId, tenant), notice);
      return;
    }
    if (requestId.indexOf(TENANT_SEPARATOR) >= 0) {
      eraseUnkeyable(requestId, notice);
      return;
    }
    // A notice without its tenant (a request the audit service knows only from dead letters, or an
    // administrator's erasure of every tenant's), or with ids that make no key (never
    // dead-lettered: an erasure must not be lost), erases every tenant's entry under the request id
    // (erasing is the safe direction), and the entry under the request id alone, and leaves a
    // marker of no tenant there, which the records of every tenant without an entry of its own find
    // (see storeKey), so that a tenant whose records come later is erased too: each tenant's output
    // that finds the marker gets its own outcome (see erasedKey).
    GateEntry before = store.get(requestId);
    String beforeTenant = before == null ? null : tenantOfOldEntry(before);
    List<String> keys = new ArrayList<>();
    keys.add(requestId);
    tenantEntries(requestId).forEach(entry -> keys.add(entry.key));
    keys.forEach(key -> erase(key, notice));
    leaveTenantlessMarker(requestId, beforeTenant);
  }

  /**
   * The tenant of an entry under the request id alone (an earlier gate's): its request's, or where
   * the gate did not read that, the tenant of the output it holds; null where neither is known.
   */
  private static String tenantOfOldEntry(GateEntry entry) {
    if (entry.requestTenant() != null) {
      return entry.requestTenant();
    }
    return entry.output() == null
        ? null
        : Topics.GENERATION_OUTPUTS.codec().decode(entry.output()).getTenantId();
  }

  /**
   * From format 4, after a tenantless erasure of {@code requestId}, makes the entry under the
   * request id alone the erased marker of no tenant, which every tenant without an entry of its own
   * finds. An entry there that is another (an earlier gate's, erased now or decided before) would
   * otherwise block only its own tenant: one naming a tenant, or holding that tenant's output
   * before the erasure ({@code tenant}), goes on under that tenant's own key (a copy of its output
   * is restated from it, not decided again); one whose tenant is not known (a final marker of a
   * request the earlier gate did not read) is replaced, so that another tenant's output is not
   * restated as its decision: every output that comes later under the id, a copy of that decided
   * one too, is quarantined as erased under its own tenant's key.
   */
  private void leaveTenantlessMarker(String requestId, String tenant) {
    GateEntry bare = store.get(requestId);
    if (bare == null
        || (bare.state() == GateEntry.State.ERASED
            && bare.outputId() == null
            && bare.requestTenant() == null)) {
      return;
    }
    long now = clock.millis();
    if (tenant != null && keyable(requestId, tenant)) {
      String own = requestId + TENANT_SEPARATOR + tenant;
      if (store.get(own) == null) {
        store.put(own, bare);
      }
    } else {
      LOG.info(
          "Erasure of request {} without a tenant: the earlier gate's {} entry under the request id"
              + " names no tenant, so every output that comes later under the id is quarantined as"
              + " erased, a copy of its decided one too",
          LogText.quoted(requestId),
          bare.state());
    }
    store.put(requestId, GateEntry.empty().erased(now, null));
  }

  /**
   * From format 4, the erasure of a request whose id holds {@link #TENANT_SEPARATOR}: the key the
   * id makes is also the key of another request's entry, the one of the id's part before the
   * separator, for the tenant after it. No output, verdict or review of such an id is read under
   * format 4 (dead-lettered), so the only entry of its own is one an earlier gate wrote; it is
   * erased where it holds an output or verdict of this request (told apart by the request id they
   * carry). No marker is left: nothing of the request can come to the gate that would find it, and
   * it would erase the other request's output. An entry with neither (a request's tenant, a final
   * or erased marker) cannot be told apart and is left as it is (an erasure changes a final one in
   * nothing).
   */
  private void eraseUnkeyable(String requestId, ErasureNotice notice) {
    GateEntry entry = store.get(requestId);
    byte[] held = entry == null ? null : entry.output() != null ? entry.output() : entry.verdict();
    String heldFor =
        held == null
            ? null
            : entry.output() != null
                ? Topics.GENERATION_OUTPUTS.codec().decode(held).getRequestId()
                : Topics.MODERATION_VERDICTS.codec().decode(held).getRequestId();
    if (requestId.equals(heldFor)) {
      erase(requestId, notice);
      return;
    }
    LOG.info(
        "Erasure of request {} changes nothing at the gate: its id holds U+0001, which no record"
            + " the gate reads under state format {} may hold, and the gate holds no output or"
            + " verdict of it",
        LogText.quoted(requestId),
        stateFormat);
  }

  /** Erases the request's entry under {@code requestId} (its store key). */
  private void erase(String requestId, ErasureNotice notice) {
    GateEntry entry = current(requestId);
    if (entry.state().isFinal()) {
      LOG.info(
          "Erasure of request {} changes nothing at the gate: already {}",
          LogText.quoted(notice.getRequestId()),
          entry.state());
      return;
    }
    long now = clock.millis();
    dropContender(requestId);
    if (entry.output() == null) {
      // Nothing to publish yet; a verdict that came first is dropped with the rest.
      store.put(requestId, entry.erased(now, notice.getTenantId()));
      return;
    }
    GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
    ModerationVerdict verdict =
        entry.verdict() == null ? null : Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
    publish(requestId, entry, erased(requestId, output, verdict, notice.getCause()));
  }

  /**
   * The outcome of an erased request's output: quarantined, without text, attributes or the text's
   * SHA-256 (which would let whoever reads the outcome confirm a guessed text; its record in the
   * audit chain cannot lose a field once written, only all of its content).
   */
  private ReleaseGateOutcome erased(
      String key, GenerationOutput output, ModerationVerdict verdict, ErasureCause cause) {
    return ReleaseGateOutcome.newBuilder(
            outcome(
                key,
                output,
                verdict,
                GateOutcome.QUARANTINED,
                GateBasis.ERASURE,
                null,
                List.of(erasedReason(cause))))
        .setText("")
        .setOutputSha256("")
        .setAttributes(Map.of())
        .build();
  }

  /** Why an erased request's output is quarantined, as the notice's cause tells it. */
  static String erasedReason(ErasureCause cause) {
    String removed =
        cause == null
            ? "erased or past retention: the audit service removed this request's content"
                + " (audit.erasures; its chain record at erasureSeq says whether an erasure or"
                + " the tenant's retention period)"
            : cause == ErasureCause.RETENTION
                ? "past retention: the tenant's retention period removed this request's content"
                    + " while its output waited for review (audit.erasures; the chain's retention"
                    + " record at erasureSeq)"
                : "erased: the audit service erased this request's content (audit.erasures; the"
                    + " chain's erasure record at erasureSeq has the reason)";
    return removed + "; its text is not published and the gate keeps none of it";
  }

  private void onReview(
      ReviewDecision review, RecordMetadata source, Record<byte[], byte[]> record) {
    String requestId = review.getRequestId();
    String key = storeKey(requestId, review.getTenantId());
    GateEntry entry = store.get(key);
    if (entry != null && entry.state().isFinal()) {
      if (entry.state() == GateEntry.State.RELEASED && review.getAction() == ReviewAction.REJECT) {
        // Released on a verdict that came after the output was held, before this rejection: the
        // audit service takes that release down when it records it.
        LOG.warn(
            "Review {} by {} rejects request {}, which the gate released already (a verdict that"
                + " came after the output was held reached it first); the audit service takes a"
                + " release of a rejected output down when it records it",
            LogText.quoted(review.getReviewId()),
            LogText.quoted(review.getReviewer()),
            LogText.quoted(requestId));
      } else {
        LOG.info(
            "Review {} for request {} ignored: already {}",
            LogText.quoted(review.getReviewId()),
            LogText.quoted(requestId),
            entry.state());
      }
      return;
    }
    if (entry == null || entry.state() != GateEntry.State.HELD) {
      deadLetter(
          source,
          record,
          new IllegalStateException(
              "Review "
                  + review.getReviewId()
                  + " is for request "
                  + requestId
                  + ", which is not held for review ("
                  + (entry == null ? "unknown" : entry.state())
                  + ")"));
      return;
    }
    if (!review.getOutputId().equals(entry.outputId())) {
      deadLetter(
          source,
          record,
          new IllegalStateException(
              "Review "
                  + review.getReviewId()
                  + " names output "
                  + review.getOutputId()
                  + " but request "
                  + requestId
                  + " holds output "
                  + entry.outputId()));
      return;
    }
    GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
    ModerationVerdict verdict =
        entry.verdict() == null ? null : Topics.MODERATION_VERDICTS.codec().decode(entry.verdict());
    boolean approved = review.getAction() == ReviewAction.APPROVE;
    String decidedOn = review.getVerdictId(); // null: an audit service that does not say
    String holds = verdict == null ? "" : verdict.getVerdictId();
    boolean otherVerdict = decidedOn != null && !decidedOn.equals(holds);
    if (approved && otherVerdict) {
      holdAgain(key, output, verdict, review);
      return;
    }
    List<String> reasons =
        new ArrayList<>(verdict == null ? List.of(noVerdictReason()) : reasonTexts(verdict));
    // A rejection made on no verdict (or another) still applies: quarantining fails closed.
    String on = otherVerdict ? " (decided " + decidedOnText(decidedOn) + ")" : "";
    // Named by the review only: the reviewer's name and note are for the audit log, not for the
    // platforms reading the outcome topics (the audit store keeps both under the review id).
    String expired =
        EXPIRY_REVIEWER.equals(review.getReviewer())
            ? ": not reviewed in time (the audit service's review expiry rejected it)"
            : "";
    reasons.add(
        (approved ? "approved in review " : "rejected in review ")
            + review.getReviewId()
            + on
            + expired);
    publish(
        key,
        entry,
        outcome(
            key,
            output,
            verdict,
            approved ? GateOutcome.RELEASED : GateOutcome.QUARANTINED,
            GateBasis.REVIEW,
            review.getReviewId(),
            reasons));
  }

  /**
   * Answers an approval made on another verdict than the one the output is held on now (made on no
   * verdict, before a late REVIEW verdict held the output again): the reviewer never saw the
   * verdict's reasons, so the gate does not release. The output stays held as it was, and its hold
   * is written again naming the review (a new event: the audit store reopens the item for a person
   * to decide under the verdict). The store entry is left as it is, so a restatement still writes
   * the hold as it was first written.
   */
  private void holdAgain(
      String key, GenerationOutput output, ModerationVerdict verdict, ReviewDecision review) {
    List<String> reasons =
        new ArrayList<>(verdict == null ? List.of(noVerdictReason()) : reasonTexts(verdict));
    reasons.add(
        "not released on review "
            + review.getReviewId()
            + ": it approved the output "
            + decidedOnText(review.getVerdictId())
            + ", but it is held on "
            + (verdict == null ? "no verdict" : "verdict " + verdict.getVerdictId())
            + " now; held again for a person to decide under this verdict");
    ReleaseGateOutcome hold =
        outcome(
            key,
            output,
            verdict,
            GateOutcome.HELD_FOR_REVIEW,
            verdict == null ? GateBasis.VERDICT_TIMEOUT : GateBasis.VERDICT,
            review.getReviewId(),
            reasons);
    context.forward(
        new Record<>(output.getRequestId(), fitted(hold).bytes(), clock.millis()),
        ReleaseGateTopology.sinkName(Topics.REVIEW_PENDING));
    LOG.warn(
        "Review {} by {} approved request {} {}, but the output is held on {} now: not released,"
            + " its hold written again for a person to decide under that verdict",
        review.getReviewId(),
        review.getReviewer(),
        output.getRequestId(),
        decidedOnText(review.getVerdictId()),
        verdict == null ? "no verdict" : "verdict " + verdict.getVerdictId());
  }

  /** The verdict a decision was made on, in words. */
  private static String decidedOnText(String verdictId) {
    return verdictId.isEmpty()
        ? "on no verdict (held because none came in time)"
        : "on verdict " + verdictId;
  }

  private String noVerdictReason() {
    return "no verdict within "
        + timings.verdictTimeout().toSeconds()
        + " s of the output (the gate's verdict timeout): held for a person; a verdict that comes"
        + " later still decides, unless a person decided first";
  }

  private GateEntry current(String requestId) {
    GateEntry entry = store.get(requestId);
    return entry == null ? GateEntry.empty() : entry;
  }

  private static List<String> reasonTexts(ModerationVerdict verdict) {
    List<String> texts = new ArrayList<>();
    for (Reason reason : verdict.getReasons()) {
      texts.add(reason.getMessage());
    }
    return texts;
  }

  /**
   * The outcome for an output, of the entry under store key {@code key}; without a verdict (held by
   * the timeout) the verdict id and policy version are empty, the decision is REVIEW and the hash
   * is the text's own.
   */
  private ReleaseGateOutcome outcome(
      String key,
      GenerationOutput output,
      ModerationVerdict verdict,
      GateOutcome outcome,
      GateBasis basis,
      String reviewId,
      List<String> reasons) {
    return ReleaseGateOutcome.newBuilder()
        .setEventId(
            eventId(
                output.getRequestId(),
                idTenant(key, output.getRequestId(), output.getTenantId()),
                outcome,
                basis,
                reviewId))
        .setRequestId(output.getRequestId())
        .setOutputId(output.getOutputId())
        .setTenantId(output.getTenantId())
        .setOutcome(outcome)
        .setBasis(basis)
        .setVerdictId(verdict == null ? "" : verdict.getVerdictId())
        .setDecision(verdict == null ? Decision.REVIEW : verdict.getDecision())
        .setReviewId(reviewId)
        .setText(output.getText())
        .setOutputSha256(
            verdict == null ? ContentHash.sha256Hex(output.getText()) : verdict.getOutputSha256())
        .setPolicyVersion(verdict == null ? "" : verdict.getPolicyVersion())
        .setReasons(reasons)
        .setAttributes(Map.copyOf(output.getAttributes()))
        .setDecidedAt(Instant.ofEpochMilli(clock.millis()))
        .build();
  }

  /**
   * The outcome's event id, made from what it decides, so that the outcome written again is the
   * same event; from format 4 with the tenant ({@code tenant}; null: without; see {@link
   * #idTenant}), so that two tenants' outcomes under one request id are two events, not one the
   * audit log keeps once.
   */
  private static String eventId(
      String requestId, String tenant, GateOutcome outcome, GateBasis basis, String reviewId) {
    String review = reviewId == null ? "" : reviewId;
    return tenant == null
        ? EventIds.nameBased("gate", requestId, outcome.name(), basis.name(), review)
        : EventIds.nameBased("gate", requestId, tenant, outcome.name(), basis.name(), review);
  }

  /**
   * The tenant the event ids of what the gate writes for the entry under store key {@code key} are
   * made with, or null: without. From format 4 the tenant, so that two tenants' outcomes under one
   * request id are two events; but an entry under the request id alone (an earlier gate's, kept
   * through the upgrade, or an erased marker of a known tenant; an output that finds a marker of no
   * tenant is quarantined under its own key, see erasedKey) is decided as before the upgrade, and
   * its outcomes and restatements keep the ids a format-3 gate gives them: a hold written again or
   * a decision restated after the upgrade is the same event the audit service has (it dedups by
   * event id), not a second hold or decision.
   */
  private String idTenant(String key, String requestId, String tenant) {
    return stateFormat >= TENANT_KEYED_FORMAT && !key.equals(requestId) ? tenant : null;
  }

  /** The tenant {@code outcome}'s event id was made with, or null where it was made without. */
  private static String tenantOfEventId(ReleaseGateOutcome outcome) {
    String without =
        eventId(
            outcome.getRequestId(),
            null,
            outcome.getOutcome(),
            outcome.getBasis(),
            outcome.getReviewId());
    return outcome.getEventId().equals(without) ? null : outcome.getTenantId();
  }

  private void deadLetter(RecordMetadata source, Record<byte[], byte[]> record, Exception error) {
    deadLetter(
        source.topic(),
        source.partition(),
        source.offset(),
        record.key(),
        record.value(),
        error,
        null);
  }

  /**
   * As above, for a record of {@code sourceTopic}; offset -1 for one the store kept (its offset is
   * not known), with {@code eventId} in place of the one made from the offset.
   */
  private void deadLetter(
      String sourceTopic,
      int partition,
      long offset,
      byte[] recordKey,
      byte[] payload,
      Exception error,
      String eventId) {
    Topic<String, ?> input =
        Topics.all().stream()
            .filter(topic -> topic.name().equals(sourceTopic))
            .findFirst()
            .orElseThrow();
    var deadLetter =
        DeadLetters.of(
            sourceTopic,
            partition,
            offset,
            recordKey,
            payload,
            "gate",
            error,
            Instant.ofEpochMilli(clock.millis()));
    if (eventId != null) {
      deadLetter = DeadLetter.newBuilder(deadLetter).setEventId(eventId).build();
    }
    String deadLetterTopic = input.requireDeadLetterTopic();
    String key =
        recordKey == null
            ? null
            : new String(DeadLetters.recordKey(recordKey), java.nio.charset.StandardCharsets.UTF_8);
    context.forward(
        new Record<>(key, DEAD_LETTERS.encode(deadLetter), clock.millis()),
        ReleaseGateTopology.deadLetterSinkName(deadLetterTopic));
  }

  /**
   * Holds for review the outputs whose verdict is overdue, and forgets what is past the retention:
   * final markers (they only guard against late duplicates) and verdicts whose output never came
   * (the audit log keeps them; an output that comes after all waits for the timeout like any
   * other). Held entries wait for a person and are never swept. A large store is swept in pieces
   * ({@link #SWEEP_PIECE}); a sweep still under way when the next is due goes on instead.
   */
  private void sweep() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    resumeAt = null;
    sweepPieces = 0;
    sweptEntries = 0;
    sweepPiece();
  }

  /** Reads the store on from where the sweep's last piece stopped, for at most a piece's length. */
  private void sweepPiece() {
    long deadline = System.nanoTime() + sweepPieceLength.toNanos();
    long now = clock.millis();
    long retained = now - timings.decisionRetention().toMillis();
    long overdue = now - timings.verdictTimeout().toMillis();
    List<String> forget = new ArrayList<>();
    List<String> orphanedVerdicts = new ArrayList<>();
    List<String> requestsOnly = new ArrayList<>();
    // Keys only: an entry holds its output, and thousands may be overdue after an outage.
    List<String> late = new ArrayList<>();
    List<String> unclocked = new ArrayList<>();
    String stoppedAt = null;
    // From the key the last piece stopped at (or the first) to the end of the store, in key order.
    try (KeyValueIterator<String, GateEntry> all =
        resumeAt == null ? store.all() : store.range(resumeAt, null)) {
      long read = 0;
      while (all.hasNext()) {
        KeyValue<String, GateEntry> next = all.next();
        if ((++read % 1_024 == 0 && System.nanoTime() > deadline)
            || forget.size() + orphanedVerdicts.size() + requestsOnly.size()
                >= MAX_FORGETS_PER_PIECE) {
          // This one is read by the next piece.
          stoppedAt = next.key;
          break;
        }
        sweptEntries++;
        GateEntry entry = next.value;
        if (isContenderKey(next.key)) {
          // Deleted once its request's first output is decided, held or erased; one left over is
          // forgotten after the retention.
          if (entry.sinceMillis() < retained) {
            forget.add(next.key);
          }
          continue;
        }
        if (entry.state().isFinal()) {
          if (entry.sinceMillis() < retained) {
            forget.add(next.key);
          }
        } else if (entry.state() == GateEntry.State.WAITING) {
          if (entry.sinceMillis() == 0) {
            unclocked.add(next.key);
          } else if (entry.output() != null && entry.sinceMillis() < overdue) {
            late.add(next.key);
          } else if (entry.output() == null && entry.sinceMillis() < retained) {
            // A request whose output never came (its generation failed) keeps only its tenant.
            (entry.verdict() == null ? requestsOnly : orphanedVerdicts).add(next.key);
          }
        }
      }
    }
    forget.forEach(store::delete);
    orphanedVerdicts.forEach(store::delete);
    requestsOnly.forEach(store::delete);
    if (!orphanedVerdicts.isEmpty()) {
      LOG.warn(
          "Forgot {} verdicts whose outputs did not come within {} (first: request {})",
          orphanedVerdicts.size(),
          timings.decisionRetention(),
          LogText.quoted(requestIdOf(orphanedVerdicts.get(0))));
    }
    unclocked.forEach(key -> store.put(key, store.get(key).clockStarted(now)));
    List<String> held = late.subList(0, Math.min(late.size(), maxHoldsPerSweep));
    int forgedDecided = 0;
    int copies = 0;
    String firstHeld = null;
    for (String key : held) {
      GateEntry entry = store.get(key);
      GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(entry.output());
      String other = withheld(entry, output.getRequestId(), output.getTenantId());
      if (other != null) {
        // Its own request did not come within the verdict timeout: a copy, never held for a
        // person or decided on a verdict under its tenant.
        unrequested(key, entry, output, other);
        copies++;
        continue;
      }
      if (entry.verdict() != null) {
        // A forged output no other output replaced within the verdict timeout: its verdict decides.
        decide(key, entry, output, Topics.MODERATION_VERDICTS.codec().decode(entry.verdict()));
        forgedDecided++;
        continue;
      }
      if (firstHeld == null) {
        firstHeld = key;
      }
      publish(
          key,
          entry,
          outcome(
              key,
              output,
              null,
              GateOutcome.HELD_FOR_REVIEW,
              GateBasis.VERDICT_TIMEOUT,
              null,
              List.of(noVerdictReason())));
    }
    if (forgedDecided > 0) {
      LOG.warn(
          "Decided {} forged outputs on their verdicts: no other output came within {}",
          forgedDecided,
          timings.verdictTimeout());
    }
    if (held.size() > forgedDecided + copies) {
      LOG.warn(
          "Held {} outputs for review: no verdict within {} (first: request {}; {} more overdue,"
              + " for the next sweeps)",
          held.size() - forgedDecided - copies,
          timings.verdictTimeout(),
          LogText.quoted(requestIdOf(firstHeld)),
          late.size() - held.size());
    }
    sweepPieces++;
    if (stoppedAt != null) {
      resumeAt = stoppedAt;
      return;
    }
    sweeping = false;
    resumeAt = null;
    if (sweepPieces > 1) {
      LOG.info(
          "Swept {} entries of the store in {} pieces of at most {} ms",
          sweptEntries,
          sweepPieces,
          sweepPieceLength.toMillis());
    }
    if (ignoredOutputs > 0) {
      LOG.info(
          "Ignored {} copies of outputs whose request the gate holds or decided already (first:"
              + " request {}); a copy sent again gets no second outcome",
          ignoredOutputs,
          LogText.quoted(firstIgnored));
      ignoredOutputs = 0;
      firstIgnored = null;
    }
    if (forgedOutputs > 0) {
      LOG.warn(
          "Dead-lettered {} outputs or verdicts whose provenance manifests their verdicts found"
              + " INVALID (first: request {}): forged outputs do not take their requests, which wait"
              + " for their own",
          forgedOutputs,
          LogText.quoted(firstForged));
      forgedOutputs = 0;
      firstForged = null;
    }
    if (otherTenants > 0) {
      LOG.warn(
          "Dead-lettered {} outputs or verdicts that came under another tenant than their request's"
              + " (first: request {}): copies re-published under another tenant; their requests"
              + " wait for their own",
          otherTenants,
          LogText.quoted(firstOtherTenant));
      otherTenants = 0;
      firstOtherTenant = null;
    }
  }
}
