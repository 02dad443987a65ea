#!/usr/bin/env python3
"""Helpers for tests/bench/dhcp_bench.sh (the DHCP benchmark).

Subcommands:
  macs N FILE                  N client MACs 00:0c:01:xx:xx:xx, one a line
  seed-netboot N EXPIRY DIR    N bound leases (MAC i -> 10.77.1.1 + i) as a
                               netboot snapshot (CRC-32 + JSON lines)
  seed-dnsmasq N EXPIRY FILE   the same leases as a dnsmasq lease file
  leases-netboot DIR AFTER     "total renewed": leases in the store, and
                               those whose expiry is later than AFTER
  leases-dnsmasq FILE AFTER    the same for a dnsmasq lease file
  perfdhcp FILE                key=value pairs from perfdhcp's report
  order SERVER STRACE [EXCERPT] checks in an `strace -f -ttt -T -xx` log
                               that every ACK left after a write of its
                               lease (with the ACK's expiry) and a completed
                               fsync/fdatasync of that file
  table RAW...                 markdown tables from raw.tsv files (a cell in
                               a later file replaces the same cell before)
"""

import json
import re
import statistics
import sys
import zlib
from collections import defaultdict


def mac(i):
    return "00:0c:01:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def ip(i):
    n = (10 << 24) + (77 << 16) + (1 << 8) + 1 + i
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def cmd_macs(n, path):
    with open(path, "w") as f:
        for i in range(int(n)):
            f.write(mac(i) + "\n")


def cmd_seed_netboot(n, expiry, directory):
    with open(directory + "/leases.snapshot", "w") as f:
        for i in range(int(n)):
            rec = {"ip": ip(i), "mac": mac(i), "expires": int(expiry), "state": "bound"}
            text = json.dumps(rec, separators=(",", ":"))
            f.write("%08x %s\n" % (zlib.crc32(text.encode()), text))


def cmd_seed_dnsmasq(n, expiry, path):
    with open(path, "w") as f:
        for i in range(int(n)):
            f.write("%d %s %s * *\n" % (int(expiry), mac(i), ip(i)))


def report(leases, after):
    renewed = sum(1 for e in leases.values() if e > after)
    print(len(leases), renewed)


def cmd_leases_netboot(directory, after):
    leases = {}
    for name in ("leases.snapshot", "leases.journal"):
        try:
            lines = open(directory + "/" + name).read().split("\n")[:-1]
        except FileNotFoundError:
            continue
        for line in lines:
            crc, _, text = line.partition(" ")
            if int(crc, 16) != zlib.crc32(text.encode()):
                continue
            rec = json.loads(text)
            if rec["state"] == "bound":
                leases[rec["ip"]] = rec["expires"]
            else:
                leases.pop(rec["ip"], None)
    report(leases, int(after))


def cmd_leases_dnsmasq(path, after):
    leases = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            leases[parts[2]] = int(parts[0])
    report(leases, int(after))


def cmd_perfdhcp(path):
    """sent/received/drops/avg delay of DISCOVER-OFFER (do_) and REQUEST-ACK (ra_)."""
    out, prefix = {}, None
    for line in open(path, errors="replace"):
        if "Statistics for: DISCOVER-OFFER" in line:
            prefix = "do_"
        elif "Statistics for: REQUEST-ACK" in line:
            prefix = "ra_"
        elif prefix:
            m = re.match(r"(sent packets|received packets|drops|orphans|avg delay): ([0-9.]+)", line)
            if m:
                out[prefix + m.group(1).split()[0]] = m.group(2)
    for k in ("do_sent", "do_received", "do_drops", "do_orphans", "do_avg", "ra_sent", "ra_received", "ra_drops",
              "ra_orphans", "ra_avg"):
        print("%s=%s" % (k, out.get(k, "0")))


STRACE = re.compile(r'^(\d+)\s+([\d.]+) (write|sendto|sendmsg)\((\d+), (?:.*?iov_base=)?"((?:\\x[0-9a-f]{2})*)"')
UNFINISHED = re.compile(r'^(\d+)\s+[\d.]+ (?:fdatasync|fsync)\((\d+) <unfinished')
DONE = re.compile(r'^(\d+)\s+([\d.]+) (?:<\.\.\. )?(fdatasync|fsync)(?: resumed>|\((\d+)).*<([\d.]+)>$')
# a lease as each server writes it: (ip, expiry)
NETBOOT_REC = re.compile(rb'"ip":"(10\.77\.\d+\.\d+)","mac":"[^"]*","expires":(\d+)')
DNSMASQ_REC = re.compile(rb'(\d+) [0-9a-f:]+ (10\.77\.\d+\.\d+) ')


def cmd_order(server, path, excerpt=None):
    """In an `strace -f -ttt -T -xx` log: for each ACK sent, was its address
    written to a file with the ACK's expiry (ACK time + option 51, 2 s
    slack), and that file synced (the sync *returned*), before the send
    started? EXCERPT gets a decoded stretch of the trace."""
    events = []
    written = {}  # ip -> (time, fd, expiry) of the latest write naming it
    synced = defaultdict(float)  # fd -> end time of the latest completed sync
    pending = {}  # tid -> fd of an unfinished sync
    unsynced = defaultdict(bytes)  # fd -> bytes written since its last sync
    acks = ok = 0
    bad = []
    for line in open(path, errors="replace"):
        m = STRACE.match(line)
        if m:
            tid, t, call, fd = m.group(1), float(m.group(2)), m.group(3), int(m.group(4))
            data = bytes(int(x, 16) for x in m.group(5).split("\\x")[1:])
            if call == "write" and fd > 2:  # not the log on stdout/stderr
                # everything written to fd since its last sync (dnsmasq writes
                # its file in 4 KiB pieces that split lines)
                unsynced[fd] += data
                recs = NETBOOT_REC.findall(unsynced[fd]) if server.startswith("netboot") else \
                    [(a, e) for e, a in DNSMASQ_REC.findall(unsynced[fd])]
                for a, e in recs:
                    written[a.decode()] = (t, fd, int(e))
                events.append("%.6f %s write(fd %d, %d bytes, %d leases)" % (t, tid, fd, len(data), len(recs)))
            elif call in ("sendto", "sendmsg") and len(data) > 243 and data[236:240] == b"\x63\x82\x53\x63":
                kind, lease_time = dhcp_type(data)
                yi = "%d.%d.%d.%d" % tuple(data[16:20])
                events.append("%.6f %s %s(fd %d) %s %s" % (t, tid, call, fd, kind, yi))
                if kind == "ACK":
                    acks += 1
                    w = written.get(yi)
                    if w and w[2] >= t + (lease_time or 0) - 2 and w[0] <= synced[w[1]] <= t:
                        ok += 1
                    elif len(bad) < 3:
                        bad.append("%s at %.6f (write %s, last sync end %s)" % (yi, t, w, synced[w[1]] if w else None))
            continue
        u = UNFINISHED.match(line)
        if u:
            pending[u.group(1)] = int(u.group(2))
            continue
        d = DONE.match(line)
        if d:
            tid, t = d.group(1), float(d.group(2))
            fd = int(d.group(4)) if d.group(4) else pending.pop(tid, -1)
            end = t + float(d.group(5)) if d.group(4) else t
            synced[fd] = max(synced[fd], end)
            unsynced[fd] = b""
            events.append("%.6f %s %s(fd %d) returned after %.3f ms" % (end, tid, d.group(3), fd, 1000 * float(d.group(5))))
    print("%s: %d ACKs traced, %d after their lease (with the ACK's expiry) was written and synced%s" % (
        server, acks, ok, ("; first exceptions: " + "; ".join(bad)) if bad else ""))
    if excerpt:
        mid = len(events) // 2
        with open(excerpt, "w") as f:
            f.write("\n".join(events[mid:mid + 24]) + "\n")


def dhcp_type(data):
    """(message type name, lease time option 51 or None) of a BOOTP payload."""
    kind, lease = None, None
    i = 240
    while i + 1 < len(data):
        code = data[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        val = data[i + 2:i + 2 + data[i + 1]]
        if code == 53 and val:
            kind = {2: "OFFER", 5: "ACK", 6: "NAK"}.get(val[0], str(val[0]))
        elif code == 51 and len(val) == 4:
            lease = int.from_bytes(val, "big")
        i += 2 + data[i + 1]
    return kind, lease


def cmd_table(*paths):
    """Markdown tables; a cell measured again in a later file replaces the
    earlier one (a rerun of disturbed cells)."""
    cells, col = {}, None
    for path in paths:
        rows = [l.rstrip("\n").split("\t") for l in open(path)]
        col = {n: i for i, n in enumerate(rows[0])}
        fresh = defaultdict(list)
        for r in rows[1:]:
            fresh[(r[col["part"]], r[col["server"]], r[col["clients"]], r[col["rate"]], r[col["ping"]])].append(r)
        cells.update(fresh)

    def med(rs, name):
        return statistics.median(float(r[col[name]]) for r in rs)

    def xps(rs):
        x = [float(r[col["xps"]]) for r in rs]
        return "**%.0f** (%.0f-%.0f)" % (statistics.median(x), min(x), max(x))

    def per_exchange(rs):
        acks, syncs = med(rs, "ra_received"), med(rs, "syncs")
        period = float(rs[0][col["period"]])
        return {"cpu": med(rs, "cpu_us") / acks if acks else 0, "syncs": syncs / period,
                "group": acks / syncs if syncs else 0, "ack_ms": med(rs, "ra_avg")}

    side = sorted({(k[2], k[3]) for k in cells if k[0] == "table"}, key=lambda k: (int(k[0]), int(k[1])))
    if side:
        print("\n### netboot and dnsmasq side by side (seeded leases, --no-ping), median (min-max) of runs\n")
        print("| clients | rate asked | netboot exchanges/s | dnsmasq exchanges/s | ACK latency ms (n / d) "
              "| fsyncs/s (n / d) | ACKs per fsync (n / d) | server CPU µs/exchange (n / d) |")
        print("|---|---|---|---|---|---|---|---|")
        for n, rate in side:
            nb, dm = cells.get(("table", "netboot", n, rate, "0")), cells.get(("table", "dnsmasq", n, rate, "0"))
            if not nb or not dm:
                continue
            a, b = per_exchange(nb), per_exchange(dm)
            print("| %s | %s | %s | %s | %.1f / %.1f | %.0f / %.0f | %.1f / %.1f | %.0f / %.0f |" % (
                n, rate, xps(nb), xps(dm), a["ack_ms"], b["ack_ms"], a["syncs"], b["syncs"],
                a["group"], b["group"], a["cpu"], b["cpu"]))

    for part, title in (("table", "seeded leases, --no-ping"), ("probe", "fresh state, probe on/off"),
                        ("pg", "embedded journal vs PostgreSQL, one and two instances, seeded, --no-ping"),
                        ("newclient", "new clients as a new user tries it: fresh state, probe on, no receive-buffer shim"),
                        ("logging", "netboot with info logging (default) and RUST_LOG=warn, seeded, --no-ping")):
        keys = sorted({k for k in cells if k[0] == part}, key=lambda k: (k[1], int(k[2]), int(k[3]), k[4]))
        if not keys:
            continue
        print("\n### %s: completed DISCOVER-to-ACK exchanges/s, median (min-max) of runs\n" % title)
        print("| server | clients | rate asked | ping | exchanges/s | incomplete % | offer ms | ACK ms "
              "| server CPU µs/exchange | database CPU µs/exchange | fsyncs/s | ACKs per fsync | srv RcvbufErr | cli RcvbufErr | leases on disk (renewed) "
              "| neighbour entries (max) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for k in keys:
            rs = cells[k]
            acks, sent = med(rs, "ra_received"), med(rs, "do_sent")
            e = per_exchange(rs)
            # older raw.tsv files have no neigh_max column
            neigh = [float(r[col["neigh_max"]]) for r in rs if "neigh_max" in col and len(r) > col["neigh_max"]]
            db = med(rs, "db_cpu_us") / acks if "db_cpu_us" in col and acks else 0
            print("| %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %.0f | %s | %.0f | %.1f | %.0f | %.0f | %s | %s |" % (
                k[1], k[2], k[3], k[4], xps(rs), 100.0 * (1 - acks / sent) if sent else 0,
                med(rs, "do_avg"), e["ack_ms"], e["cpu"], "%.0f" % db if db else "-", e["syncs"], e["group"],
                med(rs, "srv_rcvbuf"), med(rs, "cli_rcvbuf"), "%d (%d)" % (med(rs, "leases"), med(rs, "renewed")),
                "%.0f" % max(neigh) if neigh else "-"))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "macs": cmd_macs,
        "seed-netboot": cmd_seed_netboot,
        "seed-dnsmasq": cmd_seed_dnsmasq,
        "leases-netboot": cmd_leases_netboot,
        "leases-dnsmasq": cmd_leases_dnsmasq,
        "perfdhcp": cmd_perfdhcp,
        "order": cmd_order,
        "table": cmd_table,
    }[cmd](*args)


if __name__ == "__main__":
    main()
