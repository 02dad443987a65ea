# Shared functions of the benchmark scripts in tests/bench (sourced, not run).
#
# The caller sets SCRIPT_START (date +%s) before logging, and traps EXIT to
# stop every PID in ALIVE and delete what it made. Processes are only ever
# stopped by the PID this shell started them with.
# shellcheck shell=bash

declare -gA ALIVE   # PIDs we started and have not reaped yet

log() { printf '[%4ss] %s\n' $(($(date +%s) - SCRIPT_START)) "$*" >&2; }
die() { log "$*"; exit 1; }

# need_tools TOOL...: fails loudly on the first one missing.
need_tools() {
    local t
    for t in "$@"; do command -v "$t" >/dev/null || die "missing tool: $t"; done
}

# Starts a background process and remembers its PID (also in $LAST).
start() { "$@" & LAST=$!; ALIVE[$LAST]=1; }

# True while PID is still a child of this script (bash reaps exited
# children on its own, after which the number may belong to a stranger).
is_ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

# stop PID [SIGNAL]: SIGNAL (default TERM), SIGKILL after 10 s, then reaps it.
stop() {
    local pid=$1 sig=${2:-TERM} watchdog
    [ -n "${ALIVE[$pid]:-}" ] || return 0
    unset "ALIVE[$pid]"
    is_ours "$pid" || return 0
    kill -s "$sig" "$pid" 2>/dev/null || true
    (sleep 10; is_ours "$pid" && kill -9 "$pid" 2>/dev/null) &
    watchdog=$!
    wait "$pid" 2>/dev/null || true
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
}

# stop_all: every process still in ALIVE (for the EXIT trap).
stop_all() {
    local pid
    for pid in "${!ALIVE[@]}"; do stop "$pid"; done
}

# wait_for FILE PATTERN: until FILE contains PATTERN (bounded, 15 s).
wait_for() {
    local file=$1 pattern=$2
    for _ in $(seq 1 150); do grep -q "$pattern" "$file" 2>/dev/null && return 0; sleep 0.1; done
    log "timed out waiting for '$pattern' in $file"; tail -5 "$file" >&2 || true; return 1
}

# wait_listen NS PROTO PORT: until something listens on PORT (tcp or udp)
# in namespace NS (bounded, 15 s).
wait_listen() {
    local ns=$1 proto=$2 port=$3 flag=-uln
    [ "$proto" = tcp ] && flag=-tln
    for _ in $(seq 1 150); do
        ip netns exec "$ns" ss "$flag" "sport = :$port" | grep -q ":$port" && return 0
        sleep 0.1
    done
    log "nothing listens on $proto port $port in $ns after 15 s"; return 1
}

# CPU ticks (user + system) of PID so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wait_idle PID: until the process used no CPU for 0.6 s (bounded, 60 s).
wait_idle() {
    local prev=-1 same=0 c
    for _ in $(seq 1 300); do
        c=$(cpu_ticks "$1")
        if [ "$c" = "$prev" ]; then same=$((same + 1)); [ $same -lt 3 ] || return 0; else same=0; fi
        prev=$c; sleep 0.2
    done
    log "process $1 still busy after 60 s"
}

# veth_pair SRV CLI: two new namespaces joined by a veth pair, server side
# vs0 10.77.0.1/16, client side vc0 10.77.0.2/16 (as dhcp_bench.sh uses).
# The caller deletes both namespaces on exit.
veth_pair() {
    ip netns add "$1"
    ip netns add "$2"
    ip -n "$1" link add vs0 type veth peer name vc0 netns "$2"
    ip -n "$1" addr add 10.77.0.1/16 dev vs0
    ip -n "$2" addr add 10.77.0.2/16 dev vc0
    ip -n "$1" link set lo up
    ip -n "$2" link set lo up
    ip -n "$1" link set vs0 up
    ip -n "$2" link set vc0 up
}

# snmp NS PROTO FIELD: a counter of /proc/net/snmp in namespace NS.
snmp() {
    ip netns exec "$1" cat /proc/net/snmp | awk -v p="$2:" -v f="$3" \
        '$1 == p && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next } $1 == p { print $c[f] }'
}

# stats: "median (min-max), n=N" of the numbers on stdin ("-" if none).
stats() {
    sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "**%.1f** (%.1f-%.1f), n=%d\n", m, a[1], a[NR], NR }'
}

# median: the median of the numbers on stdin ("-" if none).
median() {
    sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        printf "%.1f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
