-- One audit-writer-like batch: 500 requests x 4 records (audit_log, then the projections),
-- ids from :b. Mirrors AuditBenchmark.fill's rows (the plumbing bench's shapes).
:explain insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,
  source_partition, source_offset, payload, recorded_at, chain_version, entry_digest, prev_hash, hash, payload_sha256)
select 1000000000 + n * 4 + k, 'lookup-' || n || '-' || k,
  (array['GenerationRequest','GenerationOutput','ModerationVerdict','ReleaseGateOutcome'])[k + 1],
  'bench', 'lookup-' || n, 'bench', 0, n * 4 + k, '{"text":"' || repeat('The quick brown fox jumps over the lazy dog. ', 6) || '"}', now(), 3,
  sha256(int8send(n * 4 + k)), sha256(int8send(n * 4 + k - 1)), sha256(int8send(n * 4 + k + 1)), sha256(int8send(n))
from generate_series(:b, :b + 499) as n, generate_series(0, 3) as k;
:explain insert into generation_request (request_id, event_id, tenant_id, prompt, parameters, attributes, submitted_at)
 select 'lookup-' || n, 'lookup-' || n || '-0', 'bench', 'Write a short note.', '{"maxTokens":100}',
  jsonb_build_object('userId', 'u-' || (n % 1000)), now() from generate_series(:b, :b + 499) n;
:explain insert into generation_output (output_id, event_id, request_id, tenant_id, text, model_name,
  model_version, backend, cost, attributes, generated_at) select 'lookup-out-' || n,
  'lookup-' || n || '-1', 'lookup-' || n, 'bench', repeat('The quick brown fox jumps over the lazy dog. ', 6), 'bench', '1', 'builtin',
  '{"outputTokens":100}', '{}', now() from generate_series(:b, :b + 499) n;
:explain insert into moderation_verdict (verdict_id, event_id, output_id, request_id, tenant_id,
  output_sha256, decision, unsafe_score, category_scores, reasons, groups, text_truncated, policy_id,
  policy_version, scorer_versions, attributes, decided_at) select 'lookup-verdict-' || n,
  'lookup-' || n || '-2', 'lookup-out-' || n, 'lookup-' || n, 'bench', 'x',
  case when n % 10 = 0 then 'REVIEW' else 'RELEASE' end, 0.02,
  '{"hate":0.02,"violence":0.01}',
  case when n % 10 = 0 then '[{"code":"category.review","category":"hate","decision":"REVIEW"}]'::jsonb else '[{"code":"policy.clear","decision":"RELEASE"}]'::jsonb end,
  array['religion:muslim'], false, 'default', 'bench', '{"trivial":"1"}',
  jsonb_build_object('userId', 'u-' || (n % 1000)), now() - (n || ' seconds')::interval from generate_series(:b, :b + 499) n;
:explain insert into gate_outcome (event_id, request_id, output_id, tenant_id, outcome, basis, verdict_id,
  decision, output_sha256, policy_version, reasons, decided_at) select 'lookup-' || n || '-3',
  'lookup-' || n, 'lookup-out-' || n, 'bench', case when n % 10 = 0 then 'HELD_FOR_REVIEW' else 'RELEASED' end, 'VERDICT', 'lookup-verdict-' || n,
  case when n % 10 = 0 then 'REVIEW' else 'RELEASE' end, 'x', 'bench', '[]', now() from generate_series(:b, :b + 499) n;
