-- Events read with the id of a record already in the audit log but with different content. Output,
-- verdict and event ids are derived (from the request id, the output id and the policy version), so
-- whoever can write gen.outputs or moderation.verdicts can send an event under the id of one yet to
-- come; the writer used to skip every event whose id was on record, and the genuine one, read
-- second, was then dropped without a trace. The first stays the record on the chain; every other
-- content read under its id is kept here (AuditWriter), once per content: an exact redelivery (same
-- id, same content) is still skipped without a row. Not part of the hash chain: the chain's
-- record is what the writer recorded first, and this table says that it was contested.
create table event_id_conflict (
    -- the contested record's id (the record on the chain)
    event_id                text        not null references audit_log (event_id),
    -- SHA-256 of the other content's canonical JSON (as a version-3 record's payload_sha256)
    payload_sha256          bytea       not null,
    -- SHA-256 of the recorded record's payload (a tombstone of chain version 1 or 2, which keeps
    -- no payload hash, cannot be compared: other content under its id is skipped as before)
    recorded_payload_sha256 bytea       not null,
    event_type              text        not null,
    tenant_id               text,
    request_id              text,
    source_topic            text        not null,
    source_partition        int         not null,
    source_offset           bigint      not null,
    -- the other content's canonical JSON; null when the recorded record's content was removed
    -- (retention, an erasure) before or after it came
    payload                 text,
    seen_at                 timestamptz not null,
    primary key (event_id, payload_sha256)
);
create index event_id_conflict_request_idx on event_id_conflict (request_id);
create index event_id_conflict_seen_idx on event_id_conflict (seen_at);
