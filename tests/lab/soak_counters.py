#!/usr/bin/python3
"""Reads ulvsd's /metrics on stdin and prints the sums scripts/soak checks, one `name value` a line:
rx_pkts, forwarded, to_control, drops (every reason), tx_full, entries (connection table, all
workers), conns (ActiveConn + InActConn over every real server row), mbufs_in_use, frags_merged
(fragments ended inside a reassembled datagram)."""

import re
import sys

sums = {k: 0 for k in ("rx_pkts", "forwarded", "to_control", "drops", "tx_full", "entries",
                       "conns", "mbufs_in_use", "frags_merged")}
names = {
    "ulvs_worker_rx_packets_total": "rx_pkts",
    "ulvs_worker_forwarded_packets_total": "forwarded",
    "ulvs_worker_to_control_packets_total": "to_control",
    "ulvs_worker_drops_total": "drops",
    "ulvs_worker_connection_table_entries": "entries",
    "ulvs_real_server_active_connections": "conns",
    "ulvs_real_server_inactive_connections": "conns",
    "ulvs_mbufs_in_use": "mbufs_in_use",
    "ulvs_worker_fragments_merged_total": "frags_merged",
}
line_re = re.compile(r'^([a-z_]+)(\{[^}]*\})?\s+(-?\d+)$')
for line in sys.stdin:
    m = line_re.match(line.strip())
    if not m:
        continue
    name, labels, value = m.group(1), m.group(2) or "", int(m.group(3))
    if name in names:
        sums[names[name]] += value
    if name == "ulvs_worker_drops_total" and 'reason="tx_full"' in labels:
        sums["tx_full"] += value
for k, v in sums.items():
    print(k, v)
