-- The JSON body of a bias report exactly as it was stored (its canonical form, whose SHA-256 the
-- audit chain records as jsonSha256 in the bias_report.create action). body_json (jsonb) stays for
-- queries, but PostgreSQL re-renders jsonb (spaces, key order, numbers), so body_json::text does not
-- hash to the recorded digest. GET /api/v1/bias/reports/{id}?format=json serves this column; a
-- report stored before this migration has none and is served from body_json as before.
alter table bias_report add column body_json_text text;
