#!/usr/bin/env bash
# Lab scenario: IPIP tunnelling. The client sends HTTP requests to the TUN VIP 203.0.113.102;
# ulvsd (rr, TUN) encapsulates them to rs1..rs3, where tests/lab/tun_decap.py strips the outer
# header and hands the inner packet to the kernel through the tun device ipipd0; the real
# servers answer from the VIP straight back through the router. Passes when all requests are
# answered by the real servers equally often in round-robin order, every real server's ipipd0
# received packets (so they came through the tunnel, not by MAC rewrite), and ulvsd stops
# cleanly on SIGTERM.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 120 "$@"
lab_trap

REQUESTS=9

# Packets the kernel received through the decapsulator's tun device in a real server.
decap_rx() {
    timeout 5 ip -n "ulvs-$1" -s -j link show ipipd0 |
        /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

lab_up
ulvsd_start
ulvsd_wait_ready

ok=1
declare -A before
for name in "${LAB_SERVERS[@]}"; do
    before[$name]="$(decap_rx "$name")"
done
lab_rr_requests "http://$LAB_VIP_TUN/" "$REQUESTS" "${LAB_SERVERS[@]}" || ok=0
for name in "${LAB_SERVERS[@]}"; do
    got=$(($(decap_rx "$name") - before[$name]))
    lab_log "$name: $got packets decapsulated"
    want=$((REQUESTS / ${#LAB_SERVERS[@]}))
    if ((got < want)); then
        lab_err "$name received $got packets through the tunnel, expected at least $want"
        ok=0
    fi
done

lab_show_stats
ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0

if ((ok)); then
    lab_log "tun: PASS (${LAB_ANSWERS[*]})"
    exit 0
fi
ulvsd_log_tail
lab_log "tun: FAIL"
exit 1
