# A PostgreSQL cluster of a benchmark's own (sourced, not run): initdb in a
# directory the caller names (on a real disk: commits are fsynced), the
# server listening on a Unix socket there only, a superuser `netboot` with a
# password and a database `netboot`. The caller's EXIT trap calls pg_down.
# Needs root (the server runs as the `postgres` user) and lib.sh.
# shellcheck shell=bash

PG_DIR= PG_URL= PG_PW=netboot-bench-pw

pg_bin() { find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1; }

# pg_up DIR: creates and starts the cluster; sets PG_URL.
pg_up() {
    local bin
    bin=$(pg_bin); [ -n "$bin" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
    PG_DIR=$1
    mkdir -p "$PG_DIR"
    printf '%s\n' "$PG_PW" > "$PG_DIR/pw"
    chown -R postgres:postgres "$PG_DIR"
    chmod 711 "$PG_DIR"; chmod 600 "$PG_DIR/pw"
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -U netboot --pwfile="$PG_DIR/pw" \
        -A scram-sha-256 > "$PG_DIR/initdb.log" 2>&1 || die "initdb failed: $PG_DIR/initdb.log"
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories=$PG_DIR" start > /dev/null \
        || die "PostgreSQL did not start: $PG_DIR/server.log"
    PG_URL="postgres://netboot:$PG_PW@/netboot?host=$PG_DIR"
    pg_sql postgres "CREATE DATABASE netboot"
}

# pg_sql DATABASE SQL: runs SQL, prints rows unaligned ("a|b").
pg_sql() { psql "postgres://netboot:$PG_PW@/$1?host=$PG_DIR" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }

# pg_down: stops the cluster (immediate: nothing of it is kept).
pg_down() {
    [ -n "$PG_DIR" ] || return 0
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate stop > /dev/null 2>&1 || true
    PG_DIR=
}

# pg_cpu: CPU ticks of the cluster so far (the postmaster with its reaped
# children, and the live ones: one backend per client connection).
pg_cpu() {
    local pm p total
    pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
    for p in $(ps -o pid= --ppid "$pm"); do
        total=$((total + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
