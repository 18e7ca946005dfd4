-- Every send of an unfinished flow's record again, by the unfinished.resend action that recorded it
-- (UnfinishedFlows.resend and resendAll). unfinished_flow keeps the count and the last one; a flow
-- sent again by several bulk calls names each of them here, so that its request's evidence bundle
-- holds every bulk action that sent it, not only the last.
create table unfinished_flow_resend (
    flow_event_id text        not null references unfinished_flow (event_id),
    action_id     text        not null,
    resent_at     timestamptz not null,
    primary key (flow_event_id, action_id)
);

-- The sends before this table: only the last one of each flow was kept.
insert into unfinished_flow_resend (flow_event_id, action_id, resent_at)
select event_id, resend_action, resent_at from unfinished_flow where resend_action is not null;
