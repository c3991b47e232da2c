# shellcheck shell=bash disable=SC2034  # variables are used by the scripts sourcing this file
# Shared helpers for deploy/local/{kafka,postgres}.sh. Sourced, never executed.
#
# Conventions:
#   * quiet on success: one line per step with its duration and the running total;
#   * noisy tools write to a setup log; on failure the tail of that log is shown;
#   * JOBLINK_VAR   (default <repo>/var)               runtime state (data, logs, pids)
#   * JOBLINK_CACHE (default ~/.cache/joblink)          downloads that survive fresh clones

JL_SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
JL_REPO=$(cd -- "$JL_SCRIPT_DIR/../.." && pwd)
JL_VAR=${JOBLINK_VAR:-$JL_REPO/var}
JL_CACHE=${JOBLINK_CACHE:-$HOME/.cache/joblink}
JL_NAME=${JL_NAME:-local}

# Microsecond clock (EPOCHREALTIME is bash >= 5; strip the locale-dependent separator).
JL_T0=${EPOCHREALTIME//[!0-9]/}
JL_TSTEP=$JL_T0

_jl_secs() { printf -v "$1" '%d.%02d' $(( $2 / 1000000 )) $(( $2 % 1000000 / 10000 )); }

# step MESSAGE -- report that a step finished: its own duration and the total so far.
step() {
    local now=${EPOCHREALTIME//[!0-9]/} d t
    _jl_secs d $(( now - JL_TSTEP ))
    _jl_secs t $(( now - JL_T0 ))
    printf '%-9s %-62s %6ss  (total %ss)\n' "$JL_NAME:" "$*" "$d" "$t"
    JL_TSTEP=$now
}

warn() { printf '%s: WARNING: %s\n' "$JL_NAME" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$JL_NAME" "$*" >&2; exit 1; }

# show_log FILE [N] -- dump the last N (default 50) lines of FILE to stderr.
show_log() {
    local f=$1 n=${2:-50}
    [[ -f $f ]] || return 0
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" -- "$f" >&2
    printf -- '----- end of %s -----\n' "$f" >&2
}

# run_logged LOG CMD... -- run CMD with all output appended to LOG; on failure show the
# tail of LOG and exit 1.
run_logged() {
    local log=$1; shift
    mkdir -p -- "$(dirname -- "$log")"
    printf '\n=== %(%F %T)T  %s\n' -1 "$*" >>"$log"
    if ! "$@" >>"$log" 2>&1; then
        printf '%s: ERROR: command failed: %s\n' "$JL_NAME" "$*" >&2
        show_log "$log" 50
        exit 1
    fi
}

# apt_install LOG PKG... -- install Debian packages (root only), quietly.
apt_install() {
    local log=$1; shift
    [[ $EUID -eq 0 ]] || die "need the packages '$*'; run as root or: sudo apt-get install -y $*"
    command -v apt-get >/dev/null || die "apt-get not found; install '$*' by hand"
    run_logged "$log" env DEBIAN_FRONTEND=noninteractive apt-get -q update
    run_logged "$log" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "$@"
}

# port_open PORT -- true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# with_lock FILE -- serialise concurrent start/stop calls (fd 9; children must close it).
with_lock() {
    mkdir -p -- "$(dirname -- "$1")"
    exec 9>"$1"
    flock -w 120 9 || die "could not get the lock $1 within 120 s (another start/stop running?)"
}
