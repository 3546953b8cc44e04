#!/usr/bin/env bash
# Lab scenario (issue 18): connection sync carries a DR pair's connections over a failover.
# ulvs-lb (priority 150) and ulvs-vrrp-lb2 (priority 100) are a VRRP pair for the DR VIP
# 203.0.113.100 (as vrrp_pair.sh) and both run `sync: {role: both, interface: wan}` (IPVS sync
# protocol v1 to 224.0.0.81:8848). Two services on the VIP: 7000, rr, where 20 interactive TCP
# sessions (tests/lab/sync_stream.py: a numbered line every 100 ms, echoed back) run, and 80,
# rr with persistence, which three client addresses visit once each. The MASTER is then killed
# with SIGKILL. Passes when the BACKUP listed the 20 sessions as ESTABLISHED before the kill
# (it learnt them), takes over, lists them again as MASTER, every session goes on with no
# reset and no line lost (each echoes more lines after the takeover, all in order), and each
# persistent client reaches the same real server as before.
# Without sync the new MASTER drops the sessions' mid-stream packets (no_conn) and they stall.
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
LB2_PID=""

# shellcheck disable=SC2317 # called by vrrp_cleanup (vrrp_trap)
stop_all() {
    sync_stop_all
    vrrp_stop_pid "$LB2_PID"
    LB2_PID=""
}
vrrp_trap "$NS_LB2" stop_all

# dr_config OUT PREFIX WANDEV LANDEV WAN LAN SOCKET PRIORITY
dr_config() {
    cat >"$1" <<EOF2
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$2"]
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "$3", addresses: [$5/25]}
  - {name: lan, device: "$4", addresses: [$6/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
connections: {max: 65536}
sync: {role: both, interface: wan}
vrrp_instances:
  - name: VI_1
    port: wan
    vrid: $VRRP_VRID
    priority: $8
    advert_int: 1s
    version: 3
    virtual_addresses: [$VRRP_VIP/$VRRP_PREFIX_LEN]
virtual_servers:
  - name: stream
    address: $VRRP_VIP
    port: $SYNC_PORT_STREAM
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: $SYNC_PORT_STREAM, weight: 1}
      - {address: 198.51.100.12, port: $SYNC_PORT_STREAM, weight: 1}
      - {address: 198.51.100.13, port: $SYNC_PORT_STREAM, weight: 1}
  - name: web
    address: $VRRP_VIP
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    persistence: {timeout: 300s}
    real_servers:
      - {address: 198.51.100.11, port: 80, weight: 1}
      - {address: 198.51.100.12, port: 80, weight: 1}
      - {address: 198.51.100.13, port: 80, weight: 1}
management: {socket: $7, metrics: ""}
EOF2
}

lab_up
vrrp_lb2_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR"
sync_client_addrs_up
sync_servers_up || exit 1
LAB_CONFIG="$LAB_RUN_DIR/sync-dr-1.yaml"
dr_config "$LAB_CONFIG" sync-dr1 "net_af_packet0,iface=lbwan" "net_af_packet1,iface=lblan" \
    203.0.113.10 198.51.100.1 "$LAB_SOCKET" 150
dr_config "$LAB_RUN_DIR/sync-dr-2.yaml" sync-dr2 "net_af_packet0,iface=lb2wan" \
    "net_af_packet1,iface=lb2lan" 203.0.113.11 198.51.100.2 "$SOCK2" 100
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-sync_dr-1.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 80 ip netns exec "$NS_LB2" "$ULVSD_BIN" \
    -c "$LAB_RUN_DIR/sync-dr-2.yaml" </dev/null >"$LAB_LOG_DIR/ulvsd-sync_dr-2.log" 2>&1 9>&- &
LB2_PID=$!
vrrp_wait_socket "$LAB_SOCKET" || { fail "ulvsd 1 did not come up"; exit 1; }
vrrp_wait_socket "$SOCK2" || { fail "ulvsd 2 did not come up"; exit 1; }
vrrp_wait_state "$LAB_SOCKET" MASTER 8 || fail "ulvsd 1 (priority 150) did not become MASTER"
vrrp_wait_state "$SOCK2" BACKUP 2 || fail "ulvsd 2 (priority 100) is not BACKUP"
sleep 1 # the router learnt the master's MAC for the VIP; both resolved the real servers

sync_clients_start "$VRRP_VIP"
sync_wait_echoed 10 10 || fail "the sessions did not run through the MASTER: $(sync_sessions)"
read -r _ _ servers < <(sync_sessions)
lab_log "20 sessions running, on $servers"
sync_persist_before "$VRRP_VIP"
sleep 1.5 # a sync datagram leaves at least once a second
n2="$(sync_conns "$SOCK2" "$VRRP_VIP" "$SYNC_PORT_STREAM" ESTABLISHED)"
lab_log "the BACKUP lists $n2 ESTABLISHED connections to $VRRP_VIP:$SYNC_PORT_STREAM"
((n2 == SYNC_SESSIONS)) || fail "the BACKUP learnt $n2 of $SYNC_SESSIONS sessions"

read -r at_kill _ _ < <(sync_sessions)
master="$(ulvsd_child_pid "$ULVSD_PID")"
lab_log "killing the MASTER ulvsd (pid $master) with SIGKILL; sessions at $at_kill lines"
kill -KILL "$master"
vrrp_wait_state "$SOCK2" MASTER 6 || fail "ulvsd 2 did not take over"
lab_log "ulvsd 2 is MASTER"
# TCP retransmits the lines the dead MASTER swallowed (backoff: up to ~6 s after the kill).
want=$((at_kill + 40))
if sync_wait_echoed "$want" 20; then
    lab_log "every session echoed $want lines or more: they went on through the new MASTER"
else
    fail "sessions did not go on after the takeover: $(sync_sessions) (min echoed, errors, servers)"
fi
n2="$(sync_conns "$SOCK2" "$VRRP_VIP" "$SYNC_PORT_STREAM" ESTABLISHED)"
((n2 == SYNC_SESSIONS)) || fail "the new MASTER lists $n2 of $SYNC_SESSIONS sessions"
timeout 5 "$ULVSADM_BIN" --socket "$SOCK2" -Lnc | head -n 8 || true
sync_persist_after "$VRRP_VIP"
sync_clients_finish || fail "a session was reset, closed, or lost lines"
timeout 5 "$ULVSADM_BIN" --socket "$SOCK2" -Ln --stats || true

ulvsd_stop >/dev/null 2>&1 || true
if ((ok)); then
    lab_log "sync_dr: PASS"
    exit 0
fi
tail -n 20 "$LAB_LOG_DIR/ulvsd-sync_dr-2.log" >&2
lab_log "sync_dr: FAIL"
exit 1
