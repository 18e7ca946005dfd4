-- Explanations shown are requests.explain actions whose target is the verdict explained: a
-- reviewer's ask looks up the earlier one of its verdict, and the background explainer the held
-- verdicts that have none. Both read this index instead of every action.
create index api_action_explain_target_idx on api_action (target, acted_at desc)
    where action = 'requests.explain';
