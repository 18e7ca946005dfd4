-- Tenants' own submission rates set through the API (PUT /api/v1/rates/{tenantId}); they override
-- GENGUARD_AUDIT_SUBMIT_RATES and the default, and every audit-service process reads them again
-- every 10 s. Each change is also an ApiAction in the hash chain (rates.set, rates.remove).
create table tenant_submit_rate (
    tenant_id  text        primary key,
    per_second int         not null check (per_second >= 0),
    burst      int         not null check (burst >= 1),
    set_at     timestamptz not null,
    set_by     text        not null
);
