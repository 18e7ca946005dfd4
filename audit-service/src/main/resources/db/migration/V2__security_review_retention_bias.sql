-- Chain version 2: hash = SHA-256(prev_hash || entry_digest) with entry_digest = SHA-256(canonical
-- JSON of the record). Keeping the digest lets retention remove a record's content (a tombstone)
-- while the chain stays verifiable. Rows written before this migration keep version 1
-- (hash = SHA-256(prev_hash || canonical JSON)) and are verified as such; they cannot be tombstoned.
alter table audit_log add column chain_version smallint not null default 1;
alter table audit_log alter column chain_version drop default;
alter table audit_log add column entry_digest bytea;
alter table audit_log alter column payload drop not null;
-- Set by retention: when the content was removed, and the seq of the RetentionApplied record that did it.
alter table audit_log add column tombstoned_at timestamptz;
alter table audit_log add column tombstone_seq bigint;
alter table audit_log add constraint audit_log_version_check check (chain_version in (1, 2));
alter table audit_log add constraint audit_log_digest_check check (chain_version = 1 or entry_digest is not null);
alter table audit_log add constraint audit_log_tombstone_check
    check (payload is not null or (chain_version = 2 and tombstoned_at is not null and tombstone_seq is not null));
-- Retention finds a tenant's old, not yet tombstoned records.
create index audit_log_retention_idx on audit_log (tenant_id, recorded_at) where payload is not null;
-- The verifier reads all retention records before it walks the chain.
create index audit_log_retention_records_idx on audit_log (seq) where event_type = 'RetentionApplied';
create index audit_log_tombstone_seq_idx on audit_log (tombstone_seq) where tombstone_seq is not null;

-- API tokens: only the SHA-256 of the token is stored; the token itself is shown once at creation.
create table api_token (
    token_id     text primary key,
    name         text not null,
    role         text not null check (role in ('SUBMITTER', 'REVIEWER', 'COMPLIANCE', 'ADMIN')),
    tenant_id    text,
    token_sha256 bytea not null,
    created_at   timestamptz not null,
    created_by   text not null,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    -- Only compliance and admin tokens may be global (see every tenant).
    check (tenant_id is not null or role in ('COMPLIANCE', 'ADMIN'))
);

-- Projection of ApiAction audit records: every state-changing call, with its caller.
create table api_action (
    action_id       text primary key,
    event_id        text not null unique references audit_log (event_id),
    action          text not null,
    caller_token_id text,
    caller_name     text not null,
    caller_role     text not null,
    caller_tenant   text,
    tenant_id       text,
    request_id      text,
    target          text,
    details         jsonb not null,
    acted_at        timestamptz not null
);
create index api_action_time_idx on api_action (acted_at desc, action_id desc);
create index api_action_tenant_time_idx on api_action (tenant_id, acted_at desc, action_id desc);
create index api_action_request_idx on api_action (request_id);

-- The review queue: one row per output the release gate held for review.
create table review_item (
    request_id       text primary key,
    output_id        text not null,
    tenant_id        text not null,
    verdict_id       text not null,
    gate_event_id    text not null references audit_log (event_id),
    held_at          timestamptz not null,
    -- PENDING: waiting for a person; DECIDED: decision sent to the gate; RELEASED / QUARANTINED: the
    -- gate acted on it.
    state            text not null check (state in ('PENDING', 'DECIDED', 'RELEASED', 'QUARANTINED')),
    claimed_by       text,
    claimed_token_id text,
    claimed_at       timestamptz,
    claim_expires_at timestamptz,
    review_id        text unique,
    action           text check (action in ('APPROVE', 'REJECT')),
    note             text,
    decided_by       text,
    decided_at       timestamptz
);
-- The queue lists one state, oldest first, keyset-paginated on (held_at, request_id).
create index review_item_state_idx on review_item (state, held_at, request_id);
create index review_item_tenant_state_idx on review_item (tenant_id, state, held_at, request_id);
create index review_item_gate_event_idx on review_item (gate_event_id);

-- Review decisions waiting to be published to review.decisions (transactional outbox): written in
-- the same transaction as the review, published afterwards, retried until the broker acknowledges.
create table review_outbox (
    review_id    text primary key,
    request_id   text not null,
    payload      bytea not null,   -- the ReviewDecision, single-object Avro encoding
    created_at   timestamptz not null,
    published_at timestamptz
);
create index review_outbox_unpublished_idx on review_outbox (created_at) where published_at is null;

-- Retention per tenant; tenants without a row use the service's default (GENGUARD_AUDIT_RETENTION_DAYS).
create table tenant_retention (
    tenant_id      text primary key,
    retention_days int  not null check (retention_days > 0),
    updated_at     timestamptz not null,
    updated_by     text not null
);

-- Bias audit campaigns and reports (filled by the bias-audit feature; generic on purpose).
create table campaign (
    campaign_id  text primary key,
    tenant_id    text,
    name         text not null,
    status       text not null,
    definition   jsonb not null,
    summary      jsonb,
    created_at   timestamptz not null,
    created_by   text not null,
    started_at   timestamptz,
    completed_at timestamptz
);
create index campaign_time_idx on campaign (created_at desc, campaign_id desc);
create index campaign_tenant_time_idx on campaign (tenant_id, created_at desc, campaign_id desc);

create table bias_report (
    report_id    text primary key,
    campaign_id  text references campaign (campaign_id),
    tenant_id    text,
    title        text not null,
    kind         text not null,
    model        text,
    window_start timestamptz,
    window_end   timestamptz,
    summary      jsonb not null,
    body_json    jsonb not null,
    body_csv     text not null,
    body_html    text not null,
    created_at   timestamptz not null,
    created_by   text not null
);
create index bias_report_time_idx on bias_report (created_at desc, report_id desc);
create index bias_report_tenant_time_idx on bias_report (tenant_id, created_at desc, report_id desc);
create index bias_report_campaign_idx on bias_report (campaign_id);

-- Indexes for output search (keyset pagination on decided_at, verdict_id) and the story of an output.
create index moderation_verdict_output_idx on moderation_verdict (output_id);
create index moderation_verdict_time_idx on moderation_verdict (decided_at desc, verdict_id desc);
create index moderation_verdict_tenant_time_idx on moderation_verdict (tenant_id, decided_at desc, verdict_id desc);
create index moderation_verdict_reasons_idx on moderation_verdict using gin (reasons jsonb_path_ops);
create index gate_outcome_output_time_idx on gate_outcome (output_id, decided_at desc);
create index bias_metric_window_idx on bias_metric (scope, window_start);

-- Outputs held for review before this migration join the queue (closed if the gate already decided).
insert into review_item (request_id, output_id, tenant_id, verdict_id, gate_event_id, held_at, state)
select distinct on (g.request_id) g.request_id, g.output_id, g.tenant_id, g.verdict_id, g.event_id, g.decided_at,
       coalesce((select f.outcome from gate_outcome f
                 where f.request_id = g.request_id and f.outcome in ('RELEASED', 'QUARANTINED')
                 order by f.decided_at limit 1), 'PENDING')
from gate_outcome g
where g.outcome = 'HELD_FOR_REVIEW'
order by g.request_id, g.decided_at;
