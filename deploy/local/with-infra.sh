#!/usr/bin/env bash
# with-infra.sh CMD... -- run CMD with PostgreSQL and Kafka reachable, then stop what was started.
#
# DATABASE_URL / KAFKA_BOOTSTRAP, when set, name servers that are already running and are used
# as they are. Otherwise the local servers (deploy/local/{postgres,kafka}.sh) are started unless
# they already run; only the ones started here are stopped afterwards.
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PGPORT=${PGPORT:-54329}
KAFKA_PORT=${KAFKA_PORT:-9092}
started=()

cleanup() {
    local rc=$?
    for (( i=${#started[@]}-1; i>=0; i-- )); do
        "$HERE/${started[i]}.sh" stop >/dev/null 2>&1 || echo "warning: could not stop ${started[i]}" >&2
    done
    exit "$rc"
}
trap cleanup EXIT INT TERM

ensure() {  # ensure NAME: start deploy/local/NAME.sh unless it already runs
    local t0=$SECONDS
    if ! "$HERE/$1.sh" status >/dev/null 2>&1; then
        "$HERE/$1.sh" start
        started+=("$1")
        echo "$1 started in $(( SECONDS - t0 ))s"
    fi
}

if [[ -z ${DATABASE_URL:-} ]]; then
    ensure postgres
    export DATABASE_URL="postgresql+asyncpg://joblink:joblink@127.0.0.1:${PGPORT}/postgres"
fi
if [[ -z ${KAFKA_BOOTSTRAP:-} ]]; then
    ensure kafka
    export KAFKA_BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"
fi
"$@"
