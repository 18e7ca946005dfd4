-- The release gate's restatements (GateDecisionRestated, on gate.restatements): a decision whose
-- outcome this store never got, restated from the gate's memory when the audit service sent the
-- output again. Until now they were in audit_log only. Kept here too, so that search and export
-- show the decision instead of nothing, and a restated release can be taken down: since
-- GateDecisionRestated v2 it names the outcome the gate wrote (outcome_event_id, outcome_basis;
-- null in restatements from before, which cannot be taken down by it).
create table gate_restatement (
    event_id         text        primary key
                                 references audit_log (event_id) deferrable initially deferred,
    request_id       text        not null,
    tenant_id        text        not null,
    output_id        text        not null,
    decision         text        not null check (decision in ('RELEASED', 'QUARANTINED', 'ERASED')),
    decided_at       timestamptz not null,
    restated_at      timestamptz not null,
    -- An outcome's event id is a UUID; a longer one (not from the gate) is refused, so that the
    -- ingestor records the restatement as a dead letter instead of a takedown failing on it later
    -- (a retraction is keyed, and indexed, by it).
    outcome_event_id text check (length(outcome_event_id) <= 256),
    outcome_basis    text check (outcome_basis in ('VERDICT', 'REVIEW', 'INTEGRITY',
                                                   'VERDICT_TIMEOUT', 'ERASURE')),
    check ((outcome_event_id is null) = (outcome_basis is null))
);
create index gate_restatement_request_idx on gate_restatement (request_id);
create index gate_restatement_output_idx on gate_restatement (output_id);
-- A takedown by release window finds restated releases by when they were decided.
create index gate_restatement_released_idx on gate_restatement (tenant_id, decided_at)
    where decision = 'RELEASED';

-- The restatements recorded before this table, from their audit records (those whose content
-- retention or an erasure removed have no payload, and no row, as for every other projection).
insert into gate_restatement (event_id, request_id, tenant_id, output_id, decision, decided_at,
                              restated_at, outcome_event_id, outcome_basis)
select event_id, request_id, payload::jsonb ->> 'tenantId', payload::jsonb ->> 'outputId',
       payload::jsonb ->> 'decision', (payload::jsonb ->> 'decidedAt')::timestamptz,
       (payload::jsonb ->> 'restatedAt')::timestamptz, payload::jsonb ->> 'outcomeEventId',
       payload::jsonb ->> 'outcomeBasis'
from audit_log
where event_type = 'GateDecisionRestated' and payload is not null
on conflict (event_id) do nothing;
