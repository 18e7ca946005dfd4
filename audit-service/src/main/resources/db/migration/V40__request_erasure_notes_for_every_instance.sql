-- The erasure notes (request_erasure, one per request and tenant scope since V39) move into a child
-- table, request_erasure_note, that inherits request_erasure: the statements that read or delete
-- from request_erasure read and delete its rows, as before. request_erasure itself holds no row
-- any more and gets back a unique key on request_id alone, so that an instance older than V39 (its
-- insert says `on conflict (request_id)`) beside an upgraded one records its erasures again (since
-- V39 that insert failed: no unique key matched it, and the erasure was rolled back, answered 500).
-- A trigger puts each row inserted into request_erasure, by any version, into request_erasure_note
-- as the note of its own scope, keeping its last erasure's time (as the V39 insert does), and
-- inserts nothing into request_erasure: so an older instance's two tenants' erasures of one id are
-- two notes, never widened to every tenant (the older instance's own update of a note it finds is
-- never reached). Reported by the fifty-first session.
create table request_erasure_note () inherits (request_erasure);
insert into request_erasure_note select * from only request_erasure;
delete from only request_erasure;
create unique index request_erasure_note_scope_idx
    on request_erasure_note (request_id, (coalesce(tenant_id, '')));
create index request_erasure_note_at_idx on request_erasure_note (erased_at);
-- For the older instances' inserts (a key only request_erasure's own rows, none, are under).
create unique index request_erasure_request_idx on request_erasure (request_id);

create function request_erasure_note() returns trigger language plpgsql as $$
begin
    insert into request_erasure_note (request_id, tenant_id, erased_at)
        values (new.request_id, new.tenant_id, new.erased_at)
        on conflict (request_id, (coalesce(tenant_id, ''))) do update
        set erased_at = excluded.erased_at;
    return null;
end
$$;
create trigger request_erasure_note before insert on request_erasure
    for each row execute function request_erasure_note();

-- Notes written before V39 by a tenant's admin read "every tenant" (null): an erasure by id was
-- noted so whoever erased it. A note of no tenant is narrowed to tenant T where the request's
-- every erasure by a caller (its requests.erase actions, the follow-ups' own left out: they keep
-- the note's scope) was by a caller of T: a caller of one tenant erases that tenant's records
-- alone, so T's is every scope the note stands for. A note with any erasure by a caller of every
-- tenant (a global admin's: its scope is every tenant), or by callers of two tenants, or with no
-- erasure action found, stays as it is.
create temporary table narrowed as
select a.request_id, min(a.caller_tenant) as tenant_id
from api_action a
where a.action = 'requests.erase'
  and a.request_id in (select request_id from request_erasure_note where tenant_id is null)
  and not (a.caller_token_id is null and a.caller_name = 'erasure-follow-up')
group by a.request_id
having count(*) = count(a.caller_tenant) and min(a.caller_tenant) = max(a.caller_tenant);
-- One note per request and scope: where T's note is there already, it keeps the later time.
update request_erasure_note t set erased_at = n.erased_at
from request_erasure_note n join narrowed w on w.request_id = n.request_id
where n.tenant_id is null and t.request_id = n.request_id and t.tenant_id = w.tenant_id
  and n.erased_at > t.erased_at;
delete from request_erasure_note n using narrowed w
where n.tenant_id is null and w.request_id = n.request_id
  and exists (select 1 from request_erasure_note t
              where t.request_id = n.request_id and t.tenant_id = w.tenant_id);
update request_erasure_note n set tenant_id = w.tenant_id from narrowed w
where n.tenant_id is null and w.request_id = n.request_id;
drop table narrowed;
