#!/usr/bin/env bash
# HTTP download speed: `netboot http` against nginx (Debian nginx-light,
# sendfile on) and `python3 -m http.server`, all on 127.0.0.1, and the Debian
# installer's kernel and initrd over netboot's HTTP against netboot's TFTP
# at windowsize 4 (what EDK2 asks).
#
#   bash tests/bench/http_bench.sh            # ROUNDS=3
#   ROUNDS=1 BIG_MIB=256 bash tests/bench/http_bench.sh   # a quick look
#
# Not run by `cargo test` or CI. Installs nginx-light when missing (apt).
# Every process started here is killed by PID on exit, even on failure;
# every client is bounded by `timeout`. Rounds are interleaved (each round
# asks every server once, the order rotating), since this VM has slow and
# fast phases.
#
# Cells: one client fetching a BIG_MIB file (curl); CLIENTS clients at once
# fetching a SMALL_MIB file each (curl, one process each): aggregate MiB/s
# and the server's memory per connection (peak RSS during the run minus RSS
# at rest, over CLIENTS). Output: tables on stdout and in $OUT/http-tables.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
BIG_MIB=${BIG_MIB:-1024}
SMALL_MIB=${SMALL_MIB:-64}
CLIENTS=${CLIENTS:-100}
OUT=${OUT:-$REPO/target/bench}
PORT0=${PORT0:-$((30000 + $$ % 20000))}
P_NB=$PORT0 P_NGINX=$((PORT0 + 1)) P_PY=$((PORT0 + 2)) P_TFTP=$((PORT0 + 3))
SHM=/dev/shm; [ -d "$SHM" ] || SHM=/tmp
WORK=$(mktemp -d "$SHM/nbhttp.XXXXXX")
ROOT=$WORK/root
INSTALLER=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
START=$(date +%s)
log() { printf '[%4ss] %s\n' $(($(date +%s) - START)) "$*" >&2; }

declare -A PIDS
cleanup() {
    local name
    for name in "${!PIDS[@]}"; do
        kill "${PIDS[$name]}" 2>/dev/null || true
        wait "${PIDS[$name]}" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v nginx >/dev/null; then
    log "installing nginx-light"
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi

log "building netboot and the TFTP bench client (release)"
(cd "$REPO" && cargo build -q --release --bin netboot --example tftp_bench_client)
NETBOOT=$REPO/target/release/netboot
TFTP_CLIENT=$REPO/target/release/examples/tftp_bench_client

mkdir -p "$ROOT" "$OUT"
head -c $((BIG_MIB << 20)) /dev/urandom > "$ROOT/big.bin"
head -c $((SMALL_MIB << 20)) /dev/urandom > "$ROOT/small.bin"
if [ -d "$INSTALLER" ]; then
    cp "$INSTALLER/linux" "$INSTALLER/initrd.gz" "$ROOT/"
fi
chmod -R a+rX "$WORK"

cat > "$WORK/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    server { listen 127.0.0.1:$P_NGINX; root $ROOT; }
}
EOF

start() {   # name command...
    local name=$1; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
}
start netboot "$NETBOOT" http --address "127.0.0.1:$P_NB" "$ROOT"
start nginx nginx -g 'daemon off;' -c "$WORK/nginx.conf"
start python sh -c "cd '$ROOT' && exec python3 -m http.server --bind 127.0.0.1 $P_PY"
start tftp "$NETBOOT" tftp --address "127.0.0.1:$P_TFTP" "$ROOT"
sleep 2
declare -A PORT=([netboot]=$P_NB [nginx]=$P_NGINX [python]=$P_PY)
SERVERS=(netboot nginx python)

rss_kib() {   # total RSS of a PID and its children (nginx workers)
    local pid=$1 total=0 p
    for p in $pid $(pgrep -P "$pid" || true); do
        total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo $total
}

one_big() {   # server → MiB/s
    local url="http://127.0.0.1:${PORT[$1]}/big.bin"
    timeout 300 curl -s -o /dev/null -w '%{speed_download}' "$url" |
        awk '{printf "%.0f", $1 / 1048576}'
}

many_small() {   # server → "MiB/s KiB-per-connection"
    local name=$1 url="http://127.0.0.1:${PORT[$1]}/small.bin" pid=${PIDS[$1]}
    local rest peak=0 now t0 t1
    rest=$(rss_kib "$pid")
    t0=$(date +%s.%N)
    seq "$CLIENTS" | xargs -P "$CLIENTS" -I{} timeout 300 curl -s -o /dev/null "$url" &
    local xargs_pid=$!
    while kill -0 "$xargs_pid" 2>/dev/null; do
        now=$(rss_kib "$pid"); [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.05
    done
    wait "$xargs_pid" || true
    t1=$(date +%s.%N)
    awk -v n="$CLIENTS" -v mib="$SMALL_MIB" -v t0="$t0" -v t1="$t1" -v rest="$rest" -v peak="$peak" \
        'BEGIN {printf "%.0f %.0f", n * mib / (t1 - t0), (peak - rest) / n}'
}

declare -A BIG MANY MEM
for round in $(seq "$ROUNDS"); do
    order=("${SERVERS[@]:$(( (round - 1) % 3 ))}" "${SERVERS[@]:0:$(( (round - 1) % 3 ))}")
    for s in "${order[@]}"; do
        b=$(one_big "$s"); BIG[$s]+="$b "
        read -r m kib <<<"$(many_small "$s")"; MANY[$s]+="$m "; MEM[$s]+="$kib "
        log "round $round $s: 1 x ${BIG_MIB} MiB $b MiB/s; $CLIENTS x ${SMALL_MIB} MiB $m MiB/s, ${kib} KiB/connection"
    done
done

# The installer over HTTP (curl) and over TFTP at windowsize 4.
INST=""
if [ -f "$ROOT/linux" ]; then
    for round in $(seq "$ROUNDS"); do
        for f in linux initrd.gz; do
            h=$(timeout 120 curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$P_NB/$f")
            t=$( { timeout 120 "$TFTP_CLIENT" --server "127.0.0.1:$P_TFTP" --file "$f" \
                   --expect "$ROOT/$f" --blksize 1468 --windowsize 4 || true; } |
                 sed -n 's/.*secs=\([0-9.]*\).*/\1/p')
            INST+="| $round | $f | ${h} s | ${t:-failed} s |"$'\n'
            log "installer round $round $f: HTTP $h s, TFTP windowsize 4 ${t:-failed} s"
        done
    done
fi

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
{
    echo "Run of $(date -u +%F) at commit $(git -C "$REPO" rev-parse --short HEAD): \`ROUNDS=$ROUNDS BIG_MIB=$BIG_MIB SMALL_MIB=$SMALL_MIB CLIENTS=$CLIENTS bash tests/bench/http_bench.sh\`"
    echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
    echo
    echo "| server | 1 client, ${BIG_MIB} MiB: MiB/s (median; runs) | ${CLIENTS} clients x ${SMALL_MIB} MiB: MiB/s in all (median; runs) | memory per connection, KiB (median) |"
    echo "|---|---|---|---|"
    for s in "${SERVERS[@]}"; do
        echo "| $s | $(echo "${BIG[$s]}" | median); ${BIG[$s]% } | $(echo "${MANY[$s]}" | median); ${MANY[$s]% } | $(echo "${MEM[$s]}" | median) |"
    done
    if [ -n "$INST" ]; then
        echo
        echo "Debian installer (12) kernel and initrd, from netboot: HTTP (curl) against TFTP at blksize 1468, windowsize 4 (tftp_bench_client):"
        echo
        echo "| round | file | HTTP | TFTP windowsize 4 |"
        echo "|---|---|---|---|"
        printf '%s' "$INST"
    fi
} | tee "$OUT/http-tables.md"
