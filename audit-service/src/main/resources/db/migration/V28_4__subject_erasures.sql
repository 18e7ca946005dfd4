-- Erasures by attribute (POST /api/v1/erasures): the criterion of each call, so that the erasure
-- follow-up also erases the requests of that tenant with that attribute that were submitted before
-- the call but reach the audit store after it (still on their way, an audit service behind or down,
-- a request record recovered from the dead letters), for 7 days (Retention.FOLLOW); older rows go.
-- The value (a data subject's id) is kept as the SHA-256 of its UTF-8 bytes only.
create table subject_erasure (
    erasure_id   bigserial   primary key,
    tenant_id    text        not null,
    attr_key     text        not null,
    value_sha256 text        not null,
    reason       text        not null,
    erased_at    timestamptz not null,
    -- The chain's head up to which the follow-up has looked for such requests: at the call, the
    -- head the call's own lookup covered.
    checked_seq  bigint      not null
);
create index subject_erasure_at_idx on subject_erasure (erased_at);

-- A request the chain knows only by its dead letters names no tenant; its erasure is followed up
-- all the same.
alter table request_erasure alter column tenant_id drop not null;

-- An erasure removes the request's output text from the stored bias reports that sampled it
-- (ReportRedaction): found through their rows' request ids.
create index if not exists bias_report_rows_idx on bias_report using gin ((body_json -> 'rows') jsonb_path_ops);

-- An erasure by attribute also finds a request by its output's or its verdict's attributes (its
-- request record may have been dead-lettered), as V11 does for the requests. On a large store the
-- builds hold off ingestion for a while (nothing is lost); to avoid that, build them beforehand:
--   create index concurrently generation_output_attributes_idx on generation_output
--     using gin (attributes jsonb_path_ops);
--   create index concurrently moderation_verdict_attributes_idx on moderation_verdict
--     using gin (attributes jsonb_path_ops);
-- and this migration then finds them and does nothing.
create index if not exists generation_output_attributes_idx on generation_output using gin (attributes jsonb_path_ops);
create index if not exists moderation_verdict_attributes_idx on moderation_verdict using gin (attributes jsonb_path_ops);
