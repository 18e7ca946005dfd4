package io.genguard.audit.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.persistence.ChainVerifier.Anchor;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chain heads kept outside the database: a file of JSON lines {@code {"seq":N,"hash":"64
 * hex","anchoredAt":"ISO-8601"}}, appended (and forced to disk) whenever the chain grew, never
 * rewritten (only a last line that a crash left incomplete is cut when the log is opened, and what
 * an append that failed wrote, a part of its line or all of it, is cut before the next). Readers
 * ignore fields they do not know. The chain alone cannot show that its newest records were removed,
 * or that someone who can write the database rebuilt it from an edited record on; against these
 * heads both show ({@link ChainVerifier#verify(DataSource, List)}). The file is only as good as
 * where it is kept: give it to another owner than the database, or ship it to write-once storage.
 *
 * <p>Before it appends, the log checks that the chain still holds its last anchor (that record
 * exists and has the anchored hash); if not, it logs an error, appends nothing and says so in the
 * result, so that the evidence in the file stays as it was.
 *
 * <p>Given signing keys ({@code GENGUARD_AUDIT_ANCHOR_SIGNING_KEY_FILE}), each line also carries
 * {@code keyId}, {@code prev} (the signature of the line before it, empty for the first or after an
 * unsigned line) and {@code sig}, an Ed25519 signature of the line's seq, hash, time and prev
 * ({@link #signedBytes}). Whoever holds only the public keys ({@link #publicKeyFile}) can then tell
 * a file this service wrote from one written or edited by someone who can write the file but does
 * not hold the key, and lines removed or reordered from lines that were not ({@link
 * #checkSignatures}); removing the newest lines still shows only against a copy kept elsewhere.
 */
public final class AnchorLog implements MeterBinder {
  private static final Logger LOG = LoggerFactory.getLogger(AnchorLog.class);
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  /** Longest line a reader accepts; a real anchor line has about 120 characters. */
  public static final int MAX_LINE_CHARS = 1_024;

  /** 1 while the chain no longer holds the last anchor, else 0. */
  public static final String CONFLICT_METRIC = "genguard.audit.anchor.conflict";

  /** Seq of the newest anchored head. */
  public static final String SEQ_METRIC = "genguard.audit.anchor.seq";

  /** When the log last compared the chain with its file, epoch seconds. */
  public static final String LAST_CHECK_METRIC = "genguard.audit.anchor.last.check.timestamp";

  /** What each signature covers, before the line's own values (see {@link #signedBytes}). */
  public static final String SIGNATURE_CONTEXT = "genguard-audit-anchor-v1";

  private final Path file;
  private final Clock clock;
  private final SigningKeyRing signing;
  private final LineWriter writer;
  // Written only under the lock (publish) or before the log is shared; read by API threads.
  private volatile Anchor last;
  // The last line's signature (empty when it is unsigned or there is none): the next line's prev.
  private String lastSignature = "";
  // Where an append that failed began, while what it left could not be cut (-1: none).
  private long failedAppendAt = -1;
  private final AtomicInteger conflict = new AtomicInteger();
  private final AtomicReference<Double> lastCheck = new AtomicReference<>(Double.NaN);

  /**
   * Opens (or, on the first append, creates) the anchor file.
   *
   * @throws IllegalArgumentException if the existing file is not an anchor file (line and reason)
   */
  public AnchorLog(Path file, Clock clock) {
    this(file, clock, null);
  }

  /**
   * Opens (or creates) the anchor file; with {@code signing} (null: unsigned lines) every line it
   * appends is signed with the ring's active key, and the public halves of the ring's keys are
   * written to {@link #publicKeyFile} for verifiers.
   *
   * @throws IllegalArgumentException if the existing file is not an anchor file (line and reason)
   */
  public AnchorLog(Path file, Clock clock, SigningKeyRing signing) {
    this(file, clock, signing, LineWriter.WRITE_AND_SYNC);
  }

  /** As {@link #AnchorLog(Path, Clock, SigningKeyRing)}, lines written by {@code writer}. */
  AnchorLog(Path file, Clock clock, SigningKeyRing signing, LineWriter writer) {
    this.file = file;
    this.clock = clock;
    this.signing = signing;
    this.writer = writer;
    try {
      // Every line is checked, but only the newest is kept: a year of anchors is about 500,000
      // lines, which need not all be in memory to append the next one.
      AnchorLine[] newest = new AnchorLine[1];
      Scan scan = scan(file, line -> newest[0] = line);
      if (newest[0] != null) {
        this.last = newest[0].anchor();
        this.lastSignature = newest[0].signed() ? newest[0].signature() : "";
      }
      if (scan.incompleteLastLine()) {
        dropIncompleteLastLine(scan);
      }
    } catch (NoSuchFileException e) {
      this.last = null;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the audit anchor file " + file, e);
    }
    if (signing != null) {
      try {
        writePublicKeys(file, signing);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot write the anchor signing keys' public halves to " + publicKeyFile(file), e);
      }
    }
  }

  /**
   * How a line reaches the file: written and forced to disk, or an exception. A test's may fail
   * part-way, as a full disk or a failing device does.
   */
  @FunctionalInterface
  interface LineWriter {
    LineWriter WRITE_AND_SYNC =
        (out, line) -> {
          out.write(line);
          out.getFD().sync();
        };

    void write(FileOutputStream out, byte[] line) throws IOException;
  }

  /**
   * Cuts a last line that a crash left without its newline: it was never a complete anchor, and the
   * next anchor must start on a line of its own (what a database does with a torn log tail).
   */
  private void dropIncompleteLastLine(Scan scan) throws IOException {
    LOG.warn(
        "The audit anchor file {} ended in an incomplete line ({} bytes, a write torn by a crash);"
            + " removing it",
        file,
        scan.size() - scan.completeEnd());
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(scan.completeEnd());
      channel.force(true);
    }
  }

  /**
   * Where the public halves of the signing keys are kept beside the anchor file: {@code id:base64}
   * lines, the form {@code ./genguard audit verify --anchor-keys} reads. Give a copy to whoever
   * verifies the anchors; a copy from the same disk proves only what that disk says.
   */
  public static Path publicKeyFile(Path anchorFile) {
    return anchorFile.resolveSibling(anchorFile.getFileName() + ".keys");
  }

  private static void writePublicKeys(Path anchorFile, SigningKeyRing signing) throws IOException {
    Path keys = publicKeyFile(anchorFile);
    String entries = signing.verificationKeys().toConfigEntries();
    if (Files.exists(keys) && Files.readString(keys, StandardCharsets.UTF_8).equals(entries)) {
      return;
    }
    Path parent = keys.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(keys, entries, StandardCharsets.UTF_8);
  }

  /** What one {@link #publish} did. */
  public enum Outcome {
    /** The head was appended. */
    APPENDED,
    /** The chain has not grown since the last anchor (or is empty): nothing to append. */
    UNCHANGED,
    /** The chain no longer holds the last anchor: nothing appended, an error logged. */
    CONFLICT
  }

  /**
   * @param outcome what happened
   * @param anchor the head appended, or the last anchor
   * @param detail for a conflict, what is wrong
   */
  public record Published(Outcome outcome, Anchor anchor, String detail) {}

  /**
   * One line of an anchor file.
   *
   * @param line its line number, from 1
   * @param anchoredAt when it was appended, as written (null if absent)
   * @param keyId the id of the key that signed it (null on an unsigned line)
   * @param prev the signature of the line before it as signed ("" for none; null if unsigned)
   * @param signature its Ed25519 signature, base64 (null on an unsigned line)
   * @param text the line as written, without its newline (what {@link AnchorWitness} compares)
   */
  public record AnchorLine(
      int line,
      Anchor anchor,
      String anchoredAt,
      String keyId,
      String prev,
      String signature,
      String text) {
    public boolean signed() {
      return signature != null;
    }
  }

  /** The lines of an anchor file, oldest first. */
  public record Anchors(List<AnchorLine> lines, boolean incompleteLastLine) {
    public int size() {
      return lines.size();
    }

    public List<Anchor> anchors() {
      return lines.stream().map(AnchorLine::anchor).toList();
    }

    /** The lines, compactly ({@link AnchorIndex}: line numbers as places). */
    public AnchorIndex index() {
      AnchorIndex index = new AnchorIndex();
      lines.forEach(line -> index.add(line.line(), line));
      return index;
    }
  }

  /**
   * What checking an anchor file's signatures found.
   *
   * @param signed lines with a valid signature, each linked to the line before it
   * @param unsignedBefore unsigned lines before the first signed one (written before signing was
   *     turned on)
   * @param problems each names the line and what is wrong; empty when the file holds up
   */
  public record SignatureCheck(int signed, int unsignedBefore, List<String> problems) {
    public boolean valid() {
      return problems.isEmpty();
    }
  }

  /**
   * Checks every line's signature with {@code keys} and that each signed line links to the line
   * before it. Unsigned lines are accepted only before the first signed one; a file with no signed
   * line fails, since signatures were expected.
   */
  public static SignatureCheck checkSignatures(Anchors anchors, VerificationKeyRing keys) {
    SignatureChecker checker = new SignatureChecker(keys);
    anchors.lines().forEach(checker::accept);
    return checker.result();
  }

  /**
   * {@link #checkSignatures} a line at a time, as a file is read: it keeps only the line before, so
   * a file of any length is checked in little memory.
   */
  public static final class SignatureChecker {
    private final VerificationKeyRing keys;
    private final Problems problems = new Problems();
    private int signed;
    private int unsignedBefore;
    private int lines;
    private AnchorLine previous;

    public SignatureChecker(VerificationKeyRing keys) {
      this.keys = keys;
    }

    /** Checks the file's next line. */
    public void accept(AnchorLine line) {
      lines++;
      if (!line.signed()) {
        if (signed > 0 || !problems.isEmpty()) {
          problems.add(
              "line " + line.line() + " is not signed, though a line before it is: added by hand");
        } else {
          unsignedBefore++;
        }
        previous = line;
        return;
      }
      String expectedPrev = previous == null || !previous.signed() ? "" : previous.signature();
      if (!keys.ids().contains(line.keyId())) {
        problems.add(
            "line "
                + line.line()
                + " is signed with key '"
                + line.keyId()
                + "', which is not among the verification keys "
                + keys.ids());
      } else if (!keys.verifies(line.keyId(), signedBytes(line), line.signature())) {
        problems.add(
            "line "
                + line.line()
                + " (seq "
                + line.anchor().seq()
                + "): the signature does not match the line; it was edited or not written by"
                + " this key's holder");
      } else if (!line.prev().equals(expectedPrev)) {
        problems.add(
            "line "
                + line.line()
                + " (seq "
                + line.anchor().seq()
                + ") does not follow the line before it in the file: lines were removed,"
                + " reordered or inserted before it");
      } else {
        signed++;
      }
      previous = line;
    }

    /** What the lines so far show. */
    public SignatureCheck result() {
      List<String> found = new ArrayList<>(problems.list());
      if (signed == 0 && found.isEmpty()) {
        found.add(
            lines == 0
                ? "the file holds no anchor"
                : "no line is signed (" + unsignedBefore + " unsigned lines)");
      }
      return new SignatureCheck(signed, unsignedBefore, List.copyOf(found));
    }
  }

  /**
   * An anchor file as verification needs it.
   *
   * @param lines every anchor line, compactly ({@link AnchorIndex}: line numbers as places)
   * @param incompleteLastLine whether a last line without its newline was left out
   * @param signatures what the signatures show; null when no keys were given
   */
  public record Indexed(AnchorIndex lines, boolean incompleteLastLine, SignatureCheck signatures) {}

  /**
   * Reads an anchor file a chunk at a time into an {@link AnchorIndex}, checking its signatures
   * with {@code keys} on the way (none when null): what {@link #read} and {@link #checkSignatures}
   * give, in about a sixth of the memory (a year of anchors: 75 MB held where the parsed lines held
   * 456-460 MB).
   *
   * @throws IllegalArgumentException naming the file, the line and what is wrong with it
   */
  public static Indexed index(Path file, VerificationKeyRing keys) throws IOException {
    AnchorIndex lines = new AnchorIndex();
    SignatureChecker checker = keys == null ? null : new SignatureChecker(keys);
    Scan scan =
        scan(
            file,
            line -> {
              lines.add(line.line(), line);
              if (checker != null) {
                checker.accept(line);
              }
            });
    return new Indexed(lines, scan.incompleteLastLine(), checker == null ? null : checker.result());
  }

  /**
   * Whether one line's signature holds with {@code keys}, on its own: an evidence bundle carries
   * the one line that covers its records, not the lines around it, so the line's {@code prev} is
   * covered by the signature but not compared with the line before (as {@link SignatureChecker}
   * does). False for an unsigned line or one signed by a key {@code keys} lacks.
   */
  public static boolean signatureHolds(AnchorLine line, VerificationKeyRing keys) {
    return line.signed() && keys.verifies(line.keyId(), signedBytes(line), line.signature());
  }

  /** The bytes a line's signature covers: the context, seq, hash, time and prev, one a line. */
  private static byte[] signedBytes(AnchorLine line) {
    return signedBytes(
        line.anchor().seq(), line.anchor().hashHex(), line.anchoredAt(), line.prev());
  }

  private static byte[] signedBytes(long seq, String hashHex, String anchoredAt, String prev) {
    return (SIGNATURE_CONTEXT + "\n" + seq + "\n" + hashHex + "\n" + anchoredAt + "\n" + prev)
        .getBytes(StandardCharsets.UTF_8);
  }

  public Path file() {
    return file;
  }

  /** The public halves of the keys this log signs with; empty when its lines are unsigned. */
  public java.util.Optional<VerificationKeyRing> verificationKeys() {
    return java.util.Optional.ofNullable(signing).map(SigningKeyRing::verificationKeys);
  }

  /**
   * Seq of the newest anchored head (0 before the first): every record up to it is covered by a
   * head kept outside the database.
   */
  public long anchoredSeq() {
    Anchor newest = last;
    return newest == null ? 0 : newest.seq();
  }

  /** Gauges for operators: a conflict (alert on it), the anchored seq, the last check. */
  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder(CONFLICT_METRIC, conflict, AtomicInteger::doubleValue)
        .description(
            "1 while the audit chain no longer holds the last head anchored outside the database"
                + " (records removed or the chain rewritten), else 0")
        .register(registry);
    Gauge.builder(SEQ_METRIC, this, AnchorLog::anchoredSeq)
        .description("Seq of the newest audit chain head anchored outside the database")
        .register(registry);
    Gauge.builder(LAST_CHECK_METRIC, lastCheck, AtomicReference::get)
        .description("When the anchor log last compared the audit chain with its file (Unix time)")
        .baseUnit("seconds")
        .register(registry);
  }

  /** Appends the chain's head if it grew since the last anchor and still holds that anchor. */
  public synchronized Published publish(DataSource dataSource) throws SQLException {
    Published published = compareAndAppend(dataSource);
    conflict.set(published.outcome() == Outcome.CONFLICT ? 1 : 0);
    lastCheck.set(clock.millis() / 1000.0);
    return published;
  }

  private Published compareAndAppend(DataSource dataSource) throws SQLException {
    ChainAppender.Tail head;
    String problem = null;
    try (Connection connection = dataSource.getConnection()) {
      head = ChainAppender.tail(connection);
      if (last != null) {
        problem = conflictWithLastAnchor(connection, head);
      }
    }
    if (problem != null) {
      LOG.error("Audit chain conflicts with the anchor file {}: {}", file, problem);
      return new Published(Outcome.CONFLICT, last, problem);
    }
    if (head.seq() == 0 || (last != null && head.seq() == last.seq())) {
      return new Published(Outcome.UNCHANGED, last, null);
    }
    Anchor anchor = new Anchor(head.seq(), AuditChain.hex(head.hash()));
    append(anchor);
    last = anchor;
    return new Published(Outcome.APPENDED, anchor, null);
  }

  private String conflictWithLastAnchor(Connection connection, ChainAppender.Tail head)
      throws SQLException {
    if (head.seq() < last.seq()) {
      return "the chain ends at seq "
          + head.seq()
          + ", before the last anchor's seq "
          + last.seq()
          + ": the newest records were removed";
    }
    try (PreparedStatement query =
        connection.prepareStatement("select hash from audit_log where seq = ?")) {
      query.setLong(1, last.seq());
      try (ResultSet rs = query.executeQuery()) {
        if (!rs.next()) {
          return "record " + last.seq() + " of the last anchor is gone";
        }
        String hash = AuditChain.hex(rs.getBytes(1));
        if (!hash.equalsIgnoreCase(last.hashHex())) {
          return "record "
              + last.seq()
              + " has hash "
              + hash
              + ", not the anchored "
              + last.hashHex()
              + ": the chain was rewritten";
        }
      }
    }
    return null;
  }

  private void append(Anchor anchor) {
    ObjectNode line = JSON.createObjectNode();
    String anchoredAt = clock.instant().toString();
    line.put("seq", anchor.seq());
    line.put("hash", anchor.hashHex());
    line.put("anchoredAt", anchoredAt);
    String signature = "";
    if (signing != null) {
      SigningKey key = signing.active();
      signature = key.sign(signedBytes(anchor.seq(), anchor.hashHex(), anchoredAt, lastSignature));
      line.put("keyId", key.id());
      line.put("prev", lastSignature);
      line.put("sig", signature);
    }
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      byte[] bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
      if (failedAppendAt >= 0) {
        cutBackTo(failedAppendAt);
        failedAppendAt = -1;
      }
      long before = endOnCompleteLine();
      // A stream, not a channel: an interrupt (the service stopping its timer) must not close it
      // halfway through a line.
      try (FileOutputStream out = new FileOutputStream(file.toFile(), true)) {
        try {
          writer.write(out, bytes);
        } catch (IOException e) {
          // Part of the line may be on disk (a full disk), or all of it not forced to disk: cut it,
          // so that the next line starts on a line of its own and follows the last line this log
          // knows (whose signature is its prev). Cut before the next append if that fails too.
          failedAppendAt = before;
          try {
            cutBackTo(before);
            failedAppendAt = -1;
          } catch (IOException cut) {
            e.addSuppressed(cut);
          }
          throw e;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot append to the audit anchor file " + file, e);
    }
    lastSignature = signature;
  }

  /**
   * The file's length, after cutting a last line without its newline (a failed append whose bytes
   * could not be cut then), so that the next line starts on a line of its own: 0 when there is no
   * file yet.
   */
  private long endOnCompleteLine() throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long size = raf.length();
      long end = size;
      byte[] chunk = new byte[4_096];
      search:
      while (end > 0) {
        int length = (int) Math.min(chunk.length, end);
        raf.seek(end - length);
        raf.readFully(chunk, 0, length);
        for (int i = length - 1; i >= 0; i--) {
          if (chunk[i] == '\n') {
            end = end - length + i + 1;
            break search;
          }
        }
        end -= length;
      }
      if (end < size) {
        LOG.warn(
            "The audit anchor file {} ended in an incomplete line ({} bytes, an append that"
                + " failed); removing it",
            file,
            size - end);
        raf.setLength(end);
        raf.getFD().sync();
      }
      return end;
    }
  }

  /**
   * Cuts what a failed append left after {@code end} (not through a channel, which an interrupt
   * closes). A restart before it succeeds cuts an incomplete line, and reads a complete one as the
   * last line, its signature the next one's prev.
   */
  private void cutBackTo(long end) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      if (raf.length() > end) {
        LOG.warn(
            "Cutting the audit anchor file {} back to {} bytes, where an append that failed began",
            file,
            end);
        raf.setLength(end);
        raf.getFD().sync();
      }
    }
  }

  /**
   * Reads an anchor file. A last line without its newline (a write torn by a crash) is left out and
   * reported; any other line that is not an anchor is an error.
   *
   * @throws IllegalArgumentException naming the file, the line and what is wrong with it
   */
  public static Anchors read(Path file) throws IOException {
    List<AnchorLine> anchors = new ArrayList<>();
    Scan scan = scan(file, anchors::add);
    return new Anchors(List.copyOf(anchors), scan.incompleteLastLine());
  }

  /**
   * Most bytes a line may have before it is refused unread: enough for {@link #MAX_LINE_CHARS}
   * characters of any UTF-8 width.
   */
  private static final int MAX_LINE_BYTES = 4 * MAX_LINE_CHARS;

  /**
   * What a pass over an anchor file found besides its lines.
   *
   * @param size the file's length in bytes as read
   * @param completeEnd where its last complete line ends (after its newline)
   * @param completeLines how many complete lines (blank ones too) the file holds up to there
   */
  private record Scan(long size, long completeEnd, int completeLines) {
    boolean incompleteLastLine() {
      return completeEnd < size;
    }
  }

  /**
   * Where a pass over an anchor file stopped: after its last complete line, {@code offset} bytes
   * and {@code line} lines into the file, so that the next pass can start there ({@link
   * #readFrom}).
   */
  public record Position(long offset, int line) {
    /** The start of the file. */
    public static final Position START = new Position(0, 0);
  }

  /** Takes each line a pass over an anchor file reads, in order. */
  @FunctionalInterface
  public interface LineSink {
    void accept(AnchorLine line) throws IOException;
  }

  /**
   * Hands {@code sink} each anchor line after {@code from}, oldest first, reading only the bytes
   * after it, and returns where the last complete line ends: a file that only grows is read once
   * however often it is polled. A file shorter than {@code from}, or whose byte before it does not
   * end a line (replaced or cut since), is read from its start. Lines are checked as {@link #read}
   * checks them, in seq order among those read.
   *
   * @throws IllegalArgumentException naming the file, the line and what is wrong with it
   */
  public static Position readFrom(Path file, Position from, LineSink sink) throws IOException {
    Scan scan = scan(file, from, sink);
    return new Position(scan.completeEnd(), scan.completeLines());
  }

  /**
   * Reads the file a chunk at a time and hands each anchor line, in order, to {@code sink}: memory
   * stays at one line however long the file. A last line without its newline is left out.
   *
   * @throws IllegalArgumentException naming the file, the line and what is wrong with it
   */
  private static Scan scan(Path file, LineSink sink) throws IOException {
    return scan(file, Position.START, sink);
  }

  /** As {@link #scan(Path, LineSink)}, from {@code from} on when the file can resume there. */
  private static Scan scan(Path file, Position from, LineSink sink) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return scan(file, channel, resumable(channel, from) ? from : Position.START, sink);
    }
  }

  /**
   * Whether a pass can start at {@code from}: the file is at least that long and the byte before it
   * ends a line (a file cut or replaced since is read from its start).
   */
  private static boolean resumable(FileChannel channel, Position from) throws IOException {
    if (from.offset() == 0) {
      return true;
    }
    ByteBuffer before = ByteBuffer.allocate(1);
    return channel.size() >= from.offset()
        && channel.read(before, from.offset() - 1) == 1
        && before.get(0) == '\n';
  }

  private static Scan scan(Path file, FileChannel channel, Position from, LineSink sink)
      throws IOException {
    java.nio.charset.CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(256);
    byte[] chunk = new byte[64 * 1024];
    long offset = from.offset();
    long completeEnd = from.offset();
    int number = from.line();
    long lineBytes = 0;
    long before = 0;
    try (java.io.InputStream in =
        java.nio.channels.Channels.newInputStream(channel.position(from.offset()))) {
      for (int read = in.read(chunk); read != -1; read = in.read(chunk)) {
        int start = 0;
        for (int i = 0; i < read; i++) {
          if (chunk[i] != '\n') {
            continue;
          }
          lineBytes += i - start;
          number++;
          if (lineBytes > MAX_LINE_BYTES) {
            throw tooLong(file, number);
          }
          line.write(chunk, start, i - start);
          completeEnd = offset + i + 1;
          String text;
          try {
            text = utf8.decode(ByteBuffer.wrap(line.toByteArray())).toString();
          } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(
                "Audit anchor file " + file + " is not UTF-8 text, so not an anchor file", e);
          }
          line.reset();
          lineBytes = 0;
          start = i + 1;
          if (text.isBlank()) {
            continue;
          }
          AnchorLine anchor = parse("Audit anchor file " + file, number, text);
          if (anchor.anchor().seq() < before) {
            throw invalid(
                file,
                number,
                "seq "
                    + anchor.anchor().seq()
                    + " is lower than the line before it ("
                    + before
                    + "); anchors are only ever appended");
          }
          before = anchor.anchor().seq();
          sink.accept(anchor);
        }
        lineBytes += read - start;
        if (lineBytes > MAX_LINE_BYTES) {
          // Too long for an anchor even before its newline (a torn write is one short line): not
          // an anchor file, and a source without newlines (a device) is not read for ever.
          throw tooLong(file, number + 1);
        }
        line.write(chunk, start, read - start);
        offset += read;
      }
    }
    return new Scan(offset, completeEnd, number);
  }

  /**
   * Parses one anchor line; {@code source} and {@code lineNumber} name it in errors ({@code "Audit
   * anchor file PATH"} for a file's lines).
   *
   * @throws IllegalArgumentException naming the source, the line and what is wrong with it
   */
  public static AnchorLine parse(String source, int lineNumber, String line) {
    if (line.length() > MAX_LINE_CHARS) {
      throw invalid(
          source,
          lineNumber,
          "the line has " + line.length() + " characters; an anchor has at most " + MAX_LINE_CHARS);
    }
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw invalid(source, lineNumber, "not JSON (" + e.getOriginalMessage() + ")");
    }
    if (node == null || !node.isObject()) {
      throw invalid(source, lineNumber, "expected a JSON object with seq and hash");
    }
    JsonNode seq = node.get("seq");
    if (seq == null || !seq.isIntegralNumber() || !seq.canConvertToLong() || seq.asLong() < 1) {
      throw invalid(source, lineNumber, "\"seq\" must be a record number, at least 1");
    }
    JsonNode hash = node.get("hash");
    if (hash == null || !hash.isTextual() || !hash.asText().matches("[0-9a-fA-F]{64}")) {
      throw invalid(source, lineNumber, "\"hash\" must be 64 hexadecimal characters");
    }
    String anchoredAt = text(source, lineNumber, node, "anchoredAt");
    String keyId = text(source, lineNumber, node, "keyId");
    String prev = text(source, lineNumber, node, "prev");
    String signature = text(source, lineNumber, node, "sig");
    if (keyId != null || prev != null || signature != null) {
      if (keyId == null || prev == null || signature == null || anchoredAt == null) {
        throw invalid(
            source,
            lineNumber,
            "a signed line has \"keyId\", \"prev\", \"sig\" and \"anchoredAt\", all strings;"
                + " this one lacks some");
      }
    }
    return new AnchorLine(
        lineNumber,
        new Anchor(seq.asLong(), hash.asText()),
        anchoredAt,
        keyId,
        prev,
        signature,
        line);
  }

  /** A string field, or null when absent. */
  private static String text(String source, int lineNumber, JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null) {
      return null;
    }
    if (!value.isTextual()) {
      throw invalid(source, lineNumber, "\"" + field + "\" must be a string");
    }
    return value.asText();
  }

  private static IllegalArgumentException tooLong(Path file, int line) {
    return invalid(
        file,
        line,
        "the line has more than "
            + MAX_LINE_BYTES
            + " bytes; an anchor has at most "
            + MAX_LINE_CHARS
            + " characters");
  }

  private static IllegalArgumentException invalid(Path file, int line, String reason) {
    return invalid("Audit anchor file " + file, line, reason);
  }

  private static IllegalArgumentException invalid(String source, int line, String reason) {
    return new IllegalArgumentException(source + " line " + line + ": " + reason);
  }
}
