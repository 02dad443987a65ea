#!/usr/bin/env bash
# TFTP download benchmark: netboot against tftpd-hpa, dnsmasq and atftpd.
#
#   bash tests/bench/tftp_bench.sh            # everything, ~10-15 minutes
#   PARTS="throughput load" RUNS=1 bash tests/bench/tftp_bench.sh   # a quick look
#   PARTS="adaptive lossy" RUNS=7 TIMEOUT=30 bash tests/bench/tftp_bench.sh   # issue 17's rows
#
# Not run by `cargo test` or CI. Needs root (dnsmasq's TFTP port is fixed at
# 69, so it runs inside a network namespace this script creates), and the
# packages tftpd-hpa, dnsmasq-base, atftp, iperf3, jq; atftpd is unpacked
# from its .deb into a cache directory (its package conflicts with
# tftpd-hpa). All traffic stays on 127.0.0.1, in the root namespace or in
# the private namespace. Every process started here is killed by PID on
# exit and the namespace is deleted, even on failure.
#
# Output: progress on stderr, the result tables (markdown) on stdout, in
# $OUT/tables.md and in docs/benchmarks.md between its tftp_bench.sh markers
# (WRITE_DOC=0 to leave the doc alone), raw measurements in $OUT/raw.tsv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-3}                  # measurements per cell (median reported)
TIMEOUT=${TIMEOUT:-60}           # seconds, bound of one download
LOSSY_TIMEOUT=${LOSSY_TIMEOUT:-30}  # seconds, bound of one lossy download
PARTS=${PARTS:-throughput adaptive load lossy}   # which tables to measure
CLIENTS=${CLIENTS:-100}          # concurrent clients in the load row
OUT=${OUT:-$REPO/target/bench}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netboot-bench}
PORT0=${PORT0:-$((20000 + $$ % 20000))}
P_NB=$PORT0 P_HPA=$((PORT0 + 1)) P_AT=$((PORT0 + 2)) P_IPERF=$((PORT0 + 3)) P_RELAY=$((PORT0 + 4))
NS=nbbench-$$
SHM=/dev/shm; [ -d "$SHM" ] || SHM=/tmp
WORK=$(mktemp -d "$SHM/nbbench.XXXXXX")
ROOT=$WORK/root DL=$WORK/dl
SCRIPT_START=$(date +%s)

log() { printf '[%4ss] %s\n' $(($(date +%s) - SCRIPT_START)) "$*" >&2; }

cleanup() {
    local pid
    for pid in "${!ALIVE[@]}"; do stop "$pid"; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
declare -A ALIVE   # PIDs we started and have not reaped yet
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a background process and remembers its PID (also in $LAST).
start() { "$@" & LAST=$!; ALIVE[$LAST]=1; }

# True while PID is still a child of this script (bash reaps exited
# children on its own, after which the number may belong to a stranger).
is_ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

# Stops one process we started: SIGTERM, SIGKILL after 5 s, then reaps it.
stop() {
    local pid=$1 watchdog
    [ -n "${ALIVE[$pid]:-}" ] || return 0
    unset "ALIVE[$pid]"
    is_ours "$pid" || return 0
    kill "$pid" 2>/dev/null || true
    (sleep 5; is_ours "$pid" && kill -9 "$pid" 2>/dev/null) &
    watchdog=$!
    wait "$pid" 2>/dev/null || true
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
}

# Waits (bounded) until FILE contains PATTERN.
wait_for() {
    local file=$1 pattern=$2
    for _ in $(seq 1 100); do grep -q "$pattern" "$file" 2>/dev/null && return 0; sleep 0.1; done
    log "timed out waiting for '$pattern' in $file"; cat "$file" >&2 || true; return 1
}

# Waits (bounded) until something listens on UDP PORT (in namespace NS if given).
wait_udp() {
    local port=$1 ns=${2:-}
    for _ in $(seq 1 100); do
        if [ -n "$ns" ]; then ip netns exec "$ns" ss -uln "sport = :$port" | grep -q ":$port"; else ss -uln "sport = :$port" | grep -q ":$port"; fi && return 0
        sleep 0.1
    done
    log "nothing listens on UDP port $port"; return 1
}

has() { [[ " $PARTS " == *" $1 "* ]]; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# ---------------------------------------------------------------- setup ---
setup() {
    local tools=(in.tftpd dnsmasq atftp ss sha256sum)
    # the loopback ceiling is measured for the throughput table only
    if has throughput; then tools+=(iperf3 jq); fi
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
    done
    [ "$(id -u)" = 0 ] || { echo "needs root (network namespace for dnsmasq)" >&2; exit 1; }
    ATFTPD=${ATFTPD:-$CACHE/atftpd/usr/sbin/atftpd}
    if [ ! -x "$ATFTPD" ]; then
        log "unpacking atftpd into $CACHE"
        mkdir -p "$CACHE" && (cd "$CACHE" && apt-get download atftpd >/dev/null && dpkg -x atftpd_*.deb atftpd)
    fi
    log "building netboot and the benchmark examples (release)"
    (cd "$REPO" && cargo build --release --quiet --bin netboot --example tftp_bench_client --example lossy_relay)
    NETBOOT=$REPO/target/release/netboot
    CLIENT=$REPO/target/release/examples/tftp_bench_client
    RELAY=$REPO/target/release/examples/lossy_relay
    chmod 755 "$WORK"; mkdir -p "$ROOT" "$DL" "$OUT"; chmod 755 "$ROOT"
    head -c $((64 << 20)) /dev/urandom > "$ROOT/big.bin"
    head -c $((8 << 20)) /dev/urandom > "$ROOT/small.bin"
    chmod 644 "$ROOT"/*.bin
    SUM_big=$(sha256sum < "$ROOT/big.bin" | cut -d' ' -f1)
    SUM_small=$(sha256sum < "$ROOT/small.bin" | cut -d' ' -f1)
    : > "$OUT/raw.tsv"
}

start_servers() {
    log "starting servers: netboot :$P_NB, tftpd-hpa :$P_HPA, atftpd :$P_AT, dnsmasq :69 in netns $NS"
    start "$NETBOOT" tftp --address "127.0.0.1:$P_NB" --max-per-client 512 --max-transfers 512 \
        "$ROOT" 2> "$WORK/netboot.log"
    wait_for "$WORK/netboot.log" "TFTP listening on"
    start in.tftpd -L -s -a "127.0.0.1:$P_HPA" "$ROOT" 2> "$WORK/tftpd-hpa.log"
    wait_udp "$P_HPA"
    start "$ATFTPD" --daemon --no-fork --port "$P_AT" --bind-address 127.0.0.1 --user root.root \
        --maxthread 512 --logfile "$WORK/atftpd.log" "$ROOT"
    wait_udp "$P_AT"
    ip netns add "$NS"
    ip -n "$NS" link set lo up
    # Some servers want an address besides loopback (tftpd-hpa exits
    # without one); a veth pair with both ends in the namespace.
    ip -n "$NS" link add nbb0 type veth peer name nbb1
    ip -n "$NS" addr add 10.254.254.1/24 dev nbb0
    ip -n "$NS" link set nbb0 up
    ip -n "$NS" link set nbb1 up
    start ip netns exec "$NS" dnsmasq -d -C /dev/null --port=0 --enable-tftp --tftp-root="$ROOT" \
        --tftp-max=512 --pid-file= --log-facility="$WORK/dnsmasq.log" --quiet-tftp 2> "$WORK/dnsmasq.err"
    wait_udp 69 "$NS"
}

# Runs a command in the namespace of SERVER (dnsmasq's) or here.
in_ns() { if [ "$1" = dnsmasq ]; then shift; ip netns exec "$NS" "$@"; else shift; "$@"; fi; }
port_of() { case $1 in netboot) echo "$P_NB" ;; tftpd-hpa) echo "$P_HPA" ;; atftpd) echo "$P_AT" ;; dnsmasq) echo 69 ;; esac; }

# One download with the atftp client; prints MiB/s or "fail".
atftp_get() {
    local server=$1 file=$2 blk=$3 win=$4 port; port=$(port_of "$server")
    local opts=() sum
    [ "$blk" != 512 ] && opts+=(--option "blksize $blk")
    [ "$win" != 1 ] && opts+=(--option "windowsize $win")
    rm -f "$DL/out"
    local t0 t1
    t0=$(date +%s.%N)
    if ! in_ns "$server" timeout "$TIMEOUT" atftp --get -r "$file" -l "$DL/out" "${opts[@]}" 127.0.0.1 "$port" >"$DL/atftp.log" 2>&1; then
        echo fail; return
    fi
    t1=$(date +%s.%N)
    sum=$(sha256sum < "$DL/out" | cut -d' ' -f1)
    local want=SUM_${file%.bin}
    [ "$sum" = "${!want}" ] || { echo fail; return; }
    awk -v b="$(stat -c %s "$DL/out")" -v a="$t0" -v z="$t1" 'BEGIN {printf "%.1f\n", b/1048576/(z-a)}'
}

# One run of the benchmark client; prints its result line.
bench_client() {
    local server=$1 file=$2 blk=$3 win=$4 clients=${5:-1} port; port=$(port_of "$server")
    in_ns "$server" timeout $((TIMEOUT + 5)) "$CLIENT" --server "127.0.0.1:$port" --file "$file" \
        --expect "$ROOT/$file" --blksize "$blk" --windowsize "$win" --tsize --clients "$clients" \
        --deadline-s "$TIMEOUT" 2>&1 || true
}
field() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }

# One measurement in MiB/s (or "fail"); records it. Args: case client server file blk win.
measure_once() {
    local case=$1 client=$2 server=$3 file=$4 blk=$5 win=$6 v line
    if [ "$client" = atftp ]; then
        v=$(atftp_get "$server" "$file" "$blk" "$win")
    else
        line=$(bench_client "$server" "$file" "$blk" "$win")
        if [ "$(echo "$line" | field ok)" = 1 ]; then v=$(echo "$line" | field mib_per_s); else v=fail; log "  $line"; fi
    fi
    printf '%s\t%s\t%s\t%s\n' "$case" "$client" "$server" "$v" >> "$OUT/raw.tsv"
    echo "$v"
}

# "**median** (min-max)" of the values given, or "fail".
summarize() {
    local vals=("$@") ok
    ok=$(printf '%s\n' "${vals[@]}" | grep -vc fail || true)
    if [ "$ok" = 0 ]; then echo "fail"; return; fi
    local spread=""
    [ "$ok" -gt 1 ] && spread=" ($(printf '%s\n' "${vals[@]}" | grep -v fail | sort -g | sed -n '1p;$p' | paste -sd- -))"
    local failed=""
    [ "$ok" -lt "${#vals[@]}" ] && failed=", $((${#vals[@]} - ok)) failed"
    echo "**$(printf '%s\n' "${vals[@]}" | grep -v fail | median)**$spread$failed"
}

# ------------------------------------------------------------ the tables ---
SERVERS=(netboot tftpd-hpa dnsmasq atftpd)
declare -A RESULT

# Sets CEILING (MiB/s received); not in a subshell, so the trap knows iperf3's PID.
iperf_ceiling() {
    local json
    start iperf3 -s -1 -p "$P_IPERF" > /dev/null 2>&1
    local server=$LAST
    wait_udp "$P_IPERF" 2>/dev/null || sleep 0.5
    json=$(timeout 20 iperf3 -u -l 1468 -b 0 -c 127.0.0.1 -p "$P_IPERF" -t 5 --json || true)
    stop "$server"
    CEILING=$(echo "$json" | jq -r '(.end.sum_received.bytes // 0) / 1048576 / (.end.sum_received.seconds // 1) | . * 10 | round / 10')
    CEILING_LOSS=$(echo "$json" | jq -r '.end.sum_received.lost_percent // "?" | . * 10 | round / 10')
}

# Which block sizes each server grants when asked 65464 (for the notes).
granted_blksize() {
    local server=$1 line
    line=$(bench_client "$server" small.bin 65464 1)
    echo "$line" | field blksize
}

# Each case is measured RUNS rounds; a round asks every server once, so a
# noisy moment of the shared machine hits all servers alike.
throughput_tables() {
    local server client blk win i
    local cases=("512 1" "1468 1" "65464 1" "1468 4" "1468 16" "65464 16")
    for client in bench atftp; do
        for c in "${cases[@]}"; do
            read -r blk win <<< "$c"
            local servers=()
            for server in "${SERVERS[@]}"; do
                # Servers without windowsize appear in the lock-step rows only.
                if [ "$win" != 1 ] && { [ "$server" = tftpd-hpa ] || [ "$server" = dnsmasq ]; }; then
                    RESULT["$blk/$win/$client/$server"]="lock-step"
                else
                    servers+=("$server")
                fi
            done
            declare -A VALS=()
            for i in $(seq 1 "$RUNS"); do
                for server in "${servers[@]}"; do
                    VALS[$server]+="$(measure_once "b$blk w$win" "$client" "$server" big.bin "$blk" "$win") "
                done
            done
            for server in "${servers[@]}"; do
                log "b$blk w$win [$client] $server: ${VALS[$server]}"
                # shellcheck disable=SC2086 # the values are words
                RESULT["$blk/$win/$client/$server"]=$(summarize ${VALS[$server]})
            done
            unset VALS
        done
    done
}

# blksize 65464 with the atftp client, whose socket buffer (the kernel
# default, ~208 KiB) holds about 3 blocks: lock-step against windowsize 4 and
# 16 (issue 17). Every round asks each case of each server once.
ADAPTIVE_WINDOWS=(1 4 16)
adaptive_table() {
    local win server i
    declare -gA ADAPT_VALS=()
    for i in $(seq 1 "$RUNS"); do
        for win in "${ADAPTIVE_WINDOWS[@]}"; do
            for server in netboot atftpd; do
                ADAPT_VALS["$win/$server"]+="$(measure_once "adaptive b65464 w$win" atftp "$server" big.bin 65464 "$win") "
            done
        done
    done
    for win in "${ADAPTIVE_WINDOWS[@]}"; do
        for server in netboot atftpd; do
            log "adaptive b65464 w$win [atftp] $server: ${ADAPT_VALS["$win/$server"]}"
            # shellcheck disable=SC2086 # the values are words
            RESULT["adaptive/$win/$server"]=$(summarize ${ADAPT_VALS["$win/$server"]})
        done
    done
}

# Issue 17's bar: the slowest windowsize 4 and 16 runs of netboot against
# 0.8 x its median lock-step run of the same benchmark run (a failed run
# counts as 0).
adaptive_verdict() {
    local lock slowest v win
    # shellcheck disable=SC2086 # the values are words
    lock=$(printf '%s\n' ${ADAPT_VALS["1/netboot"]} | grep -v fail | median)
    for win in 4 16; do
        # shellcheck disable=SC2086 # the values are words
        v=$(printf '%s\n' ${ADAPT_VALS["$win/netboot"]} | sed 's/^fail$/0/' | sort -g | head -1)
        slowest+="windowsize $win slowest $v MiB/s; "
        awk -v v="$v" -v l="$lock" 'BEGIN {exit !(v >= 0.8 * l)}' || slowest+="(below the bar) "
    done
    echo "Bar (slowest windowsize 4 and 16 run >= 0.8 x median lock-step, $lock MiB/s): ${slowest% }"
}

load_table() {
    local server win line i
    for win in 1 16; do
        local servers=()
        for server in "${SERVERS[@]}"; do
            if [ "$win" != 1 ] && { [ "$server" = tftpd-hpa ] || [ "$server" = dnsmasq ]; }; then
                RESULT["load/$win/$server"]="lock-step"
            else
                servers+=("$server")
            fi
        done
        declare -A VALS=() SLOW=()
        for i in $(seq 1 "$RUNS"); do
            for server in "${servers[@]}"; do
                line=$(bench_client "$server" small.bin 1468 "$win" "$CLIENTS")
                local v=fail s=fail
                if [ "$(echo "$line" | field ok)" = 1 ]; then
                    v=$(echo "$line" | field mib_per_s); s=$(echo "$line" | field slowest_s)
                else
                    log "  $line"
                fi
                VALS[$server]+="$v " SLOW[$server]+="$s "
                printf 'load w%s\tbench\t%s\t%s\t%s\n' "$win" "$server" "$v" "$s" >> "$OUT/raw.tsv"
            done
        done
        for server in "${servers[@]}"; do
            log "load $CLIENTS x 8 MiB w$win $server: ${VALS[$server]}(slowest ${SLOW[$server]}s)"
            # shellcheck disable=SC2086 # the values are words
            RESULT["load/$win/$server"]="$(printf '%s\n' ${VALS[$server]} | grep -v fail | median) MiB/s, slowest $(printf '%s\n' ${SLOW[$server]} | grep -v fail | median) s"
            if [[ " ${VALS[$server]} " == *" fail "* ]]; then RESULT["load/$win/$server"]+=" (some runs failed)"; fi
        done
        unset VALS SLOW
    done
}

# One download through the lossy relay with CLIENT; sets LOSSY to seconds or
# ">N s" (not in a subshell, so the trap knows the relay's PID).
lossy_run() {
    local server=$1 loss=$2 win=$3 client=$4 port relay_log line t0 t1 opts=() rc=0
    port=$(port_of "$server")
    relay_log=$WORK/relay.log
    start "$RELAY" --listen "127.0.0.1:$P_RELAY" --server "127.0.0.1:$port" --loss "$loss" --seed 7 \
        --max-seconds $((LOSSY_TIMEOUT + 30)) 2> "$relay_log"
    local relay=$LAST
    wait_for "$relay_log" "relay listening" >&2
    t0=$(date +%s.%N)
    if [ "$client" = atftp ]; then
        [ "$win" != 1 ] && opts+=(--option "windowsize $win")
        rm -f "$DL/out"
        timeout "$LOSSY_TIMEOUT" atftp --get -r small.bin -l "$DL/out" --option "blksize 1468" "${opts[@]}" \
            127.0.0.1 "$P_RELAY" >"$DL/atftp.log" 2>&1 || rc=$?
        [ $rc = 0 ] && [ "$(sha256sum < "$DL/out" | cut -d' ' -f1)" = "$SUM_small" ] || rc=${rc/#0/1}
    else
        line=$(timeout $((LOSSY_TIMEOUT + 5)) "$CLIENT" --server "127.0.0.1:$P_RELAY" --file small.bin \
            --expect "$ROOT/small.bin" --blksize 1468 --windowsize "$win" --deadline-s "$LOSSY_TIMEOUT" 2>&1 || true)
        [ "$(echo "$line" | field ok)" = 1 ] || rc=1
    fi
    t1=$(date +%s.%N)
    stop "$relay"
    local drops
    drops=$(grep -o 'dropped=[0-9]*' "$relay_log" | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
    if [ $rc = 0 ]; then
        LOSSY=$(awk -v a="$t0" -v z="$t1" -v d="$drops" 'BEGIN {printf "%.2f s (%s lost)", z-a, d}')
        return
    fi
    local got=0
    if [ "$client" = atftp ]; then got=$(stat -c %s "$DL/out" 2>/dev/null || echo 0)
    else got=$(echo "$line" | field bytes); fi
    LOSSY=$(awk -v g="${got:-0}" -v t="$LOSSY_TIMEOUT" -v d="$drops" 'BEGIN {
        p = g / 8388608 * 100
        if (p > 0) printf "> %d s (%.0f %% done, %s lost; ~%.0f s at that pace)", t, p, d, t * 100 / p
        else printf "> %d s (nothing received, %s lost)", t, d }')
}

# The atftp client waits its own ~1 s timer whenever an ACK is lost (it
# ignores a resent DATA in lock-step), so it runs at 1 % only; the bench
# client re-ACKs a resent block at once and runs at 1 % and 5 %.
LOSSY_CASES=("0.01 atftp" "0.01 bench" "0.05 bench")

lossy_table() {
    local server loss win client v c
    for c in "${LOSSY_CASES[@]}"; do
        read -r loss client <<< "$c"
        for win in 1 16; do
            for server in netboot tftpd-hpa atftpd; do
                if [ "$win" != 1 ] && [ "$server" = tftpd-hpa ]; then
                    RESULT["lossy/$loss/$win/$client/$server"]="lock-step"; continue
                fi
                lossy_run "$server" "$loss" "$win" "$client"; v=$LOSSY
                log "lossy $loss w$win [$client] $server: $v"
                printf 'lossy %s w%s\t%s\t%s\t%s\n' "$loss" "$win" "$client" "$server" "$v" >> "$OUT/raw.tsv"
                RESULT["lossy/$loss/$win/$client/$server"]=$v
            done
        done
    done
}

# ---------------------------------------------------------------- report ---
report() {
    local blk win client label
    if has throughput; then
    echo "### Throughput, one client, 64 MiB file (MiB/s: **median** (min-max) of $RUNS)"
    echo
    echo "| case | client | netboot | tftpd-hpa | dnsmasq | atftpd |"
    echo "|---|---|---|---|---|---|"
    for c in "512 1" "1468 1" "65464 1" "1468 4" "1468 16" "65464 16"; do
        read -r blk win <<< "$c"
        for client in bench atftp; do
            label="blksize $blk, lock-step"; [ "$win" != 1 ] && label="blksize $blk, windowsize $win"
            printf '| %s | %s |' "$label" "$([ $client = bench ] && echo tftp_bench_client || echo atftp)"
            for server in "${SERVERS[@]}"; do printf ' %s |' "${RESULT["$blk/$win/$client/$server"]}"; done
            echo
        done
    done
    echo
    echo "Loopback UDP ceiling (iperf3 -u -l 1468 -b 0, receiver): **$CEILING MiB/s** ($CEILING_LOSS % of datagrams lost);"
    echo "netboot at blksize 1468, windowsize 16 with tftp_bench_client: ${RESULT["1468/16/bench/netboot"]} MiB/s."
    echo "Block size granted when 65464 is asked: $(for s in "${SERVERS[@]}"; do printf '%s %s; ' "$s" "${GRANTED[$s]}"; done)"
    echo
    fi
    if has adaptive; then
    echo "### blksize 65464 with atftp (its ~208 KiB socket buffer holds about 3 blocks), 64 MiB file (MiB/s: **median** (min-max) of $RUNS, ${TIMEOUT} s bound)"
    echo
    echo "| case | netboot | atftpd |"
    echo "|---|---|---|"
    for win in "${ADAPTIVE_WINDOWS[@]}"; do
        label="lock-step"; [ "$win" != 1 ] && label="windowsize $win"
        printf '| %s | %s | %s |\n' "$label" "${RESULT["adaptive/$win/netboot"]}" "${RESULT["adaptive/$win/atftpd"]}"
    done
    echo
    adaptive_verdict
    echo
    fi
    if has load; then
    echo "### $CLIENTS concurrent clients, 8 MiB file each, blksize 1468 (tftp_bench_client, aggregate, median of $RUNS)"
    echo
    echo "| case | netboot | tftpd-hpa | dnsmasq | atftpd |"
    echo "|---|---|---|---|---|"
    for win in 1 16; do
        label="lock-step"; [ "$win" != 1 ] && label="windowsize $win"
        printf '| %s |' "$label"
        for server in "${SERVERS[@]}"; do printf ' %s |' "${RESULT["load/$win/$server"]}"; done
        echo
    done
    fi
    has lossy || return 0
    echo
    echo "### Lossy link: time to fetch 8 MiB at blksize 1468 through lossy_relay (one run, seed 7)"
    echo
    echo "| loss | case | client | netboot | tftpd-hpa | atftpd |"
    echo "|---|---|---|---|---|---|"
    for c in "${LOSSY_CASES[@]}"; do
        read -r loss client <<< "$c"
        for win in 1 16; do
            label="lock-step"; [ "$win" != 1 ] && label="windowsize $win"
            printf '| %s %% | %s | %s |' "$(awk -v l="$loss" 'BEGIN {print l*100}')" "$label" \
                "$([ $client = bench ] && echo tftp_bench_client || echo atftp)"
            for server in netboot tftpd-hpa atftpd; do printf ' %s |' "${RESULT["lossy/$loss/$win/$client/$server"]}"; done
            echo
        done
    done
}

# Puts the tables into docs/benchmarks.md between its markers, with the
# date, commit and command (WRITE_DOC=0 leaves the file alone).
write_doc() {
    local doc=$REPO/docs/benchmarks.md begin='<!-- tftp_bench.sh: begin -->' end='<!-- tftp_bench.sh: end -->'
    [ "${WRITE_DOC:-1}" = 1 ] || return 0
    if ! grep -qF "$begin" "$doc" || ! grep -qF "$end" "$doc"; then
        log "no markers in $doc; tables left in $OUT/tables.md"; return 0
    fi
    local commit; commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    {
        echo "Run of $(date -u +%F) at commit $commit: \`RUNS=$RUNS PARTS=\"$PARTS\" bash tests/bench/tftp_bench.sh\`"
        echo "(load average at the start: $LOAD_AT_START, at the end: $LOAD_AT_END)."
        echo
        cat "$OUT/tables.md"
    } > "$OUT/doc-block.md"
    awk -v b="$begin" -v e="$end" -v f="$OUT/doc-block.md" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$doc" > "$OUT/benchmarks.md.new"
    mv "$OUT/benchmarks.md.new" "$doc"
    log "tables written into $doc"
}

main() {
    LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    setup
    start_servers
    if has throughput; then
        log "iperf3 loopback ceiling"
        iperf_ceiling
        log "ceiling: $CEILING MiB/s ($CEILING_LOSS % lost)"
    fi
    declare -gA GRANTED
    for server in "${SERVERS[@]}"; do GRANTED[$server]=$(granted_blksize "$server"); done
    if has throughput; then throughput_tables; fi
    if has adaptive; then adaptive_table; fi
    if has load; then load_table; fi
    if has lossy; then lossy_table; fi
    LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)
    log "load average at the start: $LOAD_AT_START, at the end: $LOAD_AT_END"
    report | tee "$OUT/tables.md"
    write_doc
    log "done in $(($(date +%s) - SCRIPT_START)) s; tables in $OUT/tables.md"
}

main "$@"
