-- Other content read under a recorded output's or verdict's id (event_id_conflict, V32) after a
-- person sent the request's unfinished flow again (UnfinishedFlows.resend, resendAll): a request
-- the generators had answered after all is answered again, with another text under the same output
-- id and its verdict under the same verdict id, and an output sent to the gate again is judged again
-- (a scorer changed since may judge it otherwise). Such rows are kept as the others are but marked,
-- and are counted apart (genguard_audit_event_id_conflicts_after_resend_total), not in the counter
-- that raises GenGuardEventIdConflict. A verdict that differs from the record only in decidedAt is
-- no conflict at all (AuditWriter). Rows kept before this migration are not marked.
alter table event_id_conflict add column after_resend boolean not null default false;
