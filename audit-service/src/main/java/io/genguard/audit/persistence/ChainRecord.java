package io.genguard.audit.persistence;

/**
 * A record to append to the audit chain: an event read from Kafka, or an action the service itself
 * performed (API calls, retention), whose source is then not a Kafka topic.
 *
 * @param eventId unique id; a second record with the same id is never appended
 * @param eventType the Avro record name, or ApiAction / RetentionApplied
 * @param tenantId tenant the record belongs to, null when it belongs to none
 * @param requestId generation request it is about, if any
 * @param sourceTopic Kafka topic, or {@link #SERVICE_SOURCE} for the service's own records
 * @param sourcePartition Kafka partition, -1 for the service's own records
 * @param sourceOffset Kafka offset, -1 for the service's own records
 * @param payload canonical JSON of the record's content
 * @param judgementSha256 a verdict's SHA-256 (lowercase hex) of its canonical JSON without {@code
 *     decidedAt} ({@link AuditWriter#judgementSha256}), kept when its content is removed; null for
 *     other records
 */
public record ChainRecord(
    String eventId,
    String eventType,
    String tenantId,
    String requestId,
    String sourceTopic,
    int sourcePartition,
    long sourceOffset,
    String payload,
    String judgementSha256) {

  /** Source of records the audit service writes itself rather than reads from Kafka. */
  public static final String SERVICE_SOURCE = "audit-service";

  /** A record without a judgement digest: any but a verdict. */
  public ChainRecord(
      String eventId,
      String eventType,
      String tenantId,
      String requestId,
      String sourceTopic,
      int sourcePartition,
      long sourceOffset,
      String payload) {
    this(
        eventId,
        eventType,
        tenantId,
        requestId,
        sourceTopic,
        sourcePartition,
        sourceOffset,
        payload,
        null);
  }

  public static ChainRecord ofService(
      String eventId, String eventType, String tenantId, String requestId, String payload) {
    return new ChainRecord(
        eventId, eventType, tenantId, requestId, SERVICE_SOURCE, -1, -1, payload);
  }
}
