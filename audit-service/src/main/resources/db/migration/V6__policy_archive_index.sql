-- Recorded policy files are policies.record actions whose target is the file's SHA-256: a verdict's
-- policySha256 finds its file through this index instead of every action.
create index api_action_policy_target_idx on api_action (target, acted_at)
    where action = 'policies.record';
