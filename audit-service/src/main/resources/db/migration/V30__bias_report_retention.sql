-- Retention reaches the stored bias reports (Retention, ReportRedaction.pruneOld): once a report is
-- older than its tenant's retention period (the default, for reports of no tenant or of a tenant
-- without its own), the output texts its rows keep are removed, as an erasure removes one
-- request's, and the time is noted here, so that later runs pass the report by without reading its
-- body again. Reports stored before this migration are reached by the next retention run.
alter table bias_report add column texts_removed_at timestamptz;
create index bias_report_texts_kept_idx on bias_report (created_at) where texts_removed_at is null;
