package io.genguard.audit.persistence;

import org.apache.avro.specific.SpecificRecord;

/**
 * An event to persist, with where it was read from.
 *
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param event the decoded event
 */
public record IncomingEvent(String topic, int partition, long offset, SpecificRecord event) {
  public String eventId() {
    return field("eventId");
  }

  public String field(String name) {
    var field = event.getSchema().getField(name);
    if (field == null) {
      return null;
    }
    Object value = event.get(field.pos());
    return value == null ? null : value.toString();
  }

  public String type() {
    return event.getSchema().getName();
  }
}
