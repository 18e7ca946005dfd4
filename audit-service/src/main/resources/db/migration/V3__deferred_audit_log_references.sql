-- Rows that reference an audit record (projections, review items, API actions) are checked against
-- audit_log at commit, not per statement: a writer inserts its projections first and takes the
-- chain lock only to append the audit records, so writers' projection inserts run in parallel.
-- The guarantee is unchanged: no transaction commits a row whose audit record does not exist.
do $$
declare
  c record;
begin
  for c in select conrelid::regclass as tbl, conname from pg_constraint
           where contype = 'f' and confrelid = 'audit_log'::regclass loop
    execute format('alter table %s alter constraint %I deferrable initially deferred',
                   c.tbl, c.conname);
  end loop;
end $$;
