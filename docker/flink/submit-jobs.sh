#!/usr/bin/env bash
# Submits GenGuard's Flink jobs to the cluster at GENGUARD_FLINK_REST unless a job of the same
# name is already running, so `docker compose up` can run it again safely. A job's main method
# runs here: its configuration is this container's environment (GENGUARD_MODERATION_*,
# GENGUARD_BIAS_*, GENGUARD_KAFKA_BOOTSTRAP_SERVERS). GENGUARD_FLINK_SAVEPOINT_MODERATION and
# GENGUARD_FLINK_SAVEPOINT_BIAS restore a job from a savepoint directory (docs/OPERATIONS.md).
set -euo pipefail

REST="${GENGUARD_FLINK_REST:-http://jobmanager:8081}"
JAR=/opt/flink/usrlib/genguard-flink-jobs.jar
hostport="${REST#*://}"
HOST="${hostport%%:*}"
PORT="${hostport##*:}"

is_running() {
  curl -sf "$REST/jobs/overview" | tr -d '\n' \
    | grep -Eq "\"name\":\"$1\"[^}]*\"state\":\"(CREATED|INITIALIZING|RUNNING|RESTARTING)\""
}

submit() {
  local name="$1" class="$2" savepoint="$3"
  if is_running "$name"; then
    echo "[submit-jobs] $name is already running; not submitting it again"
    return 0
  fi
  local args=(run --detached "-Drest.address=$HOST" "-Drest.port=$PORT" --class "$class")
  if [[ -n "$savepoint" ]]; then
    echo "[submit-jobs] $name: restoring from $savepoint"
    args+=(--fromSavepoint "$savepoint")
  fi
  echo "[submit-jobs] submitting $name ($class)"
  /opt/flink/bin/flink "${args[@]}" "$JAR"
}

submit genguard-moderation io.genguard.jobs.ModerationJobMain "${GENGUARD_FLINK_SAVEPOINT_MODERATION:-}"
submit genguard-bias-aggregation io.genguard.bias.job.BiasAggregationJob "${GENGUARD_FLINK_SAVEPOINT_BIAS:-}"
