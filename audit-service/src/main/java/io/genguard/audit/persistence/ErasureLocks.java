package io.genguard.audit.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Per-request transaction-scoped advisory locks that an erasure of a request and a resend of its
 * unfinished flows both take, before the chain lock: an erasure waits for a resend that is sending
 * the request's records to Kafka, and a resend that got the lock after an erasure sees it (its
 * removed content, its {@code request_erasure} row) in the statements it runs next. A retention
 * batch tries them ({@link #tryLock}), also before the chain lock, for the requests among its
 * records that have an open unfinished flow, and leaves a request whose lock is held for its next
 * run: a resend never sends what a batch removes meanwhile. Held until the transaction ends. Keys
 * are the two-int form (a class and the request id's hash), a space apart from the chain lock's
 * one-bigint key; two requests whose ids hash alike only wait for each other.
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

  /**
   * Takes the locks of the requests that no other transaction holds, without waiting.
   *
   * @return the requests whose lock another transaction holds (not taken)
   */
  public static List<String> tryLock(Connection connection, Collection<String> requestIds)
      throws SQLException {
    List<String> busy = new ArrayList<>();
    if (requestIds.isEmpty()) {
      return busy;
    }
    try (PreparedStatement lock =
        connection.prepareStatement(
            "select r from unnest(?::text[]) r where not pg_try_advisory_xact_lock(?, hashtext(r))")) {
      lock.setArray(1, connection.createArrayOf("text", requestIds.toArray()));
      lock.setInt(2, CLASS);
      try (ResultSet rs = lock.executeQuery()) {
        while (rs.next()) {
          busy.add(rs.getString(1));
        }
      }
    }
    return busy;
  }
}
