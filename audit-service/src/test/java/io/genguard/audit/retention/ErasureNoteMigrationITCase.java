package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.Migrations;
import io.genguard.testsupport.IntegrationInfrastructure;
import org.junit.jupiter.api.Test;

/**
 * Migration V40: the erasure notes ({@code request_erasure}, one per request and tenant scope since
 * V39) take an older instance's insert again, without widening its scope, and the notes a tenant's
 * admin's erasure left before V39 ("every tenant") are narrowed to that tenant where the action log
 * says so.
 */
class ErasureNoteMigrationITCase {
  /** The insert of an instance older than V39 ({@code Retention.tellTheGate}), as it was. */
  private static final String BEFORE_V39 =
      "insert into request_erasure (request_id, tenant_id, erased_at) values ('%s', %s, %s)"
          + " on conflict (request_id) do update set erased_at = excluded.erased_at,"
          + " tenant_id = case when request_erasure.tenant_id = excluded.tenant_id"
          + " then excluded.tenant_id end";

  /** The insert of the fifty-first session's instances (V39). */
  private static final String V39 =
      "insert into request_erasure (request_id, tenant_id, erased_at) values ('%s', %s, %s)"
          + " on conflict (request_id, (coalesce(tenant_id, ''))) do update"
          + " set erased_at = excluded.erased_at";

  @Test
  void shouldRecordAnOlderInstancesErasuresWithTheirOwnScopes() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("erasure_note_older_instance_it");
    Migrations.migrate(url, infra, "latest");

    // Before V40 the first failed: "there is no unique or exclusion constraint matching the ON
    // CONFLICT specification" (the erasure rolled back, answered 500).
    Migrations.execute(
        url,
        infra,
        String.format(BEFORE_V39, "old", "'acme'", "'2026-12-07T10:00:00Z'"),
        String.format(BEFORE_V39, "old", "'beta'", "'2026-12-07T10:01:00Z'"),
        String.format(BEFORE_V39, "old", "'acme'", "'2026-12-07T10:02:00Z'"),
        String.format(V39, "old", "'gamma'", "'2026-12-07T10:03:00Z'"),
        String.format(V39, "old", "'gamma'", "'2026-12-07T10:04:00Z'"),
        String.format(BEFORE_V39, "everyone", "null", "'2026-12-07T10:05:00Z'"));

    // One note per scope, each with its last erasure's time: acme's and beta's not widened to
    // every tenant (the older instance's update), so no third tenant's records are followed up.
    assertThat(
            Migrations.rows(
                url,
                infra,
                "select request_id, tenant_id, erased_at at time zone 'UTC' from request_erasure"
                    + " order by request_id, tenant_id"))
        .containsExactly(
            "everyone null 2026-12-07 10:05:00",
            "old acme 2026-12-07 10:02:00",
            "old beta 2026-12-07 10:01:00",
            "old gamma 2026-12-07 10:04:00");
    assertThat(Migrations.rows(url, infra, "select count(*) from only request_erasure"))
        .as("the notes are request_erasure_note's rows")
        .containsExactly("0");
  }

  @Test
  void shouldNarrowATenantAdminsNoteWrittenBeforeV39ToItsTenant() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("erasure_note_narrowed_it");
    Migrations.migrate(url, infra, "39");
    Migrations.execute(
        url,
        infra,
        "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
            + " source_partition, source_offset, payload, recorded_at, prev_hash, hash,"
            + " chain_version) select g, 'action-' || g, 'ApiAction', null, null, 'api', 0, g,"
            + " '{}', now(), '\\x00', '\\x00', 1 from generate_series(1, 8) g",
        action(1, "tok-ann", "ann", "'acme'", "tadm"),
        // The follow-up's own action names no caller tenant: it kept the note's scope.
        action(2, null, "erasure-follow-up", "null", "tadm"),
        action(3, "tok-gus", "gus", "null", "global"),
        action(4, "tok-ann", "ann", "'acme'", "two"),
        action(5, "tok-bob", "bob", "'beta'", "two"),
        action(6, "tok-ann", "ann", "'acme'", "both"),
        action(7, "tok-ann", "ann", "'acme'", "cli-and-admin"),
        // A command-line erasure (no token, no tenant): every tenant.
        "insert into api_action values ('a8', 'action-8', 'requests.erase', null,"
            + " 'audit erase (command line)', 'ADMIN', null, 'acme', 'cli-and-admin',"
            + " 'cli-and-admin', '{}', now())",
        "insert into request_erasure values"
            + " ('tadm', null, '2026-12-07T09:00:00Z'), ('global', null, '2026-12-07T09:00:00Z'),"
            + " ('two', null, '2026-12-07T09:00:00Z'), ('no-action', null, '2026-12-07T09:00:00Z'),"
            + " ('cli-and-admin', null, '2026-12-07T09:00:00Z'),"
            + " ('both', null, '2026-12-07T09:30:00Z'), ('both', 'acme', '2026-12-07T09:00:00Z')");

    Migrations.migrate(url, infra, "latest");

    assertThat(
            Migrations.rows(
                url,
                infra,
                "select request_id, tenant_id, erased_at at time zone 'UTC' from request_erasure"
                    + " order by request_id, tenant_id"))
        .containsExactly(
            // acme's admin's note and acme's own one: one note of acme, the later time
            "both acme 2026-12-07 09:30:00",
            "cli-and-admin null 2026-12-07 09:00:00",
            "global null 2026-12-07 09:00:00",
            "no-action null 2026-12-07 09:00:00",
            "tadm acme 2026-12-07 09:00:00",
            "two null 2026-12-07 09:00:00");
  }

  /** A {@code requests.erase} action (its audit record {@code action-N} is there). */
  private static String action(
      int n, String tokenId, String callerName, String callerTenant, String requestId) {
    return "insert into api_action values ('a"
        + n
        + "', 'action-"
        + n
        + "', 'requests.erase', "
        + (tokenId == null ? "null" : "'" + tokenId + "'")
        + ", '"
        + callerName
        + "', 'ADMIN', "
        + callerTenant
        + ", 'acme', '"
        + requestId
        + "', '"
        + requestId
        + "', '{}', now())";
  }
}
