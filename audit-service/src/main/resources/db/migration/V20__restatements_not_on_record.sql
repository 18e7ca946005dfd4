-- The gate's restatements of decisions whose outcome this store has not recorded: what search,
-- export, the totals, the replay and takedowns by window show in the outcome's place. One
-- definition instead of one condition each, which had drifted apart: a restatement that names
-- its outcome (GateDecisionRestated v2) stands in until that outcome's record arrives; one that
-- names none (a gate that decided before it kept the outcome's id) until an outcome of its output
-- with the same decision does (an ERASED decision was written as a quarantine).
create view gate_restatement_unrecorded as
select s.*
from gate_restatement s
where case
          when s.outcome_event_id is not null then
              not exists (select 1 from gate_outcome o where o.event_id = s.outcome_event_id)
          else
              not exists (select 1 from gate_outcome o
                          where o.output_id = s.output_id
                            and o.outcome = case s.decision when 'RELEASED' then 'RELEASED'
                                                            else 'QUARANTINED' end)
      end;
