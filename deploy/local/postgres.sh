#!/usr/bin/env bash
# Private PostgreSQL cluster for local development, from Debian's postgresql package.
#
#   deploy/local/postgres.sh start|stop|status
#
# Environment:
#   PGPORT       TCP port on 127.0.0.1   (default 54329)
#   JOBLINK_VAR  runtime state           (default <repo>/var)  -> $JOBLINK_VAR/pg/
#
# Layout of $JOBLINK_VAR/pg/: data/ (the cluster), run/ (unix socket, mode 0700),
# postgres.log (server log), setup.log (initdb/psql output), data/joblink.conf
# (listen address, port, socket dir; regenerated on every start).
# Access: TCP 127.0.0.1 only, scram-sha-256 (role joblink / password joblink, LOGIN CREATEDB);
# unix socket: trust, but the socket directory is private to the cluster owner.
# Databases (deploy/local/postgres-init.sql, created when missing on every start):
#   joblink_candidates joblink_vacancies joblink_matching joblink_notifications joblink_insights
#   joblink_insights joblink_gateway
#
# Running as root: PostgreSQL refuses to run as root, so the cluster belongs to the
# "postgres" OS user and every server command goes through `runuser -u postgres --`.
# That user must be able to traverse every directory down to the data directory.
# Directories that belong to this checkout (the repo itself and everything under it, and
# $JOBLINK_VAR) get o+x when they lack it; directories *above* the checkout are never
# touched (e.g. we do not open up /root). If one of those blocks the postgres user, the
# cluster lives in /var/tmp/joblink-pg-<sha256(var path)[:12]> instead and $JOBLINK_VAR/pg
# becomes a symlink to it (printed as a warning). That decision is sticky: an existing
# symlink is always followed. Note that `rm -rf var` then removes only the symlink.
# Running as a normal user: the cluster simply belongs to that user.
set -euo pipefail

JL_NAME=postgres
# shellcheck source=_common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/_common.sh"
cd /   # the server user may not be allowed into the caller's working directory

PGPORT=${PGPORT:-54329}
INIT_SQL=$JL_SCRIPT_DIR/postgres-init.sql
URL="postgresql+asyncpg://joblink:joblink@127.0.0.1:$PGPORT/"
PG_USER=postgres

# as_pg CMD... -- run CMD as the cluster owner.
as_pg() {
    if (( EUID == 0 )); then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

# is_ours DIR -- DIR is the repo, inside it, or inside $JOBLINK_VAR.
is_ours() {
    local d=$1 repo var
    repo=$(readlink -f -- "$JL_REPO")
    var=$(readlink -f -- "$JL_VAR")
    [[ $d == "$repo" || $d == "$repo"/* || $d == "$var" || $d == "$var"/* ]]
}

# pg_reaches DIR -- make sure the postgres user can traverse every directory down to DIR
# (adding o+x only on our own directories). Fails if a foreign directory blocks it.
pg_reaches() {
    local path d="" part
    local -a parts
    path=$(readlink -f -- "$1")
    IFS=/ read -ra parts <<<"${path#/}"
    for part in "" "${parts[@]}"; do
        d=${d%/}/$part
        runuser -u "$PG_USER" -- test -x "$d" && continue
        is_ours "$d" || return 1
        chmod o+x -- "$d"
    done
}

# resolve_paths [create] -- set PGROOT & co. Only "start" passes create: it may fix
# directory permissions or set up the /var/tmp fallback; stop/status never change anything.
resolve_paths() {
    local link=$JL_VAR/pg
    if [[ -L $link ]]; then
        PGROOT=$(readlink -f -- "$link")
    elif (( EUID != 0 )) || [[ ${1:-} != create ]]; then
        PGROOT=$link
    else
        id -u "$PG_USER" >/dev/null 2>&1 || ensure_server
        mkdir -p -- "$JL_VAR"
        if pg_reaches "$JL_VAR"; then
            PGROOT=$link
        else
            [[ -e $link/data/PG_VERSION ]] &&
                die "the postgres user can no longer reach $link/data (a parent directory lost o+x)"
            local hash
            hash=$(readlink -f -- "$JL_VAR" | sha256sum | cut -c1-12)
            PGROOT=/var/tmp/joblink-pg-$hash
            mkdir -p -- "$PGROOT"
            rmdir -- "$link" 2>/dev/null || true
            [[ -e $link ]] && die "$link exists but the postgres user cannot reach it"
            ln -s -- "$PGROOT" "$link"
            warn "a parent of $JL_VAR is closed to the postgres user; cluster lives in $PGROOT ($link -> it)"
        fi
    fi
    DATA=$PGROOT/data
    SOCKDIR=$PGROOT/run
    SERVER_LOG=$PGROOT/postgres.log
    SETUP_LOG=$PGROOT/setup.log
    [[ $PGROOT != *\'* ]] || die "paths containing a single quote are not supported: $PGROOT"
    (( ${#SOCKDIR} + 18 <= 107 )) || die "unix socket path too long ($SOCKDIR); use a shorter JOBLINK_VAR"
}

prepare_dirs() {
    mkdir -p -- "$PGROOT" "$SOCKDIR"
    if (( EUID == 0 )); then
        chown "$PG_USER:" -- "$PGROOT" "$SOCKDIR"
        [[ -e $DATA ]] && chown "$PG_USER:" -- "$DATA"
        touch -- "$SERVER_LOG" && chown "$PG_USER:" -- "$SERVER_LOG"
    fi
    chmod 700 -- "$PGROOT" "$SOCKDIR"
}

# find_pgbin -- set PGBIN to the server binaries matching the cluster (or the newest).
find_pgbin() {
    local v
    if [[ -f ${DATA:-/nonexistent}/PG_VERSION ]]; then
        v=$(<"$DATA/PG_VERSION")
        PGBIN=/usr/lib/postgresql/$v/bin
        [[ -x $PGBIN/pg_ctl ]] || return 1
        return 0
    fi
    PGBIN=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' -printf '%h\n' 2>/dev/null | sort -V | tail -n 1)
    [[ -n $PGBIN ]]
}

# ensure_server -- install Debian's postgresql when no server binaries are present.
ensure_server() {
    find_pgbin && id -u "$PG_USER" >/dev/null 2>&1 && return 0
    if [[ -f ${DATA:-/nonexistent}/PG_VERSION ]]; then
        die "cluster $DATA is PostgreSQL $(<"$DATA/PG_VERSION") but /usr/lib/postgresql/$(<"$DATA/PG_VERSION")/bin is missing"
    fi
    apt_install "${SETUP_LOG:-/tmp/joblink-pg-apt.log}" postgresql
    # The package may create and start a system cluster on 5432; we use our own, stop it.
    if command -v pg_lsclusters >/dev/null; then
        pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
            [[ $status == online* ]] && pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
        done
    fi
    find_pgbin || die "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"
    step "installed postgresql (apt)"
}

is_running() {
    [[ -f $DATA/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

server_pid() { head -n 1 "$DATA/postmaster.pid" 2>/dev/null || echo "?"; }

pick_locale() {
    if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then echo C.UTF-8; else echo C; fi
}

init_cluster() {
    if [[ -f $DATA/PG_VERSION ]]; then
        step "cluster exists ($DATA, PostgreSQL $(<"$DATA/PG_VERSION"))"
        return
    fi
    [[ -e $DATA ]] && die "$DATA exists but is not a PostgreSQL cluster; remove it first"
    # initdb into a scratch directory and rename it at the end: an interrupted initdb
    # never leaves a half-made cluster behind.
    local tmp=$PGROOT/data.initdb loc
    loc=$(pick_locale)
    rm -rf -- "$tmp"
    run_logged "$SETUP_LOG" as_pg "$PGBIN/initdb" -D "$tmp" -U postgres \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale="$loc" --no-instructions
    printf "\n# JobLink: local settings (listen address, port, socket) live in joblink.conf\ninclude_if_exists = 'joblink.conf'\n" \
        >>"$tmp/postgresql.conf"
    mv -- "$tmp" "$DATA"
    step "initdb $DATA (PostgreSQL $(<"$DATA/PG_VERSION"), locale $loc)"
}

write_config() {
    local conf=$DATA/joblink.conf
    cat >"$conf.tmp" <<EOF
# Generated by deploy/local/postgres.sh on every start -- edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$SOCKDIR'
unix_socket_permissions = 0700
max_connections = 200
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    (( EUID == 0 )) && chown "$PG_USER:" -- "$conf.tmp"
    mv -f -- "$conf.tmp" "$conf"
}

provision() {
    run_logged "$SETUP_LOG" as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$SOCKDIR" -p "$PGPORT" -U postgres -d postgres -f - <"$INIT_SQL"
    step "role joblink + 6 databases present"
}

cmd_start() {
    resolve_paths create
    with_lock "$PGROOT.lock"
    ensure_server
    if is_running; then
        step "already running (pid $(server_pid), 127.0.0.1:$PGPORT)"
    else
        prepare_dirs
        init_cluster
        find_pgbin || die "PostgreSQL $(<"$DATA/PG_VERSION") binaries not found under /usr/lib/postgresql"
        port_open "$PGPORT" && die "127.0.0.1:$PGPORT is already in use by another process (set PGPORT)"
        write_config
        if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$SERVER_LOG" -w -t 60 -s start >>"$SETUP_LOG" 2>&1 9>&-; then
            show_log "$SERVER_LOG" 50
            die "pg_ctl start failed (see $SERVER_LOG)"
        fi
        step "started (pid $(server_pid), 127.0.0.1:$PGPORT)"
    fi
    provision
    echo "$URL"
}

cmd_stop() {
    resolve_paths
    if ! find_pgbin || ! is_running; then
        step "not running"
        return 0
    fi
    with_lock "$PGROOT.lock"
    local pid
    pid=$(server_pid)
    run_logged "$SETUP_LOG" as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 -s stop
    step "stopped (pid $pid)"
}

cmd_status() {
    resolve_paths
    if find_pgbin && is_running; then
        echo "postgres: running (pid $(server_pid), 127.0.0.1:$PGPORT, data $DATA)"
        return 0
    fi
    echo "postgres: stopped"
    return 3
}

case ${1:-} in
    start)  cmd_start ;;
    stop)   cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
