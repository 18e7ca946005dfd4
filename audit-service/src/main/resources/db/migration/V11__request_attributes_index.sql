-- A data subject's requests by the attribute they were submitted with (e.g. userId): the lookup of
-- an access request (GET /api/v1/outputs?attribute=) and of an erasure (POST /api/v1/erasures)
-- asks for attributes @> {"key": "value"}, which this index answers without reading the tenant's
-- other requests.
create index if not exists generation_request_attributes_idx on generation_request using gin (attributes jsonb_path_ops);
-- On a large store the build takes a while and holds off writes to generation_request meanwhile
-- (ingestion waits; nothing is lost). To avoid that, build it beforehand, outside this migration:
--   create index concurrently generation_request_attributes_idx on generation_request
--     using gin (attributes jsonb_path_ops);
-- and this migration then finds it and does nothing.
