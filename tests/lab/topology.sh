#!/usr/bin/env bash
# Lab scenario without ulvsd: the lab's kernel side is right. For every real server: the HTTP
# name servers answer on :80 and :8080 (asked from the router, on-link), the main default route
# goes via the appliance's lan address (NAT), traffic from the DR and TUN VIPs is policy-routed
# via the router, and an IPIP-encapsulated echo to the TUN VIP (sent from the router as the
# appliance would) is decapsulated by tests/lab/tun_decap.py and answered back through the
# router to the client. Passes only when all of it holds.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 90 "$@"
lab_trap

RS_ADDRS=(198.51.100.11 198.51.100.12 198.51.100.13)

# next_hop NS FROM: the gateway the real server in NS uses for FROM -> the client.
next_hop() {
    timeout 5 ip -n "$1" route get 203.0.113.130 from "$2" |
        awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }'
}

lab_up

ok=1
for i in "${!LAB_SERVERS[@]}"; do
    name="${LAB_SERVERS[$i]}"
    addr="${RS_ADDRS[$i]}"
    for port in 80 8080; do
        body="$(timeout 5 ip netns exec ulvs-router \
            curl -sS --max-time 3 "http://$addr:$port/" 2>&1)" || body="FAILED($body)"
        if [[ "$body" != "$name" ]]; then
            lab_err "$addr:$port answered '$body', expected '$name'"
            ok=0
        fi
    done
    via="$(next_hop "ulvs-$name" "$addr")"
    if [[ "$via" != 198.51.100.1 ]]; then
        lab_err "$name: traffic from $addr to the client goes via '$via', expected 198.51.100.1"
        ok=0
    fi
    for vip in "$LAB_VIP" "$LAB_VIP_TUN"; do
        via="$(next_hop "ulvs-$name" "$vip")"
        if [[ "$via" != 198.51.100.254 ]]; then
            lab_err "$name: from $vip to the client via '$via', expected 198.51.100.254"
            ok=0
        fi
    done
done
timeout 30 ip netns exec ulvs-router \
    /usr/bin/python3 "$LAB_DIR/ipip_probe.py" "${RS_ADDRS[@]}" || ok=0

if ((ok)); then
    lab_log "topology: PASS"
    exit 0
fi
lab_log "topology: FAIL"
exit 1
