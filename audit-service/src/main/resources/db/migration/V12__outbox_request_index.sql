-- An erasure deletes the request's rows of the outbox to the release gate (a review decision not
-- yet sent is then never sent); the outbox keeps published rows until retention, so without this
-- index each erasure would read all of them.
create index if not exists review_outbox_request_idx on review_outbox (request_id);
