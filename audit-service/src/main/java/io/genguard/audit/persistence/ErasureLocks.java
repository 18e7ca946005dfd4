package io.genguard.audit.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;

/**
 * Per-request transaction-scoped advisory locks that an erasure of a request and a resend of its
 * unfinished flows both take, before the chain lock: an erasure waits for a resend that is sending
 * the request's records to Kafka, and a resend that got the lock after an erasure sees it (its
 * removed content, its {@code request_erasure} row) in the statements it runs next. Held until the
 * transaction ends. Keys are the two-int form (a class and the request id's hash), a space apart
 * from the chain lock's one-bigint key; two requests whose ids hash alike only wait for each other.
 */
public final class ErasureLocks {
  /** Lock class: "eras" in ASCII. */
  static final int CLASS = 0x65726173;

  private ErasureLocks() {}

  /**
   * Takes the locks of the requests, in the order of their keys, so that two callers locking
   * several requests each never wait for each other in a cycle.
   */
  public static void lock(Connection connection, Collection<String> requestIds)
      throws SQLException {
    if (requestIds.isEmpty()) {
      return;
    }
    try (PreparedStatement lock =
        connection.prepareStatement(
            "select count(pg_advisory_xact_lock(?, h)) from (select distinct hashtext(r) as h"
                + " from unnest(?::text[]) r order by h) keys")) {
      lock.setInt(1, CLASS);
      lock.setArray(2, connection.createArrayOf("text", requestIds.toArray()));
      lock.execute();
    }
  }
}
