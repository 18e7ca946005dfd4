-- Sends of an unfinished flow's record again (UnfinishedFlows.resend and resendAll): how many, the
-- last one's time and its unfinished.resend action, so that a bulk resend after a partial failure
-- skips what it sent, and the listings show what was sent again.
alter table unfinished_flow
    add column resent_count  integer not null default 0,
    add column resent_at     timestamptz,
    add column resend_action text;
