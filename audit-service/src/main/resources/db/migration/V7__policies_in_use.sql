-- Every policy file that decided verdicts, by the SHA-256 the verdicts carry (ModerationVerdict v2):
-- when it first and last decided one and how many it decided, kept by the audit writer in the
-- transaction that records the verdicts. A file the policy archive lacks (a job run with a file
-- the audit service never read) is found here without reading every verdict. Rows are never
-- removed: retention may tombstone verdicts, not the fact that a file decided them.
create table policy_in_use (
    sha256           text        primary key,
    policy_id        text        not null,
    policy_version   text        not null,
    first_decided_at timestamptz not null,
    last_decided_at  timestamptz not null,
    verdicts         bigint      not null
);
insert into policy_in_use (sha256, policy_id, policy_version, first_decided_at, last_decided_at, verdicts)
select policy_sha256, min(policy_id), min(policy_version), min(decided_at), max(decided_at), count(*)
from moderation_verdict
where policy_sha256 <> ''
group by policy_sha256;
