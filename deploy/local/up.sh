#!/usr/bin/env bash
# up.sh -- the distributed runtime on this machine: PostgreSQL, Kafka, then every service and the
# gateway as its own uvicorn process, each with its own database. down.sh undoes it.
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../.." && pwd)
# shellcheck source=services.env
source "$HERE/services.env"
VAR=${JOBLINK_VAR:-$REPO/var}
RUN=$VAR/up
PY=${PYTHON:-$REPO/.venv/bin/python}
PGPORT=${PGPORT:-54329}
KAFKA_PORT=${KAFKA_PORT:-9092}
mkdir -p "$RUN"
T0=$SECONDS

for infra in postgres kafka; do
    if ! "$HERE/$infra.sh" status >/dev/null 2>&1; then
        "$HERE/$infra.sh" start
        touch "$RUN/started-$infra"  # down.sh stops only what up.sh started
    fi
done

export JOBLINK_BUS=kafka JOBLINK_KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT" JOBLINK_VAR="$VAR"
# Secrets of this local deployment, made once and kept (mode 0600) under var/up.
secret() {  # secret FILE: print the secret in FILE, creating it first
    [[ -s $1 ]] || (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$1")
    cat "$1"
}
JOBLINK_INTERNAL_TOKEN_KEY=$(secret "$RUN/internal-token.key")
JOBLINK_ADMIN_CLIENT_SECRET=$(secret "$RUN/admin-client.secret")
export JOBLINK_INTERNAL_TOKEN_KEY JOBLINK_ADMIN_CLIENT_SECRET JOBLINK_ADMIN_CLIENT_ID=${JOBLINK_ADMIN_CLIENT_ID:-local-admin}
export JOBLINK_GATEWAY_DATABASE_URL="postgresql+asyncpg://joblink:joblink@127.0.0.1:$PGPORT/joblink_gateway"
for svc in $SERVICES; do
    upper=${svc^^}
    export "JOBLINK_${upper}_DATABASE_URL=postgresql+asyncpg://joblink:joblink@127.0.0.1:$PGPORT/joblink_$svc"
    port_var="${upper}_PORT"
    export "JOBLINK_GATEWAY_SERVICE_URLS__${upper}=http://127.0.0.1:${!port_var}"
done
"$PY" -m kit.cli migrate all 2>>"$RUN/migrate.log"

launch() {  # launch NAME PORT TARGET
    local name=$1 port=$2 target=$3 pidfile="$RUN/$1.pid"
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "$name: already running (pid $(cat "$pidfile"))"
        return
    fi
    setsid nohup "$PY" -m kit.cli serve "$target" --port "$port" >>"$RUN/$name.log" 2>&1 &
    echo $! >"$pidfile"
}
for svc in $SERVICES; do
    port_var="${svc^^}_PORT"
    launch "$svc" "${!port_var}" "$svc"
done
launch gateway "$GATEWAY_PORT" gateway

wait_ready() {  # wait_ready NAME PORT: poll /readyz with a deadline
    local name=$1 port=$2 deadline=$(( SECONDS + 60 ))
    until "$PY" - "$port" <<'PYEOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PYEOF
    do
        if ! kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
            echo "$name exited; last lines of $RUN/$name.log:" >&2
            tail -n 30 "$RUN/$name.log" >&2
            exit 1
        fi
        (( SECONDS < deadline )) || { echo "$name not ready after 60 s; see $RUN/$name.log" >&2; exit 1; }
        sleep 0.3
    done
    printf '%-14s ready on http://127.0.0.1:%s\n' "$name" "$port"
}
for svc in $SERVICES; do
    port_var="${svc^^}_PORT"
    wait_ready "$svc" "${!port_var}"
done
wait_ready gateway "$GATEWAY_PORT"
echo "JobLink is up in $(( SECONDS - T0 ))s: Swagger UI at http://127.0.0.1:$GATEWAY_PORT/docs (make down stops it)"
echo "Admin client: $JOBLINK_ADMIN_CLIENT_ID / secret in $RUN/admin-client.secret"
