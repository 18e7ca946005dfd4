-- What a review decision was made on. A person may approve an output the release gate held because
-- no verdict came in time; if the moderation job's REVIEW verdict reaches the gate first, the gate
-- does not release on that approval (ReviewDecision v2 names the verdict it was made on), writes the
-- hold again naming the review, and the audit store opens the item again for a person to decide
-- under the verdict's reasons.
--
-- review_decision.verdict_id: the verdict the decision names ('' none: held for want of a verdict);
--   null for decisions written before ReviewDecision v2, which name none.
-- review_item.late_verdict_id / late_gate_event_id: a verdict whose hold reached the audit store
--   after the item was decided (or closed) on no verdict, and that hold's event. verdict_id and
--   gate_event_id keep what the decision was made on; before this migration the late hold replaced
--   them whatever the item's state.
-- Nullable columns only: no row is rewritten, no index built.
alter table review_decision add column verdict_id text;
alter table review_item add column late_verdict_id text;
alter table review_item add column late_gate_event_id text;
