-- Retention asks, for each batch of records it is about to tombstone, which of them an open
-- unfinished flow could send again (Retention.OPEN_FLOWS: record_seq = any(...) among the open
-- flows). Without this index each batch read every open flow. Partial like the query's filter, so
-- it holds the open flows only.
create index if not exists unfinished_flow_open_record_idx on unfinished_flow (record_seq)
    where answered_seq is null and dismissed_at is null;
