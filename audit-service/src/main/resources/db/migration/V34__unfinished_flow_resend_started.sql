-- When a resend of the flow's record began (UnfinishedFlows.resend, resendAll): committed before
-- the record is sent, so that answers read while the send is under way, before the resend's action
-- and resent_count commit, are seen as coming after a resend (event_id_conflict.after_resend, see
-- AuditWriter). Cleared again when the send fails; one left by a process that stopped mid-send
-- counts for AuditWriter.RESEND_UNDER_WAY only.
alter table unfinished_flow add column resend_started_at timestamptz;
