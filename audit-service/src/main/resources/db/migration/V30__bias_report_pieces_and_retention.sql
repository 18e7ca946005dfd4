-- Retention reaches the stored bias reports (Retention, ReportRedaction.pruneOld): once a report is
-- older than its tenant's retention period (the default, for reports of no tenant or of a tenant
-- without its own), the output texts its rows keep are removed, as an erasure removes one
-- request's, and the time is noted here, so that later runs pass the report by without reading its
-- body again. Reports stored before this migration are reached by the next retention run.
alter table bias_report add column texts_removed_at timestamptz;
create index bias_report_texts_kept_idx on bias_report (created_at) where texts_removed_at is null;

-- A report's bodies (JSON, CSV, HTML) in pieces of 1 Mi characters (ReportBodies), every piece but
-- the last full: the service serves a body a piece at a time, each read by its key, where a piece
-- of one text column made PostgreSQL decompress and count the text up to it (a 64 Mi-character
-- HTML report took 151 s to serve, 2.9 s a piece). body_json stays (jsonb, for the erasure's
-- lookup by request id); body_json_text, body_csv and body_html are moved here and left null.
create table bias_report_piece (
    report_id text not null references bias_report (report_id) on delete cascade,
    format    text not null check (format in ('JSON', 'CSV', 'HTML')),
    piece     int  not null,
    body      text not null,
    primary key (report_id, format, piece)
);
alter table bias_report alter column body_csv drop not null;
alter table bias_report alter column body_html drop not null;
-- Each stored body is read once into a variable (|| '' keeps it there whole, not as a pointer to
-- its stored, compressed form) and cut in memory.
do $$
declare
    r record;
    t text;
    n int;
    i int;
begin
    for r in select report_id from bias_report order by report_id loop
        for f in 1..3 loop
            if f = 1 then
                select coalesce(body_json_text, body_json::text) || '' into t from bias_report where report_id = r.report_id;
            elsif f = 2 then
                select body_csv || '' into t from bias_report where report_id = r.report_id;
            else
                select body_html || '' into t from bias_report where report_id = r.report_id;
            end if;
            n := char_length(t);
            i := 0;
            loop
                insert into bias_report_piece (report_id, format, piece, body)
                values (r.report_id, (array['JSON', 'CSV', 'HTML'])[f], i, substr(t, i * 1048576 + 1, 1048576));
                i := i + 1;
                exit when i * 1048576 >= n;
            end loop;
        end loop;
        update bias_report set body_json_text = null, body_csv = null, body_html = null
            where report_id = r.report_id;
    end loop;
end
$$;
