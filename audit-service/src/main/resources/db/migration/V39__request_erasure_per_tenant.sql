-- The requests erased on demand are noted per tenant scope (request_erasure.tenant_id: the tenant
-- whose late records the follow-up erases, null for every tenant): one note per request and scope.
-- With one note per request, tenant A's and tenant B's erasures of one request id (two tenants may
-- use one) widened it to every tenant, so their follow-ups erased a third tenant's records too
-- (reported by the fifty-first session's review). A null scope is one scope: coalesce makes two
-- notes of every tenant one.
alter table request_erasure drop constraint request_erasure_pkey;
create unique index request_erasure_scope_idx on request_erasure (request_id, (coalesce(tenant_id, '')));
