#!/usr/bin/env bash
# TFTP boot storms: netboot (shipped limits) against tftpd-hpa.
#
#   bash tests/bench/tftp_storm.sh                 # ROUNDS=3, ~10 minutes
#   ROUNDS=1 SIZES="50" PARTS=storm WRITE_DOC=0 bash tests/bench/tftp_storm.sh   # a quick look
#   NETBOOT_BEFORE=/path/to/older/netboot bash tests/bench/tftp_storm.sh  # a third column
#
# Not run by `cargo test` or CI. Needs tftpd-hpa (in.tftpd). All traffic
# stays on the loopback interface: servers on 127.0.0.1, clients on
# 127.0.0.1 or on 127.1.x.y (the loopback /8, no set-up). Every process
# started here is killed by PID on exit, even on failure; every client run
# is bounded by `timeout`.
#
# Clients: examples/tftp_storm_client.rs, N firmware-like clients started at
# once (lock-step, blksize 1468, 1 s timeout, give up after 4 silent
# timeouts in a row or on any ERROR), each checking the bytes it got.
#   storm: N = each of $SIZES, all from 127.0.0.1, then each from its own
#          address; no loss.
#   lossy: $LOSSY_CLIENTS clients through examples/lossy_relay.rs dropping
#          $LOSS of the datagrams in each direction (seeded per round), the
#          relay at nice $RELAY_NICE (a link takes no CPU from the server;
#          RELAY_NICE= runs it at the default priority).
#   direct: the same clients dropping $LOSS each way themselves (seeded per
#          round and client): the lossy link without the relay's cost.
# A round runs every cell against both servers, the server order
# alternating between rounds (the VM has slow and fast phases).
#
# Output: progress on stderr, tables on stdout, in $OUT/storm-tables.md and
# in docs/benchmarks.md between its tftp_storm.sh markers (WRITE_DOC=0 to
# leave it alone); one line per run in $OUT/storm-raw.tsv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-50 200 500}
PARTS=${PARTS:-storm lossy direct}
LOSSY_CLIENTS=${LOSSY_CLIENTS:-300}
LOSS=${LOSS:-0.02}
FILE_KIB=${FILE_KIB:-1024}        # the file every client fetches (ipxe.efi is ~1 MiB)
DEADLINE=${DEADLINE:-90}          # seconds, bound of one client
OUT=${OUT:-$REPO/target/bench}
PORT0=${PORT0:-$((20000 + $$ % 20000))}
P_NB=$PORT0 P_HPA=$((PORT0 + 1)) P_RELAY=$((PORT0 + 2)) P_BEFORE=$((PORT0 + 3))
NETBOOT_BEFORE=${NETBOOT_BEFORE:-}   # an older netboot binary, measured too (shipped limits), labelled $BEFORE_LABEL
SERVERS=(netboot tftpd-hpa); [ -n "$NETBOOT_BEFORE" ] && SERVERS+=(before)
# shellcheck disable=SC2206 # ONLY="netboot" measures that server alone
[ -n "${ONLY:-}" ] && SERVERS=($ONLY)
# After a lossy run, transfers whose client's last ACK was lost wait for it
# (netboot: --timeout 15 s) and then send an ERROR to a port the next run's
# relay may have been given again: wait them out.
LINGER=${LINGER:-16}
RELAY_NICE=${RELAY_NICE--10}
SHM=/dev/shm; [ -d "$SHM" ] || SHM=/tmp
WORK=$(mktemp -d "$SHM/nbstorm.XXXXXX")
ROOT=$WORK/root
SCRIPT_START=$(date +%s)

log() { printf '[%4ss] %s\n' $(($(date +%s) - SCRIPT_START)) "$*" >&2; }

declare -A ALIVE   # PIDs we started and have not reaped yet
cleanup() {
    local pid
    for pid in "${!ALIVE[@]}"; do stop "$pid"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { "$@" & LAST=$!; ALIVE[$LAST]=1; }
is_ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }
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
wait_for() {
    local file=$1 pattern=$2
    for _ in $(seq 1 100); do grep -q "$pattern" "$file" 2>/dev/null && return 0; sleep 0.1; done
    log "timed out waiting for '$pattern' in $file"; cat "$file" >&2 || true; return 1
}
wait_udp() {
    local port=$1
    for _ in $(seq 1 100); do ss -uln "sport = :$port" | grep -q ":$port" && return 0; sleep 0.1; done
    log "nothing listens on UDP port $port"; return 1
}
has() { [[ " $PARTS " == *" $1 "* ]]; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
field() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
port_of() { case $1 in netboot) echo "$P_NB" ;; tftpd-hpa) echo "$P_HPA" ;; before) echo "$P_BEFORE" ;; esac; }
label_of() { case $1 in netboot) echo "netboot (shipped limits)" ;; before) echo "${BEFORE_LABEL:-netboot before} (shipped limits)" ;; *) echo "$1" ;; esac; }

setup() {
    for tool in in.tftpd ss timeout; do
        command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install tftpd-hpa iproute2 coreutils)" >&2; exit 1; }
    done
    log "building netboot and the storm examples (release)"
    (cd "$REPO" && cargo build --release --quiet --bin netboot --example tftp_storm_client --example lossy_relay)
    NETBOOT=$REPO/target/release/netboot
    CLIENT=$REPO/target/release/examples/tftp_storm_client
    RELAY=$REPO/target/release/examples/lossy_relay
    chmod 755 "$WORK"; mkdir -p "$ROOT" "$OUT"; chmod 755 "$ROOT"
    head -c $((FILE_KIB << 10)) /dev/urandom > "$ROOT/boot.bin"
    chmod 644 "$ROOT/boot.bin"
    : > "$OUT/storm-raw.tsv"
}

start_servers() {
    log "starting netboot :$P_NB (shipped limits), tftpd-hpa :$P_HPA"
    start "$NETBOOT" tftp --address "127.0.0.1:$P_NB" "$ROOT" 2> "$WORK/netboot.log"
    wait_for "$WORK/netboot.log" "TFTP listening on"
    start in.tftpd -L -s -a "127.0.0.1:$P_HPA" "$ROOT" 2> "$WORK/tftpd-hpa.log"
    wait_udp "$P_HPA"
    if [ -n "$NETBOOT_BEFORE" ]; then
        log "starting $NETBOOT_BEFORE :$P_BEFORE (shipped limits)"
        start "$NETBOOT_BEFORE" tftp --address "127.0.0.1:$P_BEFORE" "$ROOT" 2> "$WORK/before.log"
        wait_for "$WORK/before.log" "TFTP listening on"
    fi
}

# One storm; prints the client's result line. Args: server-or-relay-port clients [--many-addresses].
storm() {
    local port=$1 clients=$2; shift 2
    timeout $((DEADLINE + 30)) "$CLIENT" --server "127.0.0.1:$port" --file boot.bin --expect "$ROOT/boot.bin" \
        --clients "$clients" --deadline-s "$DEADLINE" "$@" 2> "$WORK/client.err" \
        || echo "clients=$clients failed=$clients client_status=$?"
    if [ -s "$WORK/client.err" ]; then sed 's/^/    /' "$WORK/client.err" | head -3 >&2; fi
}

record() {   # case server line
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$OUT/storm-raw.tsv"
    log "$1 $2: $3"
}

# The servers, in an order that rotates from round to round.
servers_in_round() {
    local n=${#SERVERS[@]} i
    for i in $(seq 0 $((n - 1))); do printf '%s ' "${SERVERS[$(((i + $1) % n))]}"; done
}

storm_rounds() {
    local round n mode server line
    for round in $(seq 1 "$ROUNDS"); do
        for n in $SIZES; do
            for mode in one many; do
                for server in $(servers_in_round "$round"); do
                    if [ $mode = many ]; then line=$(storm "$(port_of "$server")" "$n" --many-addresses)
                    else line=$(storm "$(port_of "$server")" "$n"); fi
                    record "storm $n $mode" "$server" "$line"
                done
            done
        done
    done
}

lossy_rounds() {
    local round server line relay
    for round in $(seq 1 "$ROUNDS"); do
        for server in $(servers_in_round "$round"); do
            start "$RELAY" --listen "127.0.0.1:$P_RELAY" --server "127.0.0.1:$(port_of "$server")" \
                --loss "$LOSS" --seed "$round" --max-seconds $((DEADLINE + 60)) \
                ${RELAY_NICE:+--nice "$RELAY_NICE"} 2> "$WORK/relay.log"
            relay=$LAST
            wait_for "$WORK/relay.log" "relay listening"
            line=$(storm "$P_RELAY" "$LOSSY_CLIENTS")
            stop "$relay"
            line+=" $(grep -o '_dropped=[0-9]*' "$WORK/relay.log" | grep -v kernel | cut -d= -f2 | awk '{s += $1} END {print "dropped=" s + 0}')"
            line+=" $(grep -o 'kernel_dropped=[0-9]*' "$WORK/relay.log" || echo kernel_dropped=?)"
            record "lossy" "$server" "$line"
            sleep "$LINGER"
        done
    done
}

direct_rounds() {
    local round server line
    for round in $(seq 1 "$ROUNDS"); do
        for server in $(servers_in_round "$round"); do
            line=$(storm "$(port_of "$server")" "$LOSSY_CLIENTS" --loss "$LOSS" --seed "$round")
            record "direct" "$server" "$line"
            sleep "$LINGER"
        done
    done
}

# "a / b / c" of FIELD over the runs of CASE against SERVER, in round order.
runs_of() { awk -F'\t' -v c="$1" -v s="$2" '$1 == c && $2 == s {print $3}' "$OUT/storm-raw.tsv"; }
cell() {   # case server -> "failed F; p50 X s; p99 Y s; all done Z s" (medians over rounds, failures summed)
    local c=$1 s=$2 failed p50 p99 total
    failed=$(runs_of "$c" "$s" | field failed | awk '{t += $1} END {print t + 0}')
    p50=$(runs_of "$c" "$s" | field p50_s | median)
    p99=$(runs_of "$c" "$s" | field p99_s | median)
    total=$(runs_of "$c" "$s" | field total_s | median)
    printf '%s failed; p50 %s s, p99 %s s; all done in %s s' "$failed" "$p50" "$p99" "$total"
}
lossy_cell() {   # case server
    local c=$1 s=$2 gave errors p99s p50 tail first
    gave=$(runs_of "$c" "$s" | field gave_up | awk '{t += $1} END {print t + 0}')
    errors=$(runs_of "$c" "$s" | field errors | awk '{t += $1} END {print t + 0}')
    p50=$(runs_of "$c" "$s" | field p50_s | median)
    p99s=$(runs_of "$c" "$s" | field p99_s | paste -sd/ -)
    tail=$(runs_of "$c" "$s" | field tail | awk '{t += $1} END {print t + 0}')
    first=$(runs_of "$c" "$s" | field tail_first_waits | awk '{t += $1} END {print t + 0}')
    printf '%s gave up, %s ERRORs; p50 %s s; p99 %s s; %s of the %s clients at or above p99 waited in the first exchange' \
        "$gave" "$errors" "$p50" "$p99s" "$first" "$tail"
}

report() {
    if has storm; then
        echo "### Boot storm: N clients at once, $FILE_KIB KiB each, no loss ($ROUNDS rounds)"
        echo
        echo "Failures summed over the rounds; per-client times and the time until the last client finished:"
        echo "medians over the rounds."
        echo
        local n mode server
        printf '| clients | from |'; for server in "${SERVERS[@]}"; do printf ' %s |' "$(label_of "$server")"; done; echo
        printf '|---|---|'; for server in "${SERVERS[@]}"; do printf -- '---|'; done; echo
        for n in $SIZES; do
            for mode in one many; do
                printf '| %s | %s |' "$n" "$([ $mode = one ] && echo "127.0.0.1" || echo "$n addresses")"
                for server in "${SERVERS[@]}"; do printf ' %s |' "$(cell "storm $n $mode" "$server")"; done
                echo
            done
        done
        echo
    fi
    if has lossy || has direct; then
        echo "### Lossy storm: $LOSSY_CLIENTS firmware-like clients, $(awk -v l="$LOSS" 'BEGIN {print l*100}') % of the datagrams lost each way ($ROUNDS rounds)"
        echo
        echo "Give-ups and ERRORs summed over the rounds; p50 the median over the rounds; p99 of each round;"
        echo "the tail's first-exchange waits (own 1 s timer before DATA 1) summed over the rounds."
        [ -n "$RELAY_NICE" ] && has lossy && echo "lossy_relay ran at nice $RELAY_NICE."
        echo
        echo "| server | through lossy_relay | lost in the clients, no relay |"
        echo "|---|---|---|"
        local server
        for server in "${SERVERS[@]}"; do
            printf '| %s | %s | %s |\n' "$(label_of "$server")" "$(has lossy && lossy_cell lossy "$server")" \
                "$(has direct && lossy_cell direct "$server")"
        done
    fi
}

write_doc() {
    local doc=$REPO/docs/benchmarks.md begin='<!-- tftp_storm.sh: begin -->' end='<!-- tftp_storm.sh: end -->'
    [ "${WRITE_DOC:-1}" = 1 ] || return 0
    if ! grep -qF "$begin" "$doc" || ! grep -qF "$end" "$doc"; then
        log "no markers in $doc; tables left in $OUT/storm-tables.md"; return 0
    fi
    local commit; commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    {
        echo "Run of $(date -u +%F) at commit $commit: \`ROUNDS=$ROUNDS SIZES=\"$SIZES\" PARTS=\"$PARTS\" bash tests/bench/tftp_storm.sh\`"
        echo "(load average at the start: $LOAD_AT_START; other builds shared the 2 vCPUs)."
        echo
        cat "$OUT/storm-tables.md"
    } > "$OUT/storm-doc-block.md"
    awk -v b="$begin" -v e="$end" -v f="$OUT/storm-doc-block.md" '
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
    if has storm; then storm_rounds; fi
    if has lossy; then lossy_rounds; fi
    if has direct; then direct_rounds; fi
    report | tee "$OUT/storm-tables.md"
    write_doc
    log "done in $(($(date +%s) - SCRIPT_START)) s"
}

main "$@"
