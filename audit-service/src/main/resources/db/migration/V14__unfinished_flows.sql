-- Requests that got no answer (no output, no failure) and outputs that got no release-gate outcome
-- within their deadline (UnfinishedFlows): the pipeline's promises checked from the audit store,
-- whichever stage lost the record. Each row comes from one FlowUnfinished record of the chain.
create table unfinished_flow (
    event_id        text        primary key references audit_log (event_id),
    kind            text        not null check (kind in ('NO_ANSWER', 'NO_GATE_OUTCOME')),
    request_id      text        not null,
    tenant_id       text,
    record_seq      bigint      not null,  -- the request's or the output's record
    recorded_at     timestamptz not null,  -- when the audit service recorded it
    found_at        timestamptz not null,
    answered_seq    bigint,                -- the first answer recorded after all, if any
    answered_at     timestamptz,
    dismissed_at    timestamptz,           -- closed by a person (an unfinished.dismiss action)
    dismissed_by    text,
    dismiss_action  text,
    unique (kind, request_id)
);
create index unfinished_flow_open_idx on unfinished_flow (recorded_at)
    where answered_seq is null and dismissed_at is null;
create index unfinished_flow_tenant_idx on unfinished_flow (tenant_id, recorded_at);

-- How far each kind has been checked: every record of the kind up to checked_seq has been looked
-- at once its deadline had passed. The row is locked for a round, so processes take turns.
create table unfinished_flow_watch (
    kind        text   primary key check (kind in ('NO_ANSWER', 'NO_GATE_OUTCOME')),
    checked_seq bigint not null
);
insert into unfinished_flow_watch (kind, checked_seq) values ('NO_ANSWER', 0), ('NO_GATE_OUTCOME', 0);

