-- A review item per tenant and request id: two tenants may use one request id (the request id is
-- the client's), and the second tenant's hold under it got no item of its own (the writer's insert
-- met the first tenant's item, on conflict (request_id), and did nothing), so nobody could review
-- it. The primary key is (request_id, tenant_id): every writer and reader matches an item on both,
-- and the index still serves a lookup by request id alone (the review endpoints find which tenants
-- hold an id, the writer closes the items of a batch's held ids). review_id stays unique: a review
-- id names one item's decision, whichever tenant's. No other table references review_item; the
-- other indexes (state, tenant and state, gate event) are unchanged. Rebuilding the key takes an
-- exclusive lock on review_item for as long as the new index takes to build (its rows, not the
-- audit log's).
alter table review_item drop constraint review_item_pkey;
alter table review_item add constraint review_item_pkey primary key (request_id, tenant_id);
