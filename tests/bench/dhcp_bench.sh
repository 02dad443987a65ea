#!/usr/bin/env bash
# DHCP benchmark: `netboot serve` against dnsmasq under perfdhcp.
#
#   bash tests/bench/dhcp_bench.sh                  # everything, ~13 minutes
#   PARTS=table RUNS=1 RATES=12000 bash tests/bench/dhcp_bench.sh   # a quick look
#
# Not run by `cargo test` or CI. Needs root and the packages kea-admin (or
# whatever ships /usr/sbin/perfdhcp), dnsmasq-base, gcc, python3, perf and
# strace. Every DHCP packet stays inside two network namespaces this script
# creates (server side vs0 10.77.0.1/16, client side vc0 10.77.0.2/16, a veth
# pair); both are deleted on exit, and every process started here is stopped
# by PID, even on failure.
#
# Parts (PARTS):
#   table    each server x CLIENTS x RATES, RUNS times: perfdhcp DORA for
#            PERIOD s against a server whose store already holds a bound lease
#            for every client (steady state: every exchange renews a lease,
#            so every ACK needs a lease write), --no-ping.
#   probe    20,000 clients, fresh state (every client is new, so netboot and
#            dnsmasq probe every first address), probe on and off, at
#            PROBE_RATE; perfdhcp's drop time is 5 s here. Raises the global
#            ARP table limits while it runs (see below).
#   profile  netboot with info logging and with RUST_LOG=warn (part
#            "logging" in the tables); netboot at PROFILE_RATE: syscall counts
#            (perf stat tracepoints) and a cpu-clock profile (perf record); for
#            both servers an strace check that every ACK left after its lease
#            was written and synced.
#
# Every cell starts its server afresh (seeded or empty state in a directory
# under STATE_BASE, which must not be tmpfs) and waits until it is idle;
# server CPU comes from /proc/PID/stat, fsync/fdatasync counts from perf stat
# tracepoints, UDP counters from /proc/net/snmp in each namespace. Both
# servers log at their default level to a file on the same disk.
#
# perfdhcp receives every simulated client on one socket; the ACKs of a commit
# group arrive back to back and overflow its default 208 KiB buffer. With
# SHIM=1 (default) perfdhcp runs with tests/bench/rcvbuf_shim.c preloaded (an
# 8 MiB SO_RCVBUFFORCE on its UDP sockets), for both servers alike.
# net.core.rmem_default is global on this kernel and is not touched.
#
# Output: progress on stderr; $OUT/tables.md, $OUT/raw.tsv, perfdhcp reports,
# perf and strace output in $OUT.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-3}                                  # runs per cell (median reported)
PERIOD=${PERIOD:-5}                              # seconds of perfdhcp traffic per run
RATES=${RATES:-4000 8000 12000 16000 25000}      # perfdhcp -r
CLIENTS=${CLIENTS:-200 20000}                    # perfdhcp -R (distinct MACs)
SERVERS=${SERVERS:-netboot dnsmasq}
PARTS=${PARTS:-table probe profile}
PROBE_RATE=${PROBE_RATE:-8000}
PROFILE_RATE=${PROFILE_RATE:-12000}
SHIM=${SHIM:-1}
OUT=${OUT:-$REPO/target/bench/dhcp}
STATE_BASE=${STATE_BASE:-/var/tmp}               # must be a real disk (fsync costs)
SRV=nbdhcp-srv-$$ CLI=nbdhcp-cli-$$
NB=$REPO/target/release/netboot
PY="python3 $REPO/tests/bench/dhcp_bench.py"
RANGE_FIRST=10.77.1.1 RANGE_LAST=10.77.120.254  # 30,718 addresses
SCRIPT_START=$(date +%s)

log() { printf '[%4ss] %s\n' $(($(date +%s) - SCRIPT_START)) "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for t in perfdhcp dnsmasq gcc python3 perf strace ip; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done
fstype=$(stat -f -c %T "$STATE_BASE")
case $fstype in tmpfs|ramfs) die "STATE_BASE=$STATE_BASE is $fstype: fsync would cost nothing";; esac
WORK=$(mktemp -d "$STATE_BASE/nbdhcp.XXXXXX")
# netboot serve drops root (to nobody): it must be able to look inside
chmod 755 "$WORK"

declare -A ALIVE   # PIDs we started and have not reaped yet
NEIGH_SAVED=       # "gc_thresh2 gc_thresh3" to restore (probe part)
restore_neigh() {
    [ -n "$NEIGH_SAVED" ] || return 0
    sysctl -qw net.ipv4.neigh.default.gc_thresh2="${NEIGH_SAVED% *}" \
        net.ipv4.neigh.default.gc_thresh3="${NEIGH_SAVED#* }"
    NEIGH_SAVED=
}
cleanup() {
    local pid
    for pid in "${!ALIVE[@]}"; do stop "$pid"; done
    ip netns del "$SRV" 2>/dev/null || true
    ip netns del "$CLI" 2>/dev/null || true
    restore_neigh
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { "$@" & LAST=$!; ALIVE[$LAST]=1; }
is_ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }
# Stops one process we started: SIGNAL (default TERM), SIGKILL after 10 s, reaps it.
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
wait_for() {
    local file=$1 pattern=$2
    for _ in $(seq 1 150); do grep -q "$pattern" "$file" 2>/dev/null && return 0; sleep 0.1; done
    log "timed out waiting for '$pattern' in $file"; tail -5 "$file" >&2 || true; return 1
}

# --- build, shim, namespaces -------------------------------------------------
log "building netboot (release)"
(cd "$REPO" && CARGO_BUILD_JOBS=1 nice -n 19 cargo build --release --bin netboot -q)
mkdir -p "$OUT"
PRELOAD=
if [ "$SHIM" = 1 ]; then
    gcc -O2 -Wall -shared -fPIC -o "$OUT/rcvbuf_shim.so" "$REPO/tests/bench/rcvbuf_shim.c" -ldl
    PRELOAD=$OUT/rcvbuf_shim.so
fi
ip netns add "$SRV"
ip netns add "$CLI"
ip -n "$SRV" link add vs0 type veth peer name vc0 netns "$CLI"
ip -n "$SRV" addr add 10.77.0.1/16 dev vs0
ip -n "$CLI" addr add 10.77.0.2/16 dev vc0
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set vs0 up
ip -n "$CLI" link set vc0 up
mkdir -p "$WORK/root" "$WORK/profiles"
for n in $CLIENTS 20000; do [ -f "$WORK/macs-$n" ] || $PY macs "$n" "$WORK/macs-$n"; done

{
    echo "# DHCP benchmark run $(date -u +%FT%TZ)"
    echo "nproc $(nproc); $(uname -r); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "netboot $(cd "$REPO" && git log -1 --format='%h %s'); $(dnsmasq --version | head -1); perfdhcp $(perfdhcp -v 2>&1 | head -1)"
    echo "state on $STATE_BASE ($fstype); PERIOD=$PERIOD RUNS=$RUNS SHIM=$SHIM"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2
printf 'part\tserver\tclients\trate\tping\trun\tperiod\txps\tdo_sent\tdo_received\tdo_avg\tra_sent\tra_received\tra_avg\tcpu_us\tsyncs\tsrv_in\tsrv_out\tsrv_rcvbuf\tcli_rcvbuf\tcli_noports\tleases\trenewed\twarnings\tload\tneigh_max\n' > "$OUT/raw.tsv"

# --- one server ------------------------------------------------------------------
# wait_idle PID: until the process used no CPU for 0.6 s (bounded, 60 s).
# dnsmasq binds its sockets first and then spends seconds on 20,000 leases.
wait_idle() {
    local prev=-1 same=0 c
    for _ in $(seq 1 300); do
        c=$(cpu_ticks "$1")
        if [ "$c" = "$prev" ]; then same=$((same + 1)); [ $same -lt 3 ] || return 0; else same=0; fi
        prev=$c; sleep 0.2
    done
    log "server $1 still busy after 60 s"
}

# wait_port67: until something listens on UDP 67 in the server namespace
# (the "dhcp listening" log line is missing with RUST_LOG=warn).
wait_port67() {
    for _ in $(seq 1 150); do
        ip netns exec "$SRV" ss -uln 'sport = :67' | grep -q ':67' && return 0
        sleep 0.1
    done
    log "nothing listens on UDP 67 after 15 s"; tail -5 "$SLOG" >&2; return 1
}

# start_server NAME STATE_DIR PING(0|1): sets SPID (the server's own PID:
# `ip netns exec` execs it) and SLOG.
start_server() {
    local name=$1 dir=$2 ping=$3 noping=
    SLOG=$dir/server.log
    case $name in
    netboot*)
        [ "$ping" = 1 ] || noping=--no-ping
        start env -u RUST_LOG ${NB_RUST_LOG:+RUST_LOG=$NB_RUST_LOG} ip netns exec "$SRV" "$NB" serve --interface vs0 \
            --root "$WORK/root" --profiles "$WORK/profiles" --state-dir "$dir/state" \
            --range "$RANGE_FIRST-$RANGE_LAST" --lease-time 3600 $noping 2>"$SLOG" >/dev/null
        SPID=$LAST; wait_port67; wait_idle "$SPID" ;;
    dnsmasq)
        [ "$ping" = 1 ] || noping=--no-ping
        start ip netns exec "$SRV" dnsmasq -d -C /dev/null --port=0 --interface=vs0 --bind-interfaces \
            --dhcp-range="$RANGE_FIRST,$RANGE_LAST,255.255.0.0,1h" --dhcp-authoritative \
            --dhcp-leasefile="$dir/dnsmasq.leases" --dhcp-lease-max=50000 $noping 2>"$SLOG" >/dev/null
        SPID=$LAST; wait_for "$SLOG" "sockets bound exclusively"; wait_idle "$SPID" ;;
    esac
}

# seed NAME DIR N EXPIRY: a bound lease for each of the first N MACs.
seed() {
    case $1 in
    netboot*) mkdir -p "$2/state"; $PY seed-netboot "$3" "$4" "$2/state" ;;
    dnsmasq) $PY seed-dnsmasq "$3" "$4" "$2/dnsmasq.leases" ;;
    esac
}

leases() {
    case $1 in
    netboot*) $PY leases-netboot "$2/state" "$3" ;;
    dnsmasq) $PY leases-dnsmasq "$2/dnsmasq.leases" "$3" ;;
    esac
}

snmp() { # snmp NS PROTO FIELD
    ip netns exec "$1" cat /proc/net/snmp | awk -v p="$2:" -v f="$3" \
        '$1 == p && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next } $1 == p { print $c[f] }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# sample_neigh FILE: the server namespace's neighbour-table size every 0.2 s
# until stopped (bounded: 10 minutes).
sample_neigh() {
    for _ in $(seq 1 3000); do ip -n "$SRV" neigh show | wc -l; sleep 0.2; done > "$1"
}

# perfdhcp_run CLIENTS RATE REPORT: bounded; ACKs that arrive within
# PD_WAIT µs after the period still count (-W), nothing is sent after it.
PD_EXTRA=() PD_WAIT=1000000
perfdhcp_run() {
    local env=()
    [ -z "$PRELOAD" ] || env=(env LD_PRELOAD="$PRELOAD")
    timeout $((PERIOD + 20)) ip netns exec "$CLI" "${env[@]}" perfdhcp -4 -l vc0 -r "$2" -R "$1" \
        -M "$WORK/macs-$1" -p "$PERIOD" -W "$PD_WAIT" "${PD_EXTRA[@]}" >"$3" 2>&1 || true
}

# cell PART SERVER CLIENTS RATE PING RUN SEEDED
cell() {
    local part=$1 name=$2 n=$3 rate=$4 ping=$5 run=$6 seeded=$7
    local dir=$WORK/cell report now seed_exp c0 c1 si0 so0 sr0 cr0 cn0 perfpid syncs neighpid neigh
    rm -rf "$dir"; mkdir -p "$dir"
    report=$OUT/perfdhcp-$part-$name-$n-$rate-ping$ping-$run.txt
    now=$(date +%s); seed_exp=$((now + 1800))
    [ "$seeded" = 1 ] && seed "$name" "$dir" "$n" "$seed_exp"
    start_server "$name" "$dir" "$ping"
    start perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -p "$SPID" -o "$dir/syncs"
    perfpid=$LAST
    start sample_neigh "$dir/neigh"
    neighpid=$LAST; sleep 0.3
    c0=$(cpu_ticks "$SPID")
    si0=$(snmp "$SRV" Udp InDatagrams) so0=$(snmp "$SRV" Udp OutDatagrams) sr0=$(snmp "$SRV" Udp RcvbufErrors)
    cr0=$(snmp "$CLI" Udp RcvbufErrors) cn0=$(snmp "$CLI" Udp NoPorts)
    perfdhcp_run "$n" "$rate" "$report"
    c1=$(cpu_ticks "$SPID")
    local si so sr cr cn
    si=$(($(snmp "$SRV" Udp InDatagrams) - si0)) so=$(($(snmp "$SRV" Udp OutDatagrams) - so0))
    sr=$(($(snmp "$SRV" Udp RcvbufErrors) - sr0))
    cr=$(($(snmp "$CLI" Udp RcvbufErrors) - cr0)) cn=$(($(snmp "$CLI" Udp NoPorts) - cn0))
    stop "$neighpid"
    stop "$perfpid" INT
    stop "$SPID"
    syncs=$(awk -F, '/syscalls/ { s += $1 } END { print s + 0 }' "$dir/syncs")
    neigh=$(sort -n "$dir/neigh" | tail -n 1)
    local lc warn
    lc=$(leases "$name" "$dir" "$seed_exp")
    warn=$(grep -ciE ' WARN |ERROR|unavailable|failed' "$SLOG" || true)
    tail -n 20 "$SLOG" > "$OUT/server-$part-$name-$n-$rate-ping$ping-$run.log.tail"
    declare -A r
    while IFS== read -r k v; do r[$k]=$v; done < <($PY perfdhcp "$report")
    local xps
    xps=$(awk -v a="${r[ra_received]}" -v p="$PERIOD" 'BEGIN { printf "%.1f", a / p }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$part" "$name" "$n" "$rate" "$ping" "$run" "$PERIOD" "$xps" "${r[do_sent]}" "${r[do_received]}" \
        "${r[do_avg]}" "${r[ra_sent]}" "${r[ra_received]}" "${r[ra_avg]}" "$(((c1 - c0) * 10000))" "$syncs" \
        "$si" "$so" "$sr" "$cr" "$cn" ${lc% *} ${lc#* } "$warn" "$(cut -d' ' -f1 /proc/loadavg)" "${neigh:-0}" >> "$OUT/raw.tsv"
    log "$part $name clients=$n rate=$rate ping=$ping run=$run: $xps exchanges/s, ${r[ra_received]} ACKs, $syncs syncs, cpu $(((c1 - c0) * 10)) ms, srv/cli rcvbuf errors $sr/$cr, leases ${lc% *} (${lc#* } renewed), at most ${neigh:-0} neighbour entries"
}

# --- the parts -----------------------------------------------------------------
if [[ " $PARTS " == *" table "* ]]; then
    for n in $CLIENTS; do for rate in $RATES; do for run in $(seq 1 "$RUNS"); do for s in $SERVERS; do
        cell table "$s" "$n" "$rate" 0 "$run" 1
    done; done; done; done
fi

# In the probe part dnsmasq pings up to 20,000 silent addresses on the link:
# each leaves an INCOMPLETE, then FAILED, ARP entry. The kernel's ARP table is
# one table for all namespaces, capped by net.ipv4.neigh.default.gc_thresh3
# (1024 by default, global): past it, creating any neighbour fails
# machine-wide ("neighbor table overflow"), and perfdhcp's own broadcasts fail
# with ENOBUFS. So the part raises gc_thresh2/3 while it runs and restores
# them (also on failure); PROBE_NEIGH=default keeps the defaults. netboot
# probes on-link addresses by ARP from a packet socket, which creates no
# entries (perfdhcp presents itself as a relay on the link, giaddr 10.77.0.2,
# and the pool holds our own address, so its addresses are on-link), and
# needs no raise: SERVERS=netboot PROBE_NEIGH=default shows that. The
# server namespace's neighbour count is sampled during every cell
# (neigh_max in raw.tsv).
if [[ " $PARTS " == *" probe "* ]]; then
    if [ "${PROBE_NEIGH:-raise}" != default ]; then
        NEIGH_SAVED="$(sysctl -n net.ipv4.neigh.default.gc_thresh2) $(sysctl -n net.ipv4.neigh.default.gc_thresh3)"
        log "raising net.ipv4.neigh.default.gc_thresh2/3 from $NEIGH_SAVED to 32768 65536 for the probe part"
        sysctl -qw net.ipv4.neigh.default.gc_thresh3=65536 net.ipv4.neigh.default.gc_thresh2=32768
    fi
    # dnsmasq answers a probed client after ~3 s: give every exchange 5 s
    PD_EXTRA=(-d 5) PD_WAIT=5000000
    for run in $(seq 1 "$RUNS"); do for s in $SERVERS; do for ping in 0 1; do
        ip -n "$SRV" neigh flush all 2>/dev/null || true
        cell probe "$s" 20000 "$PROBE_RATE" "$ping" "$run" 0
    done; done; done
    PD_EXTRA=() PD_WAIT=1000000
    restore_neigh
    log "restored gc_thresh2/3: $(sysctl -n net.ipv4.neigh.default.gc_thresh2) $(sysctl -n net.ipv4.neigh.default.gc_thresh3)"
fi

# profile_netboot: perf stat of the main syscalls, then a cpu-clock profile.
profile_netboot() {
    local dir=$WORK/cell n=20000 now perfpid
    rm -rf "$dir"; mkdir -p "$dir"; now=$(date +%s)
    seed netboot "$dir" $n $((now + 1800))
    start_server netboot "$dir" 0
    local ev=task-clock,context-switches,cpu-migrations
    for s in recvfrom recvmsg recvmmsg sendto sendmsg write fdatasync epoll_wait futex; do
        ev=$ev,syscalls:sys_enter_$s
    done
    start perf stat -e "$ev" --per-thread -p "$SPID" -o "$OUT/profile-perfstat.txt"
    perfpid=$LAST; sleep 0.3
    perfdhcp_run $n "$PROFILE_RATE" "$OUT/profile-perfstat-perfdhcp.txt"
    stop "$perfpid" INT
    start perf record -F 499 --call-graph dwarf,16384 -e cpu-clock -p "$SPID" -o "$OUT/profile-perf.data"
    perfpid=$LAST; sleep 0.3
    perfdhcp_run $n "$PROFILE_RATE" "$OUT/profile-record-perfdhcp.txt"
    stop "$perfpid" INT
    stop "$SPID"
    local rep=(perf report -i "$OUT/profile-perf.data" --stdio -g none --percent-limit 0.4)
    { echo "## self time by thread and symbol"; "${rep[@]}" --no-children --sort tid,dso,symbol
      echo "## inclusive time (children) by symbol"; "${rep[@]}" --children --sort symbol
    } 2>/dev/null | grep -v '^$' > "$OUT/profile-perf-report.txt" || true
    log "netboot profile: $OUT/profile-perfstat.txt, $OUT/profile-perf-report.txt"
}

# order_check NAME: strace a short, slow run; every ACK after write + sync?
order_check() {
    local name=$1 dir=$WORK/cell n=200 now tr
    rm -rf "$dir"; mkdir -p "$dir"; now=$(date +%s)
    seed "$name" "$dir" $n $((now + 1800))
    start_server "$name" "$dir" 0
    start strace -f -ttt -T -xx -s 4096 -e trace=write,sendto,sendmsg,fdatasync,fsync \
        -p "$SPID" -o "$dir/strace.txt"
    tr=$LAST; sleep 0.5
    local saved=$PERIOD; PERIOD=2
    perfdhcp_run $n 200 "$OUT/order-$name-perfdhcp.txt"
    PERIOD=$saved
    stop "$tr" INT
    stop "$SPID"
    $PY order "$name" "$dir/strace.txt" "$OUT/order-$name-excerpt.txt" | tee -a "$OUT/order.txt" >&2
}

if [[ " $PARTS " == *" profile "* ]]; then
    : > "$OUT/order.txt"
    # what the info line per decision costs: the same cells with RUST_LOG=warn
    for rate in $PROFILE_RATE 25000; do for run in $(seq 1 "$RUNS"); do
        cell logging netboot 20000 "$rate" 0 "$run" 1
        NB_RUST_LOG=warn cell logging netboot-warn 20000 "$rate" 0 "$run" 1
    done; done
    profile_netboot
    for s in $SERVERS; do order_check "$s"; done
fi

$PY table "$OUT/raw.tsv" > "$OUT/tables.md"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
cat "$OUT/machine.txt" "$OUT/tables.md"
log "done: $OUT/tables.md, $OUT/raw.tsv"
