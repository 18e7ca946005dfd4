-- An erasure reaches the release gate: the outbox that sends review decisions to the gate also
-- sends erasure notices (audit.erasures), in the transaction of the erasure. Rows written before
-- this migration are review decisions.
alter table review_outbox add column topic text not null default 'review.decisions'
    check (topic in ('review.decisions', 'audit.erasures'));

-- The requests erased on demand, so that records arriving after the erasure (an output still on
-- its way, the gate's outcome for it) are found and erased too. One row per request, the last
-- erasure's time.
create table request_erasure (
    request_id text        primary key,
    tenant_id  text        not null,
    erased_at  timestamptz not null
);
create index request_erasure_at_idx on request_erasure (erased_at);
