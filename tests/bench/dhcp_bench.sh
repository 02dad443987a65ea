#!/usr/bin/env bash
# DHCP benchmark: `netboot serve` (embedded lease journal or PostgreSQL, one
# or two instances) against dnsmasq under perfdhcp.
#
#   bash tests/bench/dhcp_bench.sh                  # everything, ~13 minutes
#   PARTS=table RUNS=1 RATES=12000 bash tests/bench/dhcp_bench.sh   # a quick look
#
# Not run by `cargo test` or CI. Needs root and the packages kea-admin (or
# whatever ships /usr/sbin/perfdhcp), dnsmasq-base, gcc, python3, perf,
# strace, curl and postgresql. Every DHCP packet stays inside three network
# namespaces this script creates: the client's (perfdhcp on bridge br0,
# 10.77.0.2/16) and two servers' (vs0, 10.77.0.1/16 and 10.77.0.3/16), each
# joined to the bridge by a veth pair; the second server's link is up only in
# the cells with two servers. All are deleted on exit, every process started
# here is stopped by PID, even on failure, and the PostgreSQL cluster (its own
# initdb under STATE_BASE, Unix socket only) is stopped and deleted.
#
# Servers (SERVERS, PG_SERVERS): netboot (embedded journal), dnsmasq,
# netboot-pg (one instance with --leases-url), netboot-pg2 (two instances on
# the bridge sharing one pool in the database: both answer every DISCOVER,
# perfdhcp takes the first OFFER).
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
#   pg       PG_SERVERS x PG_CLIENTS x PG_RATES, RUNS times, as `table`
#            (seeded: every client holds a bound lease, in the journal or in
#            the database).
#   newclient  as a new user tries it: fresh state (every client is new and
#            probed), probe on, perfdhcp without the receive-buffer shim,
#            NEW_CLIENTS at NEW_RATE for NEW_PERIOD s; says where each
#            unanswered DISCOVER was lost (newclient-loss.md).
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
PG_SERVERS=${PG_SERVERS:-netboot netboot-pg netboot-pg2}
PG_CLIENTS=${PG_CLIENTS:-20000}
PG_RATES=${PG_RATES:-5000 8000 12000}
NEW_SERVERS=${NEW_SERVERS:-netboot dnsmasq}
NEW_CLIENTS=${NEW_CLIENTS:-20000 200}
NEW_RATE=${NEW_RATE:-12000}
NEW_PERIOD=${NEW_PERIOD:-10}
NEW_SHIM=${NEW_SHIM:-0}                          # 1: the newclient part with the shim too
PROBE_RATE=${PROBE_RATE:-8000}
PROFILE_RATE=${PROFILE_RATE:-12000}
SHIM=${SHIM:-1}
OUT=${OUT:-$REPO/target/bench/dhcp}
STATE_BASE=${STATE_BASE:-/var/tmp}               # must be a real disk (fsync costs)
SRV=nbdhcp-srv-$$ SRV2=nbdhcp-sr2-$$ CLI=nbdhcp-cli-$$
NB=$REPO/target/release/netboot
PY="python3 $REPO/tests/bench/dhcp_bench.py"
RANGE_FIRST=10.77.1.1 RANGE_LAST=10.77.120.254  # 30,718 addresses
SCRIPT_START=$(date +%s)

# shellcheck source=tests/bench/lib.sh
source "$REPO/tests/bench/lib.sh"
# shellcheck source=tests/bench/pg.sh
source "$REPO/tests/bench/pg.sh"

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
need_tools perfdhcp dnsmasq gcc python3 perf strace ip curl psql runuser
fstype=$(stat -f -c %T "$STATE_BASE")
case $fstype in tmpfs|ramfs) die "STATE_BASE=$STATE_BASE is $fstype: fsync would cost nothing";; esac
WORK=$(mktemp -d "$STATE_BASE/nbdhcp.XXXXXX")
# netboot serve drops root (to nobody): it must be able to look inside
chmod 755 "$WORK"

NEIGH_SAVED=       # "gc_thresh2 gc_thresh3" to restore (probe part)
restore_neigh() {
    [ -n "$NEIGH_SAVED" ] || return 0
    sysctl -qw net.ipv4.neigh.default.gc_thresh2="${NEIGH_SAVED% *}" \
        net.ipv4.neigh.default.gc_thresh3="${NEIGH_SAVED#* }"
    NEIGH_SAVED=
}
cleanup() {
    stop_all
    pg_down
    ip netns del "$SRV" 2>/dev/null || true
    ip netns del "$SRV2" 2>/dev/null || true
    ip netns del "$CLI" 2>/dev/null || true
    restore_neigh
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build, shim, namespaces -------------------------------------------------
log "building netboot (release)"
(cd "$REPO" && CARGO_BUILD_JOBS=1 nice -n 19 cargo build --release --bin netboot -q)
mkdir -p "$OUT"
PRELOAD=
if [ "$SHIM" = 1 ]; then
    gcc -O2 -Wall -shared -fPIC -o "$OUT/rcvbuf_shim.so" "$REPO/tests/bench/rcvbuf_shim.c" -ldl
    PRELOAD=$OUT/rcvbuf_shim.so
fi
# the client's namespace holds the bridge; each server hangs off it
ip netns add "$CLI"
ip -n "$CLI" link set lo up
ip -n "$CLI" link add br0 type bridge
ip -n "$CLI" addr add 10.77.0.2/16 dev br0
ip -n "$CLI" link set br0 up
i=0
for ns in "$SRV" "$SRV2"; do
    i=$((i + 1))
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add vs0 type veth peer name p$i netns "$CLI"
    ip -n "$ns" addr add 10.77.0.$((2 * i - 1))/16 dev vs0
    ip -n "$CLI" link set p$i master br0
    ip -n "$CLI" link set p$i up
done
ip -n "$SRV" link set vs0 up
mkdir -p "$WORK/root" "$WORK/profiles"
for n in $CLIENTS $PG_CLIENTS $NEW_CLIENTS 20000; do [ -f "$WORK/macs-$n" ] || $PY macs "$n" "$WORK/macs-$n"; done

{
    echo "# DHCP benchmark run $(date -u +%FT%TZ)"
    echo "nproc $(nproc); $(uname -r); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "netboot $(cd "$REPO" && git log -1 --format='%h %s'); $(dnsmasq --version | head -1); perfdhcp $(perfdhcp -v 2>&1 | head -1)"
    echo "state on $STATE_BASE ($fstype); PERIOD=$PERIOD RUNS=$RUNS SHIM=$SHIM"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2
printf 'part\tserver\tclients\trate\tping\trun\tperiod\txps\tdo_sent\tdo_received\tdo_avg\tra_sent\tra_received\tra_avg\tcpu_us\tsyncs\tsrv_in\tsrv_out\tsrv_rcvbuf\tcli_rcvbuf\tcli_noports\tleases\trenewed\twarnings\tload\tneigh_max\tdb_cpu_us\n' > "$OUT/raw.tsv"

# --- servers ---------------------------------------------------------------------
# wait_port67 NS: until something listens on UDP 67 in NS (the "dhcp
# listening" log line is missing with RUST_LOG=warn).
wait_port67() { wait_listen "$1" udp 67 || { tail -5 "$SLOG" >&2; return 1; }; }

# start_netboot NS DIR PING [ARG...]: one `netboot serve` on NS's vs0, state
# and log in DIR; its PID (`ip netns exec` execs it) in LAST.
start_netboot() {
    local ns=$1 dir=$2 ping=$3 noping= pid
    shift 3
    [ "$ping" = 1 ] || noping=--no-ping
    mkdir -p "$dir"
    SLOG=$dir/server.log
    start env -u RUST_LOG ${NB_RUST_LOG:+RUST_LOG=$NB_RUST_LOG} ip netns exec "$ns" "$NB" serve --interface vs0 \
        --root "$WORK/root" --profiles "$WORK/profiles" --state-dir "$dir/state" \
        --range "$RANGE_FIRST-$RANGE_LAST" --lease-time 3600 $noping "$@" 2>"$SLOG" >/dev/null
    pid=$LAST
    wait_port67 "$ns"
    LAST=$pid
}

# start_server NAME DIR PING: sets SPIDS (the servers' PIDs) and SLOG (the
# first one's log). NB_STATUS=1: netboot also serves /metrics on
# 127.0.0.1:9090 in its namespace.
start_server() {
    local name=$1 dir=$2 ping=$3 noping= p
    local status=()
    [ -z "${NB_STATUS:-}" ] || status=(--status 127.0.0.1:9090)
    SPIDS=()
    case $name in
    netboot) start_netboot "$SRV" "$dir" "$ping" "${status[@]}"; SPIDS=("$LAST") ;;
    netboot-pg) start_netboot "$SRV" "$dir" "$ping" --leases-url "$PG_URL" "${status[@]}"; SPIDS=("$LAST") ;;
    netboot-pg2)
        ip -n "$SRV2" link set vs0 up
        start_netboot "$SRV2" "$dir/second" "$ping" --leases-url "$PG_URL"; SPIDS=("$LAST")
        start_netboot "$SRV" "$dir" "$ping" --leases-url "$PG_URL" "${status[@]}"; SPIDS+=("$LAST") ;;
    dnsmasq)
        [ "$ping" = 1 ] || noping=--no-ping
        SLOG=$dir/server.log
        start ip netns exec "$SRV" dnsmasq -d -C /dev/null --port=0 --interface=vs0 --bind-interfaces \
            --dhcp-range="$RANGE_FIRST,$RANGE_LAST,255.255.0.0,1h" --dhcp-authoritative \
            --dhcp-leasefile="$dir/dnsmasq.leases" --dhcp-lease-max=50000 $noping 2>"$SLOG" >/dev/null
        SPIDS=("$LAST"); wait_for "$SLOG" "sockets bound exclusively" ;;
    esac
    for p in "${SPIDS[@]}"; do wait_idle "$p"; done
}

stop_servers() {
    local p
    for p in "${SPIDS[@]}"; do stop "$p"; done
    ip -n "$SRV2" link set vs0 down
}

# Server CPU ticks so far (every instance; the database's too).
servers_cpu() {
    local p total=0
    for p in "${SPIDS[@]}"; do total=$((total + $(cpu_ticks "$p"))); done
    echo "$total"
}
db_cpu() { case $1 in netboot-pg*) pg_cpu ;; *) echo 0 ;; esac; }

# The schema, made once by netboot itself (its migrations), for pg_seed.
pg_migrate() {
    start_netboot "$SRV" "$WORK/migrate" 0 --leases-url "$PG_URL"
    stop "$LAST"
}

# pg_seed N EXPIRY: exactly the leases seed-netboot writes, in the database
# (N = 0: empty).
pg_seed() {
    pg_sql netboot "TRUNCATE netboot_leases;
        INSERT INTO netboot_leases (pool, ip, mac, expires, state, server)
        SELECT '10.77.0.0/16', '10.77.1.1'::inet + i, '00:0c:01:' ||
            lpad(to_hex((i >> 16) & 255), 2, '0') || ':' || lpad(to_hex((i >> 8) & 255), 2, '0') || ':' ||
            lpad(to_hex(i & 255), 2, '0'), $2, 'bound', 'seed'
        FROM generate_series(0, $1 - 1) AS i"
}

# seed NAME DIR N EXPIRY: a bound lease for each of the first N MACs.
seed() {
    case $1 in
    netboot) mkdir -p "$2/state"; $PY seed-netboot "$3" "$4" "$2/state" ;;
    netboot-pg*) pg_seed "$3" "$4" ;;
    dnsmasq) $PY seed-dnsmasq "$3" "$4" "$2/dnsmasq.leases" ;;
    esac
}

# leases NAME DIR AFTER: "total renewed" bound leases.
leases() {
    case $1 in
    netboot) $PY leases-netboot "$2/state" "$3" ;;
    netboot-pg*) pg_sql netboot "SELECT count(*), count(*) FILTER (WHERE expires > $3)
        FROM netboot_leases WHERE state = 'bound'" | tr '|' ' ' ;;
    dnsmasq) $PY leases-dnsmasq "$2/dnsmasq.leases" "$3" ;;
    esac
}

# A UDP counter summed over both server namespaces.
srv_snmp() { echo $(($(snmp "$SRV" Udp "$1") + $(snmp "$SRV2" Udp "$1"))); }
# sample_neigh FILE: the server namespace's neighbour-table size every 0.2 s
# until stopped (bounded: 10 minutes).
sample_neigh() {
    for _ in $(seq 1 3000); do ip -n "$SRV" neigh show | wc -l; sleep 0.2; done > "$1"
}
# metric NAME_AND_LABELS: the sum of the matching /metrics samples of the
# netboot in $SRV (NB_STATUS=1).
metric() {
    ip netns exec "$SRV" curl -s --max-time 5 http://127.0.0.1:9090/metrics |
        awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%d\n", s }'
}

# perfdhcp_run CLIENTS RATE REPORT: bounded; ACKs that arrive within
# PD_WAIT µs after the period still count (-W), nothing is sent after it.
PD_EXTRA=() PD_WAIT=1000000
perfdhcp_run() {
    local env=()
    [ -z "$PRELOAD" ] || env=(env LD_PRELOAD="$PRELOAD")
    timeout $((PERIOD + 20)) ip netns exec "$CLI" "${env[@]}" perfdhcp -4 -l br0 -r "$2" -R "$1" \
        -M "$WORK/macs-$1" -p "$PERIOD" -W "$PD_WAIT" "${PD_EXTRA[@]}" >"$3" 2>&1 || true
}

# loss_line SERVER CLIENTS RUN REPORT SRV_IN SRV_RCVBUF CLI_RCVBUF: where
# the DISCOVERs that got no OFFER at perfdhcp were lost (netboot with
# NB_STATUS=1: its counters; dnsmasq: the kernel's only).
loss_line() {
    local name=$1 n=$2 run=$3 report=$4 si=$5 sr=$6 cr=$7 requests=- offers=- unanswered=-
    declare -A r
    while IFS== read -r k v; do r[$k]=$v; done < <($PY perfdhcp "$report")
    if [ -n "${NB_STATUS:-}" ] && [[ $name == netboot* ]]; then
        requests=$(metric 'netboot_dhcp_messages_total{message="REQUEST"')
        offers=$(metric 'netboot_dhcp_messages_total{message="DISCOVER",reply="OFFER"}')
        unanswered=$((si - requests - offers))
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$n" "$run" \
        "${r[do_sent]}" "$sr" "$unanswered" "$offers" "$cr" "${r[do_orphans]}" "${r[do_received]}" \
        "${r[ra_received]}" >> "$OUT/newclient-loss.md"
}

# cell PART SERVER CLIENTS RATE PING RUN SEEDED
cell() {
    local part=$1 name=$2 n=$3 rate=$4 ping=$5 run=$6 seeded=$7
    local dir=$WORK/cell report now seed_exp c0 c1 d0 d1 si0 so0 sr0 cr0 cn0 perfpid syncs neighpid neigh
    rm -rf "$dir"; mkdir -p "$dir"
    report=$OUT/perfdhcp-$part-$name-$n-$rate-ping$ping-$run.txt
    now=$(date +%s); seed_exp=$((now + 1800))
    if [ "$seeded" = 1 ]; then seed "$name" "$dir" "$n" "$seed_exp"
    elif [[ $name == netboot-pg* ]]; then pg_seed 0 0
    fi
    start_server "$name" "$dir" "$ping"
    start perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync \
        -p "$(IFS=,; echo "${SPIDS[*]}")" -o "$dir/syncs"
    perfpid=$LAST
    start sample_neigh "$dir/neigh"
    neighpid=$LAST; sleep 0.3
    c0=$(servers_cpu) d0=$(db_cpu "$name")
    si0=$(srv_snmp InDatagrams) so0=$(srv_snmp OutDatagrams) sr0=$(srv_snmp RcvbufErrors)
    cr0=$(snmp "$CLI" Udp RcvbufErrors) cn0=$(snmp "$CLI" Udp NoPorts)
    perfdhcp_run "$n" "$rate" "$report"
    c1=$(servers_cpu) d1=$(db_cpu "$name")
    local si so sr cr cn
    si=$(($(srv_snmp InDatagrams) - si0)) so=$(($(srv_snmp OutDatagrams) - so0))
    sr=$(($(srv_snmp RcvbufErrors) - sr0))
    cr=$(($(snmp "$CLI" Udp RcvbufErrors) - cr0)) cn=$(($(snmp "$CLI" Udp NoPorts) - cn0))
    [ "$part" != newclient ] || loss_line "$name" "$n" "$run" "$report" "$si" "$sr" "$cr"
    stop "$neighpid"
    stop "$perfpid" INT
    stop_servers
    syncs=$(awk -F, '/syscalls/ { s += $1 } END { print s + 0 }' "$dir/syncs")
    neigh=$(sort -n "$dir/neigh" | tail -n 1)
    local lc warn
    lc=$(leases "$name" "$dir" "$seed_exp")
    warn=$(grep -ciE ' WARN |ERROR|unavailable|failed' "$SLOG" || true)
    # what the server said besides its decisions, and how it ended
    { grep -v ' INFO dhcp{' "$SLOG" | sed -n 1,40p || true; echo ...; tail -n 5 "$SLOG"; } \
        > "$OUT/server-$part-$name-$n-$rate-ping$ping-$run.log.tail"
    declare -A r
    while IFS== read -r k v; do r[$k]=$v; done < <($PY perfdhcp "$report")
    local xps
    xps=$(awk -v a="${r[ra_received]}" -v p="$PERIOD" 'BEGIN { printf "%.1f", a / p }')
    printf '%s\t' "$part" "$name" "$n" "$rate" "$ping" "$run" "$PERIOD" "$xps" "${r[do_sent]}" "${r[do_received]}" \
        "${r[do_avg]}" "${r[ra_sent]}" "${r[ra_received]}" "${r[ra_avg]}" "$(((c1 - c0) * 10000))" "$syncs" \
        "$si" "$so" "$sr" "$cr" "$cn" ${lc% *} ${lc#* } "$warn" "$(cut -d' ' -f1 /proc/loadavg)" "${neigh:-0}" \
        >> "$OUT/raw.tsv"
    printf '%s\n' "$(((d1 - d0) * 10000))" >> "$OUT/raw.tsv"
    log "$part $name clients=$n rate=$rate ping=$ping run=$run: $xps exchanges/s, ${r[ra_received]} ACKs, $syncs syncs, cpu $(((c1 - c0) * 10)) ms (database $(((d1 - d0) * 10)) ms), srv/cli rcvbuf errors $sr/$cr, leases ${lc% *} (${lc#* } renewed), at most ${neigh:-0} neighbour entries"
}

# --- the parts -----------------------------------------------------------------
if [[ " $PARTS " == *" table "* ]]; then
    for n in $CLIENTS; do for rate in $RATES; do for run in $(seq 1 "$RUNS"); do for s in $SERVERS; do
        cell table "$s" "$n" "$rate" 0 "$run" 1
    done; done; done; done
fi

if [[ " $PARTS " == *" pg "* ]]; then
    pg_up "$WORK/pg"
    pg_migrate
    for n in $PG_CLIENTS; do for rate in $PG_RATES; do for run in $(seq 1 "$RUNS"); do for s in $PG_SERVERS; do
        cell pg "$s" "$n" "$rate" 0 "$run" 1
    done; done; done; done
fi

# As a new user tries it: fresh state, probe on, perfdhcp without the shim.
if [[ " $PARTS " == *" newclient "* ]]; then
    [[ " $NEW_SERVERS " != *" netboot-pg"* ]] || [ -n "$PG_DIR" ] || { pg_up "$WORK/pg"; pg_migrate; }
    {
        echo "| server | clients | run | DISCOVERs sent | dropped at the server's socket (any type) | reached netboot, no OFFER | OFFERs sent | dropped at perfdhcp's socket (any type) | OFFERs too late (orphans) | OFFERs received | ACKs received |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|"
    } > "$OUT/newclient-loss.md"
    saved=$PRELOAD saved_period=$PERIOD
    [ "$NEW_SHIM" = 1 ] || PRELOAD=
    PERIOD=$NEW_PERIOD
    for run in $(seq 1 "$RUNS"); do for n in $NEW_CLIENTS; do for s in $NEW_SERVERS; do
        ping=1; [ "$s" != dnsmasq ] || ping=0
        NB_STATUS=1 cell newclient "$s" "$n" "$NEW_RATE" "$ping" "$run" 0
    done; done; done
    PRELOAD=$saved PERIOD=$saved_period
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
    start perf stat -e "$ev" --per-thread -p "${SPIDS[0]}" -o "$OUT/profile-perfstat.txt"
    perfpid=$LAST; sleep 0.3
    perfdhcp_run $n "$PROFILE_RATE" "$OUT/profile-perfstat-perfdhcp.txt"
    stop "$perfpid" INT
    start perf record -F 499 --call-graph dwarf,16384 -e cpu-clock -p "${SPIDS[0]}" -o "$OUT/profile-perf.data"
    perfpid=$LAST; sleep 0.3
    perfdhcp_run $n "$PROFILE_RATE" "$OUT/profile-record-perfdhcp.txt"
    stop "$perfpid" INT
    stop_servers
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
        -p "${SPIDS[0]}" -o "$dir/strace.txt"
    tr=$LAST; sleep 0.5
    local saved=$PERIOD; PERIOD=2
    perfdhcp_run $n 200 "$OUT/order-$name-perfdhcp.txt"
    PERIOD=$saved
    stop "$tr" INT
    stop_servers
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
[ ! -f "$OUT/newclient-loss.md" ] || { echo; echo "### newclient: where the DISCOVERs went"; echo; cat "$OUT/newclient-loss.md"; } >> "$OUT/tables.md"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
cat "$OUT/machine.txt" "$OUT/tables.md"
log "done: $OUT/tables.md, $OUT/raw.tsv"
