-- The audit log: every event GenGuard sees, once, in a hash chain.
-- hash = SHA-256(prev_hash || UTF-8 canonical JSON of the record); the first prev_hash is 32 zero bytes.
create table audit_log (
    seq              bigint      primary key,
    event_id         text        not null unique,
    event_type       text        not null,
    tenant_id        text,
    request_id       text,
    source_topic     text        not null,
    source_partition int         not null,
    source_offset    bigint      not null,
    payload          text        not null,   -- canonical JSON exactly as hashed
    recorded_at      timestamptz not null,
    prev_hash        bytea       not null,
    hash             bytea       not null
);
create index audit_log_request_idx on audit_log (request_id);

-- Projections for queries; each row comes from one audit_log event in the same transaction.
create table generation_request (
    request_id   text primary key,
    event_id     text not null references audit_log (event_id),
    tenant_id    text not null,
    prompt       text not null,
    backend      text,
    model        text,
    parameters   jsonb not null,
    attributes   jsonb not null,
    submitted_at timestamptz not null
);
create index generation_request_tenant_time_idx on generation_request (tenant_id, submitted_at);

create table generation_output (
    output_id     text primary key,
    event_id      text not null references audit_log (event_id),
    request_id    text not null,
    tenant_id     text not null,
    text          text not null,
    model_name    text not null,
    model_version text not null,
    backend       text not null,
    watermark     jsonb,
    manifest      jsonb,
    cost          jsonb not null,
    attributes    jsonb not null,
    generated_at  timestamptz not null
);
create index generation_output_request_idx on generation_output (request_id);
create index generation_output_tenant_time_idx on generation_output (tenant_id, generated_at);

create table generation_failure (
    event_id   text primary key references audit_log (event_id),
    request_id text not null,
    tenant_id  text not null,
    code       text not null,
    reason     text not null,
    backend    text,
    attempts   int  not null,
    failed_at  timestamptz not null
);
create index generation_failure_request_idx on generation_failure (request_id);

create table moderation_verdict (
    verdict_id      text primary key,
    event_id        text not null references audit_log (event_id),
    output_id       text not null,
    request_id      text not null,
    tenant_id       text not null,
    output_sha256   text not null,
    decision        text not null,
    unsafe_score    double precision not null,
    category_scores jsonb not null,
    reasons         jsonb not null,
    groups          text[] not null,
    provenance      jsonb,
    text_truncated  boolean not null,
    policy_id       text not null,
    policy_version  text not null,
    scorer_versions jsonb not null,
    model           jsonb,
    attributes      jsonb not null,
    decided_at      timestamptz not null
);
create index moderation_verdict_request_idx on moderation_verdict (request_id);
create index moderation_verdict_tenant_decision_time_idx on moderation_verdict (tenant_id, decision, decided_at);
create index moderation_verdict_groups_idx on moderation_verdict using gin (groups);

create table gate_outcome (
    event_id       text primary key references audit_log (event_id),
    request_id     text not null,
    output_id      text not null,
    tenant_id      text not null,
    outcome        text not null,
    basis          text not null,
    verdict_id     text not null,
    decision       text not null,
    review_id      text,
    output_sha256  text not null,
    policy_version text not null,
    reasons        jsonb not null,
    decided_at     timestamptz not null
);
create index gate_outcome_request_idx on gate_outcome (request_id);
create index gate_outcome_tenant_outcome_time_idx on gate_outcome (tenant_id, outcome, decided_at);

create table review_decision (
    review_id  text primary key,
    event_id   text not null references audit_log (event_id),
    request_id text not null,
    output_id  text not null,
    tenant_id  text not null,
    action     text not null,
    reviewer   text not null,
    note       text not null,
    decided_at timestamptz not null
);
create index review_decision_request_idx on review_decision (request_id);

create table dead_letter (
    event_id         text primary key references audit_log (event_id),
    source_topic     text   not null,
    source_partition int    not null,
    source_offset    bigint not null,
    stage            text   not null,
    reason           text   not null,
    error_class      text   not null,
    payload          bytea,
    failed_at        timestamptz not null
);

create table bias_metric (
    event_id         text primary key references audit_log (event_id),
    scope            text not null,
    campaign_id      text,
    model            text not null,
    group_name       text not null,
    window_start     timestamptz not null,
    window_end       timestamptz not null,
    count            bigint not null,
    unsafe_count     bigint not null,
    unsafe_score_sum double precision not null,
    block_count      bigint not null,
    review_count     bigint not null,
    release_count    bigint not null,
    category_counts  jsonb not null,
    computed_at      timestamptz not null
);
create index bias_metric_campaign_idx on bias_metric (campaign_id);
