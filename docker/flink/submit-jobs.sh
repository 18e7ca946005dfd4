#!/usr/bin/env bash
# Submits GenGuard's Flink jobs to the cluster at GENGUARD_FLINK_REST unless a job of the same
# name is already there, so `docker compose up` can run it again safely. A job's main method
# runs here: its configuration is this container's environment (GENGUARD_MODERATION_*,
# GENGUARD_BIAS_*, GENGUARD_KAFKA_BOOTSTRAP_SERVERS). GENGUARD_FLINK_SAVEPOINT_MODERATION and
# GENGUARD_FLINK_SAVEPOINT_BIAS restore a job from a savepoint directory (docs/OPERATIONS.md).
#
#   submit-jobs.sh [JOURNAL]
#
# JOURNAL (optional): a file each submission is appended to, "<time> <job name> <job id> <savepoint
# or 'no-savepoint'>". Keep it beside the checkpoints: a JobManager without high availability
# forgets its jobs when it restarts, and the journal then tells which checkpoint directory
# (checkpoints/<job id>) was which job's.
set -euo pipefail

REST="${GENGUARD_FLINK_REST:-http://jobmanager:8081}"
FLINK="${FLINK_HOME:-/opt/flink}/bin/flink"
JAR=/opt/flink/usrlib/genguard-flink-jobs.jar
hostport="${REST#*://}"
HOST="${hostport%%:*}"
PORT="${hostport##*:}"
JOURNAL="${1:-}"

# Only these states mean a job is gone. Every other one (CREATED, INITIALIZING, RUNNING,
# RESTARTING, FAILING, CANCELLING, SUSPENDED, RECONCILING, and any state a later Flink adds) is a
# job the cluster still holds: a second copy would share its transactional id prefix, the two
# would fence each other's transactions, and every output would be judged twice.
GONE_STATES=" FINISHED CANCELED FAILED "

# One line per job of the cluster: "<jid> <state> <name>" (read with grep and sed: the image has
# no JSON tool). Exits the script when the overview cannot be read: submitting blind could start
# a second copy of a job that is there.
overview() {
  local json
  if ! json="$(curl -sf "$REST/jobs/overview")"; then
    echo "[submit-jobs] cannot read $REST/jobs/overview: is the JobManager up?" \
      "Nothing submitted." >&2
    exit 1
  fi
  # One job object per line, then its three fields, in whatever order Flink writes them.
  local job jid state name
  tr -d '\n' <<<"$json" | sed 's/{[[:space:]]*"jid"/\n&/g' \
    | while IFS= read -r job || [[ -n "$job" ]]; do
      jid="$(field jid <<<"$job")"
      state="$(field state <<<"$job")"
      name="$(field name <<<"$job")"
      if [[ -n "$jid" && -n "$state" ]]; then
        echo "$jid $state $name"
      fi
    done
}

# The first string value of "$1" in the JSON text on stdin.
field() {
  grep -o "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" | head -n 1 \
    | sed 's/.*:[[:space:]]*"\(.*\)"$/\1/' || true
}

submit() {
  local name="$1" class="$2" savepoint="$3" jobs="$4"
  local jid state job_name ended=()
  while read -r jid state job_name; do
    if [[ "$job_name" != "$name" ]]; then
      continue
    fi
    if [[ "$GONE_STATES" == *" $state "* ]]; then
      ended+=("$jid $state")
      continue
    fi
    echo "[submit-jobs] $name is already on the cluster (job $jid, $state);" \
      "not submitting another. If it does not become RUNNING, look at it in the Flink UI," \
      "or end it (flink cancel $jid) and run this again."
    return 0
  done <<<"$jobs"
  if [[ ${#ended[@]} -gt 0 ]]; then
    echo "[submit-jobs] $name: earlier runs have ended (${ended[*]})"
  fi
  local args=(run --detached "-Drest.address=$HOST" "-Drest.port=$PORT" --class "$class")
  if [[ -n "$savepoint" ]]; then
    echo "[submit-jobs] $name: restoring from $savepoint"
    args+=(--fromSavepoint "$savepoint")
  fi
  echo "[submit-jobs] submitting $name ($class)"
  local output
  if ! output="$("$FLINK" "${args[@]}" "$JAR" 2>&1)"; then
    echo "$output"
    echo "[submit-jobs] flink run of $name failed (above); nothing more submitted." >&2
    exit 1
  fi
  echo "$output"
  # flink run --detached prints "Job has been submitted with JobID <id>".
  local submitted
  submitted="$(grep -o 'JobID [0-9a-f]*' <<<"$output" | head -n 1 | cut -d' ' -f2 || true)"
  if [[ -n "$JOURNAL" ]]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $name ${submitted:-unknown} ${savepoint:-no-savepoint}" \
      >>"$JOURNAL"
  fi
}

JOBS="$(overview)"
submit genguard-moderation io.genguard.jobs.ModerationJobMain \
  "${GENGUARD_FLINK_SAVEPOINT_MODERATION:-}" "$JOBS"
submit genguard-bias-aggregation io.genguard.bias.job.BiasAggregationJob \
  "${GENGUARD_FLINK_SAVEPOINT_BIAS:-}" "$JOBS"
