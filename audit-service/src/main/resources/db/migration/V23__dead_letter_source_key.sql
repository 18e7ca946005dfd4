-- A dead letter's source key (DeadLetter.key) as text: every topic that has dead letters is keyed by
-- request id, so this is the id of the request whose record could not be processed. The audit log
-- names no request for a dead letter (the event has no request id of its own), so this column is
-- how an erasure, its follow-up and a tenant's retention find a request's dead letters (Retention).
-- Null when the source record had no key, or one that is not UTF-8 text without NUL characters.
alter table dead_letter add column source_key text;
create index dead_letter_source_key_idx on dead_letter (source_key) where source_key is not null;

-- Dead letters recorded before: their key from their audit record's payload (base64), where it
-- still has one. Dead letters are few; a key that is not text is left null, one row at a time.
do $$
declare
    letter record;
begin
    for letter in
        select d.event_id, a.payload::jsonb ->> 'key' as key
        from dead_letter d
                 join audit_log a on a.event_id = d.event_id
        where a.payload is not null
          and a.payload::jsonb ->> 'key' is not null
        loop
            begin
                update dead_letter
                set source_key = convert_from(decode(letter.key, 'base64'), 'UTF8')
                where event_id = letter.event_id;
            exception
                when others then
                    null; -- not UTF-8 text, or it holds NUL: no request's id
            end;
        end loop;
end
$$;
