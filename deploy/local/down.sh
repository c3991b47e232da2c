#!/usr/bin/env bash
# down.sh -- stop what up.sh started: the service processes (by pid), then PostgreSQL and Kafka
# if up.sh was the one that started them.
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../.." && pwd)
VAR=${JOBLINK_VAR:-$REPO/var}
RUN=$VAR/up
[[ -d $RUN ]] || { echo "nothing to stop"; exit 0; }

for pidfile in "$RUN"/*.pid; do
    [[ -f $pidfile ]] || continue
    name=$(basename "$pidfile" .pid)
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "$name stopped"
    fi
    rm -f "$pidfile"
done
for infra in kafka postgres; do
    if [[ -f $RUN/started-$infra ]]; then
        "$HERE/$infra.sh" stop
        rm -f "$RUN/started-$infra"
    fi
done
