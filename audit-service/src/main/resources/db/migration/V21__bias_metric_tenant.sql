-- A campaign's figures name the tenant whose verdicts they count (BiasMetric v2, tenantId): any
-- submitter can name a campaign's id in its requests' attributes, so the bias-aggregation job
-- counts each tenant's verdicts naming a campaign apart, and a campaign's figures are those of its
-- own tenant (campaign.tenant_id). Null in LIVE metrics and in campaign metrics recorded before
-- (their tenant is unknown: they are read as before). Adding a nullable column rewrites nothing.
alter table bias_metric add column tenant_id text;
