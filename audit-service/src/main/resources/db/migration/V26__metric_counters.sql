-- The running totals behind the audit-store counters of /metrics (observability's
-- AuditStoreCollector: genguard_audit_verdicts_total, _gate_outcomes_total, _dead_letters_total,
-- ...). They were recounted from the audit store at every start, but an erasure or a retention run
-- empties payloads and deletes projection rows, so a restart after one exported smaller totals and
-- Prometheus read the drop as a counter reset: increase() then reported the whole total, and
-- critical alerts fired on old events. Kept here, a total only ever grows: each round adds what
-- the audit log gained since metric_counter_cursor.seq, in the transaction that moves the cursor
-- (the cursor row's lock makes replicas take turns, so no range is counted twice).
--
-- Label values only (decisions, outcomes, bases, topics, stages, codes, models, devices, policy
-- versions): no request's content, so neither erasure nor retention touches these tables.
create table metric_counter_cursor (
    collector  text        primary key,
    -- audit_log.seq counted up to; -1 until the first round has counted the log's history
    seq        bigint      not null,
    updated_at timestamptz not null
);

create table metric_counter (
    name    text   not null,
    -- the label set as key, value, key, value, ... sorted by key (Micrometer's order)
    labels  text[] not null,
    value   bigint not null,
    -- a label set seen for the first time is exported at 0 for one round and gets its count in the
    -- next (value += pending), so that Prometheus sees it at 0 first and increase() counts its
    -- first events (a series that appears at 1 has no earlier sample: its increase reads 0)
    pending bigint not null default 0,
    primary key (name, labels)
);
