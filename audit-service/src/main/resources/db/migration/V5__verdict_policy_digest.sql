-- The SHA-256 of the policy file each verdict was decided under (ModerationVerdict v2), so that a
-- policy file can be matched to the verdicts it decided; empty for verdicts recorded before it.
-- A constant default: no table rewrite.
alter table moderation_verdict add column policy_sha256 text not null default '';
