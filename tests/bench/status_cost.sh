#!/usr/bin/env bash
# What the status page costs: DHCP and TFTP with the page off, on, and on
# with 50 "browsers" polling it, as an A/B/C in one run (issue 13).
#
#   bash tests/bench/status_cost.sh                        # ROUNDS=5, ~5 minutes
#   BASE_NB=/path/to/older/netboot bash tests/bench/status_cost.sh   # + a "before" row
#   SKIP_BUILD=1 NB=/path/to/netboot ...     # measure a build made beforehand
#
# Not run by `cargo test` or CI. Needs root, perfdhcp (kea), gcc, python3.
# Everything runs inside two network namespaces this script creates (server
# side vs0 10.77.0.1/16, client side vc0 10.77.0.2/16, a veth pair, as in
# dhcp_bench.sh); the status page listens on 127.0.0.1:9090 inside the server
# namespace and the pollers run there. Both namespaces are deleted on exit,
# and every process started here is stopped by PID, even on failure.
#
# Each cell starts `netboot serve` afresh on a store seeded with a bound lease
# for each of CLIENTS clients (dhcp_bench.sh's steady state) and:
#   1. with the pollers (setting "on+50") started: POLLERS threads of
#      examples/status_poller.rs, each one HTTP/1.1 connection fetching
#      /api/status once a second (as the page does), for the whole cell;
#   2. DHCP: perfdhcp DORA at RATE/s for PERIOD s from the client namespace,
#      --no-ping (dhcp_bench.sh's perfdhcp_run, the same rcvbuf shim);
#   3. TFTP: TFTP_REPS downloads of a TFTP_MB MiB file by tftp_bench_client
#      from the client namespace, blksize 1468, windowsize 16 (tftp_bench.sh's
#      headline case), each checked block by block.
# Settings (SETTINGS): "before" (BASE_NB, a build without the event stream,
# only if given), "off" (no --status), "on" (--status, nobody looks), "on+50";
# "LABEL:on+50" (and so on) runs the build NB_LABEL names instead of NB, to
# compare two builds in one run (NB_old=/var/tmp/netboot-old SETTINGS="off on+50 old:on+50").
# Rounds are interleaved: round 1 runs every setting once, then round 2...
#
# Output: progress on stderr; $OUT/raw.tsv, $OUT/table.md (also on stdout).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$REPO/tests/bench/lib.sh"
ROUNDS=${ROUNDS:-5}
PERIOD=${PERIOD:-5}                 # seconds of perfdhcp traffic per cell
RATE=${RATE:-12000}                 # perfdhcp -r
CLIENTS=${CLIENTS:-20000}           # perfdhcp -R, all seeded with a lease
POLLERS=${POLLERS:-50}
TFTP_MB=${TFTP_MB:-256}
TFTP_REPS=${TFTP_REPS:-3}
TIMEOUT=${TIMEOUT:-60}              # bound of one TFTP download, seconds
BASE_NB=${BASE_NB:-}
SETTINGS=${SETTINGS:-${BASE_NB:+before }off on on+50}
OUT=${OUT:-$REPO/target/bench/status}
STATE_BASE=${STATE_BASE:-/var/tmp}  # must be a real disk (fsync costs)
SRV=nbcost-srv-$$ CLI=nbcost-cli-$$
NB=${NB:-$REPO/target/release/netboot}   # the build measured
TFTPC=$REPO/target/release/examples/tftp_bench_client
POLLER=$REPO/target/release/examples/status_poller
PY="python3 $REPO/tests/bench/dhcp_bench.py"
STATUS=127.0.0.1:9090
SCRIPT_START=$(date +%s)

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
need_tools perfdhcp gcc python3 ip ss timeout
[ -z "$BASE_NB" ] || [ -x "$BASE_NB" ] || die "BASE_NB=$BASE_NB is not an executable"
WORK=$(mktemp -d "$STATE_BASE/nbcost.XXXXXX")
chmod 755 "$WORK"   # netboot serve drops root (to nobody): it must look inside

cleanup() {
    stop_all
    ip netns del "$SRV" 2>/dev/null || true
    ip netns del "$CLI" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building netboot and the examples (release)"
    (cd "$REPO" && CARGO_BUILD_JOBS=1 nice -n 19 cargo build --release -q --bin netboot \
        --example tftp_bench_client --example status_poller)
fi
for b in "$NB" "$TFTPC" "$POLLER"; do [ -x "$b" ] || die "missing $b (build it, or SKIP_BUILD=0)"; done
mkdir -p "$OUT"
gcc -O2 -Wall -shared -fPIC -o "$OUT/rcvbuf_shim.so" "$REPO/tests/bench/rcvbuf_shim.c" -ldl
veth_pair "$SRV" "$CLI"
mkdir -p "$WORK/root" "$WORK/profiles"
$PY macs "$CLIENTS" "$WORK/macs"
head -c $((TFTP_MB << 20)) /dev/urandom > "$WORK/root/big.bin"
chmod 755 "$WORK/root"; chmod 644 "$WORK/root/big.bin"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'round\tsetting\tkind\tvalue\tcpu_us_per_xchg\tack_ms\tpolls_ok\tpoll_errors\tpoll_max_ms\tload\n' > "$OUT/raw.tsv"

# start_server SETTING DIR: sets SPID (netboot's own PID: `ip netns exec`
# execs it) and SLOG.
start_server() {
    local setting=$1 dir=$2 bin=$NB status=() mode=${1#*:} var
    SLOG=$dir/server.log
    if [[ "$setting" == *:* ]]; then var=NB_${setting%%:*}; bin=${!var:?$var (the build of setting $setting) is not set}; fi
    [ "$mode" = before ] && bin=$BASE_NB
    [[ "$mode" == on* ]] && status=(--status "$STATUS")
    start env -u RUST_LOG ip netns exec "$SRV" "$bin" serve --interface vs0 \
        --root "$WORK/root" --profiles "$WORK/profiles" --state-dir "$dir/state" \
        --range 10.77.1.1-10.77.120.254 --lease-time 3600 --no-ping "${status[@]}" \
        2>"$SLOG" >/dev/null
    SPID=$LAST
    wait_listen "$SRV" udp 67 || { tail -5 "$SLOG" >&2; return 1; }
    wait_listen "$SRV" udp 69
    [ ${#status[@]} = 0 ] || wait_listen "$SRV" tcp "${STATUS##*:}"
    wait_idle "$SPID"
}

# dhcp ROUND SETTING: one perfdhcp run; appends to raw.tsv.
dhcp() {
    local report=$OUT/perfdhcp-$1-$2.txt c0 c1 xps cpu
    c0=$(cpu_ticks "$SPID")
    timeout $((PERIOD + 20)) ip netns exec "$CLI" env LD_PRELOAD="$OUT/rcvbuf_shim.so" \
        perfdhcp -4 -l vc0 -r "$RATE" -R "$CLIENTS" -M "$WORK/macs" -p "$PERIOD" -W 1000000 \
        >"$report" 2>&1 || true
    c1=$(cpu_ticks "$SPID")
    declare -A r
    while IFS== read -r k v; do r[$k]=$v; done < <($PY perfdhcp "$report")
    xps=$(awk -v a="${r[ra_received]:-0}" -v p="$PERIOD" 'BEGIN { printf "%.1f", a / p }')
    cpu=$(awk -v t=$((c1 - c0)) -v a="${r[ra_received]:-0}" 'BEGIN { if (a) printf "%.1f", t * 10000 / a; else print "-" }')
    DHCP_LINE="$xps	$cpu	${r[ra_avg]:--}"
    log "  dhcp $2: $xps exchanges/s, $cpu µs CPU per exchange, ACK ${r[ra_avg]:--} ms"
}

# tftp: TFTP_REPS downloads; sets TFTP_VALS (MiB/s each, or "fail").
tftp() {
    local line v
    TFTP_VALS=()
    for _ in $(seq 1 "$TFTP_REPS"); do
        line=$(timeout $((TIMEOUT + 5)) ip netns exec "$CLI" "$TFTPC" --server 10.77.0.1:69 \
            --file big.bin --expect "$WORK/root/big.bin" --blksize 1468 --windowsize 16 --tsize \
            --deadline-s "$TIMEOUT" 2>&1 || true)
        v=$(tr ' ' '\n' <<< "$line" | awk -F= '$1 == "mib_per_s" { print $2 }')
        [[ "$line" == ok=1* ]] && [ -n "$v" ] || { v=fail; log "  $line"; }
        TFTP_VALS+=("$v")
    done
    log "  tftp: ${TFTP_VALS[*]} MiB/s"
}

# cell ROUND SETTING
cell() {
    local round=$1 setting=$2 dir=$WORK/cell poller= plog load v
    rm -rf "$dir"; mkdir -p "$dir/state"
    $PY seed-netboot "$CLIENTS" $(($(date +%s) + 1800)) "$dir/state"
    start_server "$setting" "$dir"
    plog=$dir/poller.out
    if [ "${setting#*:}" = on+50 ]; then
        start timeout 300 ip netns exec "$SRV" "$POLLER" --address "$STATUS" --pollers "$POLLERS" \
            --seconds 240 --stop-file "$dir/stop" >"$plog" 2>&1
        poller=$LAST; sleep 1.5
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    dhcp "$round" "$setting"
    tftp
    local polls="-	-	-"
    if [ -n "$poller" ]; then
        touch "$dir/stop"
        for _ in $(seq 1 100); do is_ours "$poller" || break; sleep 0.1; done
        stop "$poller"
        polls=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); c[kv[1]] = kv[2] } }
            END { printf "%s\t%s\t%s", c["ok"], c["errors"], c["max_ms"] }' "$plog")
        log "  pollers: $(cat "$plog")"
    fi
    stop "$SPID"
    tail -n 20 "$SLOG" > "$OUT/server-$round-$setting.log.tail"
    printf '%s\t%s\tdhcp\t%s\t%s\t%s\n' "$round" "$setting" "$DHCP_LINE" "$polls" "$load" >> "$OUT/raw.tsv"
    for v in "${TFTP_VALS[@]}"; do
        printf '%s\t%s\ttftp\t%s\t-\t-\t%s\t%s\n' "$round" "$setting" "$v" "$polls" "$load" >> "$OUT/raw.tsv"
    done
}

# table: per setting, min/median/max of each measure, and the change of the
# median against "off".
table() {
    local s kind col
    echo "| setting | DHCP exchanges/s | server CPU µs/exchange | ACK latency ms | TFTP w16 MiB/s | polls answered (errors, slowest ms) |"
    echo "|---|---|---|---|---|---|"
    for s in $SETTINGS; do
        printf '| %s |' "$s"
        for col in 4 5 6; do
            printf ' %s |' "$(awk -F'\t' -v s="$s" -v c=$col '$2 == s && $3 == "dhcp" && $c != "-" { print $c }' "$OUT/raw.tsv" | stats)"
        done
        printf ' %s |' "$(awk -F'\t' -v s="$s" '$2 == s && $3 == "tftp" && $4 != "fail" { print $4 }' "$OUT/raw.tsv" | stats)"
        printf ' %s |\n' "$(awk -F'\t' -v s="$s" '$2 == s && $3 == "dhcp" && $7 != "-" { ok += $7; e += $8; if ($9 > m) m = $9; n++ }
            END { if (n) printf "%d (%d, %d)", ok, e, m; else print "-" }' "$OUT/raw.tsv")"
    done
    echo
    local base d t
    base=$(awk -F'\t' '$2 == "off" && $3 == "dhcp" { print $4 }' "$OUT/raw.tsv" | median)
    t=$(awk -F'\t' '$2 == "off" && $3 == "tftp" && $4 != "fail" { print $4 }' "$OUT/raw.tsv" | median)
    for s in $SETTINGS; do
        [ "$s" = off ] && continue
        d=$(awk -F'\t' -v s="$s" '$2 == s && $3 == "dhcp" { print $4 }' "$OUT/raw.tsv" | median)
        kind=$(awk -F'\t' -v s="$s" '$2 == s && $3 == "tftp" && $4 != "fail" { print $4 }' "$OUT/raw.tsv" | median)
        awk -v s="$s" -v b="$base" -v d="$d" -v t="$t" -v k="$kind" 'BEGIN {
            printf "- %s against off: DHCP median %+.1f %%, TFTP median %+.1f %%\n", s, (d - b) * 100 / b, (k - t) * 100 / t }'
    done
    local failed
    failed=$(awk -F'\t' '$3 == "tftp" && $4 == "fail"' "$OUT/raw.tsv" | wc -l)
    [ "$failed" = 0 ] || echo "- $failed TFTP downloads failed (see raw.tsv)"
}

{
    echo "# status page cost, run $(date -u +%FT%TZ)"
    echo "checkout $(cd "$REPO" && git log -1 --format='%h %s' | cut -c1-80); NB=$NB${BASE_NB:+; before = $BASE_NB}"
    echo "nproc $(nproc); load at start: $LOAD_START; ROUNDS=$ROUNDS PERIOD=$PERIOD RATE=$RATE CLIENTS=$CLIENTS POLLERS=$POLLERS TFTP_MB=$TFTP_MB TFTP_REPS=$TFTP_REPS"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2
for round in $(seq 1 "$ROUNDS"); do
    for setting in $SETTINGS; do
        log "round $round, $setting"
        cell "$round" "$setting"
    done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
{ cat "$OUT/machine.txt"; echo; table; } | tee "$OUT/table.md"
log "done: $OUT/table.md, $OUT/raw.tsv"
