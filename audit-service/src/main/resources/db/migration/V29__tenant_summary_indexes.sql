-- A tenant's totals (GET /api/v1/summary with a tenant-bound token) count that tenant's audit
-- records and generation failures. Without these indexes each count read every tenant's rows (the
-- only tenant index on audit_log is partial: where payload is not null), so one tenant's summary
-- cost what the whole store costs and a few of them at once held the service's connection pool.
create index if not exists audit_log_tenant_idx on audit_log (tenant_id);
create index if not exists generation_failure_tenant_idx on generation_failure (tenant_id);
-- On a large store the build of audit_log_tenant_idx takes a while and holds off ingestion
-- meanwhile (nothing is lost). To avoid that, build it beforehand, outside this migration:
--   create index concurrently audit_log_tenant_idx on audit_log (tenant_id);
--   create index concurrently generation_failure_tenant_idx on generation_failure (tenant_id);
-- and this migration then finds them and does nothing.
-- A concurrent build that fails leaves an INVALID index of that name, which "if not exists" keeps:
-- drop it (drop index concurrently ...) before upgrading (docs/OPERATIONS.md).
