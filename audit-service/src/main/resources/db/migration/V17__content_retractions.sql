-- Taking a released output down (Retractions): a ContentRetraction on content.retractions, sent
-- through the outbox in the transaction of the action that says why (requests.retract, or
-- requests.erase for an output released before its request was erased).
alter table review_outbox drop constraint review_outbox_topic_check;
alter table review_outbox add constraint review_outbox_topic_check
    check (topic in ('review.decisions', 'audit.erasures', 'content.retractions'));

-- One row per retracted release, keyed by the content.released outcome it takes down.
create table content_retraction (
    released_event_id text        primary key,
    request_id        text        not null,
    tenant_id         text        not null,
    output_id         text        not null,
    basis             text        not null check (basis in ('TAKEDOWN', 'ERASURE')),
    action_id         text        not null,
    retracted_at      timestamptz not null
);
create index content_retraction_request_idx on content_retraction (request_id);
create index content_retraction_tenant_time_idx on content_retraction (tenant_id, retracted_at);
