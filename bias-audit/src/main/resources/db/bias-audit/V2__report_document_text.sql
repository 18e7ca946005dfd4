-- A report document exactly as written: document_sha256 is the SHA-256 of this text's UTF-8
-- bytes, and the JSON export returns it byte for byte. The jsonb column drops whitespace and
-- reorders keys, so neither document::text nor a document re-serialized from it reproduces the
-- hash. Null for reports stored before this column: their exact text was never kept; they stay
-- readable from the jsonb document, but their export does not reproduce their hash.
alter table report add column document_text text;
