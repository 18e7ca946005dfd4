-- Each tenant's submission allowance counted once for every audit-service process sharing this
-- database (GENGUARD_AUDIT_SUBMIT_RATE_SCOPE=cluster, the default): a token bucket per tenant,
-- refilled by the database's clock so that the processes' clocks do not matter. A row is only a
-- counter: it is dropped once the bucket is full again, and the table is unlogged (a database
-- crash or a failover to a standby empties it, which gives each tenant at most one burst extra).
create unlogged table tenant_submit_bucket (
    tenant_id  text             primary key,
    per_second int              not null check (per_second > 0),
    burst      int              not null check (burst >= 1),
    tokens     double precision not null,
    at         timestamptz      not null,
    taken      boolean          not null
);
