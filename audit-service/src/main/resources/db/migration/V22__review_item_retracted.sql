-- A review item whose output the release gate released after a person rejected it (the gate held
-- the output because no verdict came in time, then released it on the late verdict before the
-- rejection reached it) reads RETRACTED: the audit writer takes that release down in the
-- transaction that records it (RejectedReleases), rather than closing the item as RELEASED as if
-- it had been approved. Only the check constraint changes; no row is rewritten.
alter table review_item drop constraint review_item_state_check;
alter table review_item add constraint review_item_state_check
    check (state in ('PENDING', 'DECIDED', 'RELEASED', 'QUARANTINED', 'RETRACTED'));
