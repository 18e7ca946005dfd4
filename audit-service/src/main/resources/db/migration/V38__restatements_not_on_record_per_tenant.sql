-- The gate's restatements of decisions whose outcome this store has not recorded (V20), matched
-- with an outcome of the restatement's own tenant. Two tenants may use one request id, and their
-- outputs then share the output id (the generator derives it from the request id alone): by output
-- id (or outcome event id) alone, one tenant's outcome counted as the record of the other tenant's
-- restatement, which then no longer stood in for its outcome in search, export, the totals, the
-- replay and takedowns by window. The columns are V20's, so the view is replaced in place.
create or replace view gate_restatement_unrecorded as
select s.*
from gate_restatement s
where case
          when s.outcome_event_id is not null then
              not exists (select 1 from gate_outcome o
                          where o.event_id = s.outcome_event_id
                            and o.tenant_id = s.tenant_id)
          else
              not exists (select 1 from gate_outcome o
                          where o.output_id = s.output_id
                            and o.tenant_id = s.tenant_id
                            and o.outcome = case s.decision when 'RELEASED' then 'RELEASED'
                                                            else 'QUARANTINED' end)
      end;
