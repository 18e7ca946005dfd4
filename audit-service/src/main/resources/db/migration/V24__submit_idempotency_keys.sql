-- The Idempotency-Key of POST /api/v1/requests: which request a tenant's key stands for. The row is
-- written (committed) before the request goes to Kafka, so that a retry after an answer that was
-- lost, a 503 or a crash answers with the same request, or sends that same request again (same
-- request id and event id, which the audit writer, the generator and the gate take once), and never
-- submits a new one. The primary key makes two concurrent first tries of one key a single request.
-- Kept for 24 hours (IdempotencyKeys.KEPT), then deleted by the service's timer; a key whose row
-- has expired is free again.
create table submit_idempotency_key (
    tenant_id       text        not null,
    idempotency_key text        not null,
    -- SHA-256 (hex) of the submission as the API read it (tenant resolved, members in one order):
    -- the same key with another body is refused (422), never answered with this request.
    body_sha256     text        not null,
    request_id      text        not null,
    event_id        text        not null,
    submitted_at    timestamptz not null,
    created_at      timestamptz not null,
    expires_at      timestamptz not null,
    -- Set once Kafka acknowledged the request: a retry is then only answered, nothing is sent.
    accepted_at     timestamptz,
    -- A try sending the request holds the key until then (a retry meanwhile gets 409 with
    -- Retry-After); after it, a retry sends the same request again.
    claimed_until   timestamptz not null,
    primary key (tenant_id, idempotency_key)
);
create index submit_idempotency_key_expiry_idx on submit_idempotency_key (expires_at);
