-- The trigger of migration V28 (versions never go down along the chain) ran its PL/pgSQL function,
-- with an index lookup of the record before, for every record appended: 14-34% of the time of the
-- insert into audit_log (EXPLAIN ANALYZE), the ingestor's costliest statement. A record of version
-- 3, the highest version audit_log_version_check allows, can never be lower than the one before
-- it, so the function now runs only for records below version 3: what it refuses is unchanged (a
-- version-2 record after a version-3 one, from an audit service older than V28), and no row is
-- read or rewritten. A migration that allows a higher version must move this bound with it.
drop trigger audit_log_version_not_lower on audit_log;
create trigger audit_log_version_not_lower before insert on audit_log
    for each row when (new.chain_version < 3) execute function audit_log_version_not_lower();
