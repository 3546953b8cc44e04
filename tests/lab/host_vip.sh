#!/usr/bin/env bash
# Lab scenario: the host's view of the VIPs (issue 15, acceptance 4), on vrrp_pair.sh's topology:
# ulvs-lb (priority 150) and ulvs-vrrp-lb2 (priority 100) both serve the DR VIP 203.0.113.100:80,
# the VRRP virtual address (/25), and allow tcp/8000 on wan to the kernel (exception_path).
# In each node's namespace a local HTTP server (python3 -m http.server) is bound to VIP:8000
# (net.ipv4.ip_nonlocal_bind=1: the BACKUP's server binds before its node owns the VIP) and
# answers with its node's name. Passes when:
#   1. on the MASTER `ip addr show ulvs-wan` shows the VIP with its prefix, on the BACKUP (whose
#      ulvs-wan exists: VRRP addresses open the TAP) it does not;
#   2. a client gets the MASTER's page through VIP:8000 (no virtual server uses :8000) while the
#      virtual server VIP:80 keeps working, and VIP:9000 (not allowed) is not answered;
#   3. after the MASTER is killed (SIGKILL, by pid) the other node shows the VIP on its ulvs-wan,
#      its own server answers through VIP:8000, and VIP:80 works through it;
#   4. the first node, started again, preempts: the VIP leaves the second node's ulvs-wan (its
#      ulvsd still running, BACKUP again) and the first node's server answers again.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
lab_bound 60 "$@"

NS_LB2="$VRRP_NS_LB2"
SOCK2="/run/ulvs/lab2.sock"
LOCAL_PORT=8000
LB2_PID=""
HTTP_PIDS=()

# shellcheck disable=SC2317 # called by vrrp_cleanup (vrrp_trap)
host_vip_stop() {
    local pid
    for pid in "${HTTP_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    HTTP_PIDS=()
    vrrp_stop_pid "$LB2_PID"
    LB2_PID=""
}
vrrp_trap "$NS_LB2" host_vip_stop

# vip_on_tap NS: true when ulvs-wan in NS holds the VIP with the instance's prefix length.
vip_on_tap() {
    ip -n "$1" -o -4 addr show dev ulvs-wan 2>/dev/null |
        grep -q " inet $VRRP_VIP/$VRRP_PREFIX_LEN "
}

# wait_vip_on_tap NS SECONDS: poll every 100 ms.
wait_vip_on_tap() {
    local deadline=$((SECONDS + $2))
    until vip_on_tap "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# local_curl URL: the client's request, 2 s at most (the scenario stays short when it fails).
local_curl() {
    timeout 4 ip netns exec "$LAB_NS_CLIENT" curl -sS --max-time 2 "$1"
}

# local_server NS NAME: python's HTTP server on VIP:8000 in NS, serving a page saying NAME.
local_server() {
    local dir="$LAB_RUN_DIR/host-vip-$2"
    mkdir -p "$dir"
    echo "$2" >"$dir/name"
    ip netns exec "$1" sysctl -q -w net.ipv4.ip_nonlocal_bind=1
    ip netns exec "$1" python3 -m http.server --bind "$VRRP_VIP" --directory "$dir" "$LOCAL_PORT" \
        </dev/null >"$LAB_LOG_DIR/host_vip-http-$2.log" 2>&1 9>&- &
    HTTP_PIDS+=($!)
}

lab_up
vrrp_lb2_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR"
LAB_CONFIG="$LAB_RUN_DIR/host-vip-1.yaml"
allow="exception_path: {allow: [{port: wan, protocol: tcp, ports: [$LOCAL_PORT]}]}"
vrrp_pair_config "$LAB_CONFIG" ulvs-lab "net_af_packet0,iface=lbwan" "net_af_packet1,iface=lblan" \
    203.0.113.10 198.51.100.1 "$LAB_SOCKET" 150
echo "$allow" >>"$LAB_CONFIG"
vrrp_pair_config "$LAB_RUN_DIR/host-vip-2.yaml" ulvs-lab2 "net_af_packet0,iface=lb2wan" \
    "net_af_packet1,iface=lb2lan" 203.0.113.11 198.51.100.2 "$SOCK2" 100
echo "$allow" >>"$LAB_RUN_DIR/host-vip-2.yaml"
local_server "$LAB_NS_LB" lb1
local_server "$NS_LB2" lb2

ULVSD_LOG="$LAB_LOG_DIR/ulvsd-host_vip-1.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 50 ip netns exec "$NS_LB2" "$ULVSD_BIN" \
    -c "$LAB_RUN_DIR/host-vip-2.yaml" </dev/null >"$LAB_LOG_DIR/ulvsd-host_vip-2.log" 2>&1 9>&- &
LB2_PID=$!
vrrp_wait_socket "$LAB_SOCKET" || { fail "ulvsd 1 did not come up"; exit 1; }
vrrp_wait_socket "$SOCK2" || { fail "ulvsd 2 did not come up"; exit 1; }
vrrp_wait_state "$LAB_SOCKET" MASTER 8 || fail "ulvsd 1 (priority 150) did not become MASTER"
vrrp_wait_state "$SOCK2" BACKUP 2 || fail "ulvsd 2 (priority 100) is not BACKUP"

# 1. The host view.
wait_vip_on_tap "$LAB_NS_LB" 3 || fail "the MASTER's ulvs-wan does not show $VRRP_VIP/$VRRP_PREFIX_LEN"
lab_log "MASTER: $(ip -n "$LAB_NS_LB" -o -4 addr show dev ulvs-wan | awk '{ print $4 }' | xargs)"
ip -n "$NS_LB2" link show ulvs-wan >/dev/null 2>&1 || fail "the BACKUP has no ulvs-wan"
vip_on_tap "$NS_LB2" && fail "the BACKUP's ulvs-wan shows $VRRP_VIP"
lab_log "BACKUP: $(ip -n "$NS_LB2" -o -4 addr show dev ulvs-wan | awk '{ print $4 }' | xargs)"
sleep 1 # both resolved their real servers; the router learnt the master's MAC for the VIP

# 2. The local server through the VIP, beside the virtual server.
body="$(local_curl "http://$VRRP_VIP:$LOCAL_PORT/name" 2>&1)" || true
[[ "$body" == lb1 ]] || fail "VIP:$LOCAL_PORT through the MASTER: '$body', expected lb1"
lab_log "VIP:$LOCAL_PORT through the MASTER: $body"
body="$(client_curl "http://$VRRP_VIP/" 2>&1)" || fail "VIP:80 through the MASTER failed: $body"
lab_log "VIP:80 (virtual server) through the MASTER: $body"
if out="$(timeout 3 ip netns exec "$LAB_NS_CLIENT" curl -sS --max-time 1 "http://$VRRP_VIP:9000/" \
    2>&1)"; then
    fail "VIP:9000 (no rule allows it) answered: $out"
fi
refused="$(timeout 3 "$ULVSADM_BIN" --socket "$LAB_SOCKET" status 2>/dev/null |
    grep -oE "exception_refused_packets [0-9]+" | awk '{ print $2 }' || true)"
lab_log "MASTER exception_refused_packets: ${refused:-?}"
((${refused:-0} > 0)) || fail "the refused SYN to VIP:9000 was not counted"

# 3. Failover.
master="$(ulvsd_child_pid "$ULVSD_PID")"
lab_log "killing the master ulvsd (pid $master) with SIGKILL"
kill -KILL "$master"
vrrp_wait_state "$SOCK2" MASTER 6 || fail "ulvsd 2 did not take over"
wait_vip_on_tap "$NS_LB2" 3 || fail "the new MASTER's ulvs-wan does not show $VRRP_VIP"
lab_log "new MASTER: $(ip -n "$NS_LB2" -o -4 addr show dev ulvs-wan | awk '{ print $4 }' | xargs)"
body=""
for _ in 1 2 3; do # the router may still hold the old master's MAC for a moment
    body="$(local_curl "http://$VRRP_VIP:$LOCAL_PORT/name" 2>&1)" && break
    sleep 0.5
done
[[ "$body" == lb2 ]] || fail "VIP:$LOCAL_PORT through the new MASTER: '$body', expected lb2"
lab_log "VIP:$LOCAL_PORT through the new MASTER: $body"
body="$(client_curl "http://$VRRP_VIP/" 2>&1)" || fail "VIP:80 through the new MASTER failed: $body"
lab_log "VIP:80 (virtual server) through the new MASTER: $body"

# 4. The first node comes back and, with the higher priority, preempts: the VIP leaves the
# other's ulvs-wan (a BACKUP again, its ulvsd still running) and is on its own.
ulvsd_stop >/dev/null 2>&1 || true
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-host_vip-1b.log"
ulvsd_start
vrrp_wait_state "$LAB_SOCKET" MASTER 12 || fail "ulvsd 1 did not preempt"
vrrp_wait_state "$SOCK2" BACKUP 3 || fail "ulvsd 2 did not go back to BACKUP"
deadline=$((SECONDS + 3))
while vip_on_tap "$NS_LB2" && ((SECONDS < deadline)); do sleep 0.1; done
vip_on_tap "$NS_LB2" && fail "the VIP stayed on ulvs-wan of ulvsd 2, BACKUP again"
wait_vip_on_tap "$LAB_NS_LB" 3 || fail "the VIP is not back on ulvsd 1's ulvs-wan"
lab_log "BACKUP again: $(ip -n "$NS_LB2" -o -4 addr show dev ulvs-wan | awk '{ print $4 }' | xargs)"
body="$(local_curl "http://$VRRP_VIP:$LOCAL_PORT/name" 2>&1)" || true
[[ "$body" == lb1 ]] || fail "VIP:$LOCAL_PORT after the preemption: '$body', expected lb1"
lab_log "VIP:$LOCAL_PORT after the preemption: $body"
ulvsd_stop >/dev/null 2>&1 || true

if ((ok)); then
    lab_log "host_vip: PASS"
    exit 0
fi
tail -n 20 "$LAB_LOG_DIR/ulvsd-host_vip-2.log" >&2
lab_log "host_vip: FAIL"
exit 1
