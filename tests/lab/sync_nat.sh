#!/usr/bin/env bash
# Lab scenario (issue 18): connection sync carries a NAT pair's connections over a failover.
# ulvs-lb (priority 150) and ulvs-vrrp-lb2 (priority 100) each run two VRRP instances in one
# sync group, as vrrp_sync_group.sh: wan (VRID 61, the NAT VIP 203.0.113.101) and lan (VRID 62,
# 198.51.100.250, the real servers' default route, so replies go through whichever node is
# MASTER). ulvs-lb runs `sync: {role: master, interface: lan}`, lb2 `role: backup` (ipvsadm's
# --start-daemon master / backup). Two NAT services on the VIP: 7000 -> :7000, rr, where 20
# interactive TCP sessions run (tests/lab/sync_stream.py), and 80 -> :8080 of the real
# servers' second addresses (198.51.100.21-23), rr with persistence, which three client
# addresses visit once each. The MASTER is killed with SIGKILL.
# Passes when the BACKUP listed the 20 sessions before the kill, both its instances take over,
# every session goes on with no reset and no line lost (requests and the real servers' replies
# are translated by the new MASTER mid-stream), the new MASTER lists them, and each persistent
# client reaches the same real server as before.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
# shellcheck source=tests/lab/sync_common.bash
source "$LAB_DIR/sync_common.bash"
lab_bound 90 "$@"

NS_LB2="$VRRP_NS_LB2"
SOCK2="/run/ulvs/sync-lb2.sock"
LAN_VIP="198.51.100.250"
NAT_VIP="$LAB_VIP_NAT"
LB2_PID=""

# shellcheck disable=SC2317 # called by vrrp_cleanup (vrrp_trap)
stop_all() {
    sync_stop_all
    vrrp_stop_pid "$LB2_PID"
    LB2_PID=""
}
vrrp_trap "$NS_LB2" stop_all

# nat_config OUT PREFIX WANDEV LANDEV WAN LAN SOCKET PRIORITY ROLE
nat_config() {
    cat >"$1" <<EOF2
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$2"]
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "$3", addresses: [$5/25]}
  - {name: lan, device: "$4", addresses: [$6/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
connections: {max: 65536}
sync: {role: $9, interface: lan}
vrrp_instances:
  - name: VI_WAN
    port: wan
    vrid: 61
    priority: $8
    advert_int: 1s
    version: 3
    virtual_addresses: [$NAT_VIP/25]
  - name: VI_LAN
    port: lan
    vrid: 62
    priority: $8
    advert_int: 1s
    version: 3
    virtual_addresses: [$LAN_VIP/24]
vrrp_sync_groups:
  - {name: G_NAT, instances: [VI_WAN, VI_LAN]}
virtual_servers:
  - name: stream
    address: $NAT_VIP
    port: $SYNC_PORT_STREAM
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: 198.51.100.11, port: $SYNC_PORT_STREAM, weight: 1}
      - {address: 198.51.100.12, port: $SYNC_PORT_STREAM, weight: 1}
      - {address: 198.51.100.13, port: $SYNC_PORT_STREAM, weight: 1}
  - name: web
    address: $NAT_VIP
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    persistence: {timeout: 300s}
    real_servers:
      - {address: 198.51.100.21, port: 8080, weight: 1}
      - {address: 198.51.100.22, port: 8080, weight: 1}
      - {address: 198.51.100.23, port: 8080, weight: 1}
management: {socket: $7, metrics: ""}
EOF2
}

lab_up
vrrp_lb2_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR"
sync_client_addrs_up
sync_servers_up || exit 1
i=1
for rs in "${LAB_SERVERS[@]}"; do
    ip -n "ulvs-$rs" route replace default via "$LAN_VIP"
    # The persistent service's second address of each real server (a NAT real server's
    # address may be in one persistence granularity only: its replies must find their worker).
    ip -n "ulvs-$rs" addr add "198.51.100.2$i/24" dev eth0
    i=$((i + 1))
done
LAB_CONFIG="$LAB_RUN_DIR/sync-nat-1.yaml"
nat_config "$LAB_CONFIG" sync-nat1 "net_af_packet0,iface=lbwan" "net_af_packet1,iface=lblan" \
    203.0.113.10 198.51.100.1 "$LAB_SOCKET" 150 master
nat_config "$LAB_RUN_DIR/sync-nat-2.yaml" sync-nat2 "net_af_packet0,iface=lb2wan" \
    "net_af_packet1,iface=lb2lan" 203.0.113.11 198.51.100.2 "$SOCK2" 100 backup
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-sync_nat-1.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 80 ip netns exec "$NS_LB2" "$ULVSD_BIN" \
    -c "$LAB_RUN_DIR/sync-nat-2.yaml" </dev/null >"$LAB_LOG_DIR/ulvsd-sync_nat-2.log" 2>&1 9>&- &
LB2_PID=$!
wait_states "$LAB_SOCKET" "MASTER MASTER" 20 ||
    { fail "ulvsd 1 is '$(states "$LAB_SOCKET")', expected MASTER MASTER"; exit 1; }
wait_states "$SOCK2" "BACKUP BACKUP" 3 || fail "ulvsd 2 is '$(states "$SOCK2")', expected BACKUP BACKUP"
sleep 1 # the router and the real servers learnt the masters' MACs (gratuitous ARPs)

sync_clients_start "$NAT_VIP"
sync_wait_echoed 10 10 || fail "the sessions did not run through the MASTER: $(sync_sessions)"
read -r _ _ servers < <(sync_sessions)
lab_log "20 sessions running, on $servers"
sync_persist_before "$NAT_VIP"
sleep 1.5 # a sync datagram leaves at least once a second
n2="$(sync_conns "$SOCK2" "$NAT_VIP" "$SYNC_PORT_STREAM" ESTABLISHED)"
lab_log "the BACKUP lists $n2 ESTABLISHED connections to $NAT_VIP:$SYNC_PORT_STREAM"
((n2 == SYNC_SESSIONS)) || fail "the BACKUP learnt $n2 of $SYNC_SESSIONS sessions"

read -r at_kill _ _ < <(sync_sessions)
master="$(ulvsd_child_pid "$ULVSD_PID")"
lab_log "killing the MASTER ulvsd (pid $master) with SIGKILL; sessions at $at_kill lines"
kill -KILL "$master"
wait_states "$SOCK2" "MASTER MASTER" 6 ||
    fail "ulvsd 2 is '$(states "$SOCK2")' after the kill, expected MASTER MASTER"
lab_log "ulvsd 2 is MASTER on wan and lan"
# TCP retransmits the lines the dead MASTER swallowed (backoff: up to ~6 s after the kill).
want=$((at_kill + 40))
if sync_wait_echoed "$want" 20; then
    lab_log "every session echoed $want lines or more: they went on through the new MASTER"
else
    fail "sessions did not go on after the takeover: $(sync_sessions) (min echoed, errors, servers)"
fi
n2="$(sync_conns "$SOCK2" "$NAT_VIP" "$SYNC_PORT_STREAM" ESTABLISHED)"
((n2 == SYNC_SESSIONS)) || fail "the new MASTER lists $n2 of $SYNC_SESSIONS sessions"
timeout 5 "$ULVSADM_BIN" --socket "$SOCK2" -Lnc | head -n 8 || true
sync_persist_after "$NAT_VIP"
sync_clients_finish || fail "a session was reset, closed, or lost lines"
timeout 5 "$ULVSADM_BIN" --socket "$SOCK2" -Ln --stats || true

ulvsd_stop >/dev/null 2>&1 || true
if ((ok)); then
    lab_log "sync_nat: PASS"
    exit 0
fi
tail -n 20 "$LAB_LOG_DIR/ulvsd-sync_nat-2.log" >&2
lab_log "sync_nat: FAIL"
exit 1
