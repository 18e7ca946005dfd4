-- Chain version 3: a record's digest is the SHA-256 of its canonical JSON with the SHA-256 of its
-- payload in place of the payload (payload_sha256, kept here). A tombstone (payload removed by
-- retention or an erasure) keeps payload_sha256, so the verifier can still recompute its digest
-- from its remaining columns: its event id, type, tenant, request, source and recorded time stay
-- bound. Version-2 tombstones keep only their digest, which binds none of them. Rows of versions 1
-- and 2 are left as they are and verified as such; the writer appends version 3 from now on.
-- A nullable column, and check constraints that every existing row meets, added NOT VALID: no row is
-- rewritten or read (the audit log is the largest table), new and updated rows are checked.
alter table audit_log add column payload_sha256 bytea;
alter table audit_log drop constraint audit_log_version_check;
alter table audit_log add constraint audit_log_version_check check (chain_version in (1, 2, 3)) not valid;
alter table audit_log add constraint audit_log_payload_sha256_check
    check ((chain_version = 3) = (payload_sha256 is not null)) not valid;
alter table audit_log drop constraint audit_log_tombstone_check;
alter table audit_log add constraint audit_log_tombstone_check
    check (payload is not null
        or (chain_version in (2, 3) and tombstoned_at is not null and tombstone_seq is not null)) not valid;
-- Versions never go down along the chain: the verifier takes a version-2 record after a version-3
-- one as a record downgraded by hand (a version-2 tombstone binds none of its columns). An audit
-- service older than this migration, still running beside an upgraded one, would append version 2
-- after version 3: its insert is refused here (its ingestion stops and retries, and logs this
-- message) rather than leave a chain that fails verification. Writers hold the chain lock while they
-- insert, so the record before is the chain's tail or one of the same batch.
create function audit_log_version_not_lower() returns trigger language plpgsql as $$
declare
    before_version smallint;
begin
    select chain_version into before_version from audit_log where seq = new.seq - 1;
    if before_version is not null and new.chain_version < before_version then
        raise exception 'audit_log seq %: chain version % after version %: an audit service older than migration V28 still writes to this store; stop it (upgrade every audit service instance)',
            new.seq, new.chain_version, before_version;
    end if;
    return new;
end
$$;
create trigger audit_log_version_not_lower before insert on audit_log
    for each row execute function audit_log_version_not_lower();
