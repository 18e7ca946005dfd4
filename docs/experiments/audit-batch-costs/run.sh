#!/bin/bash
# What an audit-writer batch costs PostgreSQL, by part (fiftieth session, issue 2).
#
#   run.sh setup BIN_DIR     scratch cluster (port 55871, socket /tmp/audit-batch-costs-sock),
#                            the audit migrations in Flyway order, 100,000 requests of history
#   run.sh rounds N INDEX... N rounds; each round runs the batch once as it is ("base") and once
#                            per INDEX dropped inside the transaction; every transaction rolls back
#   python3 agg.py FILE      medians per variant and statement (ms, and shared buffer hits)
#   run.sh stop BIN_DIR
#
# BIN_DIR: the embedded PostgreSQL's binaries (e.g. /tmp/embedded-pg/PG-*/bin). As root, the server
# runs as $PG_USER (default nobody; any unprivileged user). A batch is 500 requests' four records: the audit_log insert,
# then each projection insert under EXPLAIN (ANALYZE, BUFFERS, TIMING OFF), then
# `set constraints all immediate`, which runs the deferred foreign-key checks the commit would run
# (one per projection row), timed alone ("deferred_fk").
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MIGRATIONS="$HERE/../../../audit-service/src/main/resources/db/migration"
DATA=/tmp/audit-batch-costs-data
SOCK=/tmp/audit-batch-costs-sock
P="psql -h $SOCK -p 55871 -U postgres -X -q -v ON_ERROR_STOP=1"
as_user() { if [[ $(id -u) == 0 ]]; then runuser -u "${PG_USER:-nobody}" -- "$@"; else "$@"; fi; }
cd "$HERE"
case "$1" in
  setup)
    rm -rf "$DATA" "$SOCK"; mkdir -p "$DATA" "$SOCK"
    [[ $(id -u) == 0 ]] && chown "${PG_USER:-nobody}" "$DATA" "$SOCK"
    as_user "$2/initdb" -D "$DATA" -U postgres -A trust >/dev/null
    printf "port=55871\nunix_socket_directories='%s'\nfsync=off\n" "$SOCK" >>"$DATA/postgresql.conf"
    as_user "$2/pg_ctl" -D "$DATA" -l "$DATA/log" -w start >/dev/null
    $P -c "create database audit"
    # Flyway's order: by version (28.4 after 28).
    for f in $(cd "$MIGRATIONS" && ls V*.sql | sed -E 's/^V([0-9]+)(_([0-9]+))?__.*/\1.\3 &/; s/^([0-9]+)\. /\1.0 /' | sort -t. -k1,1n -k2,2n | cut -d' ' -f2); do
      $P -d audit -1 -f "$MIGRATIONS/$f" >/dev/null
    done
    for b in $(seq 0 500 99500); do
      printf 'begin;\n\\set b %s\n\\set explain %s\n\\i batch.sql\ncommit;\n' "$b" "''"
    done | $P -d audit
    $P -d audit -c analyze ;;
  rounds)
    n="$2"; shift 2
    for r in $(seq 1 "$n"); do
      for v in base "$@"; do
        drop=""; [[ "$v" != base ]] && drop="drop index $v;"
        printf 'begin; %s\n\\set b 100000\n\\set explain %s\n\\i batch.sql\n\\timing on\nset constraints all immediate;\n\\timing off\nrollback;\n' \
            "$drop" "'explain (analyze, buffers, timing off)'" | $P -d audit 2>&1 |
          awk -v v="$v" -v r="$r" '/Insert on/{t=$3; nb=1} /Buffers: shared/ && nb==1 {b=$0; nb=0}
            /Execution Time/{print r, v, t, $3, b} /^Time:/{print r, v, "deferred_fk", $2}'
      done
    done ;;
  stop) as_user "$2/pg_ctl" -D "$DATA" -w stop >/dev/null ;;
esac
