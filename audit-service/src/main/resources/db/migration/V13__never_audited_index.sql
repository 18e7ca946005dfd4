-- The ranges of Kafka records the audit service never read (the broker deleted them first), which
-- the metrics collector sums every round: a partial index that stays empty while nothing is lost.
create index if not exists audit_log_never_audited_idx on audit_log (seq)
    where event_type = 'RecordsNeverAudited';
