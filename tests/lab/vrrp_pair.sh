#!/usr/bin/env bash
# Lab scenario: two ulvsd appliances as a VRRP pair (v3, advert_int 1s) in front of the same
# real servers. ulvs-lb (priority 150, wan 203.0.113.10, lan 198.51.100.1) and ulvs-vrrp-lb2
# (priority 100, wan 203.0.113.11, lan 198.51.100.2, its own af_packet veths on the same bridges
# and its own --file-prefix) both serve the DR VIP 203.0.113.100, which is the VRRP virtual
# address. The client pings the VIP every 10 ms (only the master answers for it) and fetches
# http://VIP/; the master is then killed (SIGKILL: no priority-0 advertisement). Passes when
# the backup takes over, HTTP through the VIP works again, and the failover time (the longest
# gap between two echo replies: last through the old master to first through the new) is at
# most 3 x advert_int + skew + 100 ms = 3709 ms.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
lab_bound 120 "$@"

NS_LB2="$VRRP_NS_LB2"
SOCK2="/run/ulvs/lab2.sock"
LIMIT_MS=$((3 * 1000 + (256 - 100) * 1000 / 256 + 100))
LB2_PID=""
PING_PID=""

# shellcheck disable=SC2317 # called by vrrp_cleanup (vrrp_trap)
pair_stop() {
    [[ -n "$PING_PID" ]] && kill "$PING_PID" 2>/dev/null
    vrrp_stop_pid "$LB2_PID"
    LB2_PID=""
}
vrrp_trap "$NS_LB2" pair_stop

lab_up
vrrp_lb2_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR"
LAB_CONFIG="$LAB_RUN_DIR/vrrp-pair-1.yaml"
vrrp_pair_config "$LAB_CONFIG" ulvs-lab "net_af_packet0,iface=lbwan" "net_af_packet1,iface=lblan" \
    203.0.113.10 198.51.100.1 "$LAB_SOCKET" 150
vrrp_pair_config "$LAB_RUN_DIR/vrrp-pair-2.yaml" ulvs-lab2 "net_af_packet0,iface=lb2wan" \
    "net_af_packet1,iface=lb2lan" 203.0.113.11 198.51.100.2 "$SOCK2" 100
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-vrrp_pair-1.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 100 ip netns exec "$NS_LB2" "$ULVSD_BIN" \
    -c "$LAB_RUN_DIR/vrrp-pair-2.yaml" </dev/null >"$LAB_LOG_DIR/ulvsd-vrrp_pair-2.log" 2>&1 9>&- &
LB2_PID=$!
vrrp_wait_socket "$LAB_SOCKET" || { fail "ulvsd 1 did not come up"; exit 1; }
vrrp_wait_socket "$SOCK2" || { fail "ulvsd 2 did not come up"; exit 1; }
vrrp_wait_state "$LAB_SOCKET" MASTER 8 || fail "ulvsd 1 (priority 150) did not become MASTER"
vrrp_wait_state "$SOCK2" BACKUP 2 || fail "ulvsd 2 (priority 100) is not BACKUP"
sleep 1.5 # both resolved their real servers; the router learnt the master's MAC for the VIP

body="$(client_curl "http://$VRRP_VIP/" 2>&1)" || fail "HTTP through the master failed: $body"
lab_log "through the master: $body"

PING_LOG="$LAB_RUN_DIR/vrrp-pair-ping.log"
timeout 30 ip netns exec "$LAB_NS_CLIENT" ping -D -n -i 0.01 -W 1 "$VRRP_VIP" >"$PING_LOG" 2>&1 &
PING_PID=$!
sleep 1
master="$(ulvsd_child_pid "$ULVSD_PID")"
lab_log "killing the master ulvsd (pid $master) with SIGKILL"
kill -KILL "$master"
vrrp_wait_state "$SOCK2" MASTER 6 || fail "ulvsd 2 did not take over"
sleep 1.5
kill -INT "$PING_PID" 2>/dev/null || true
wait "$PING_PID" 2>/dev/null || true
PING_PID=""
ulvsd_stop >/dev/null 2>&1 || true

# The longest silence between two echo replies, in ms.
read -r replies gap_ms < <(awk -F'[][]' '/bytes from/ {
        t = $2 * 1000; if (n++ && t - last > gap) gap = t - last; last = t }
    END { printf "%d %d\n", n, gap }' "$PING_LOG")
lab_log "echo replies: $replies; failover time (longest gap): $gap_ms ms (target <= $LIMIT_MS ms)"
((replies > 100)) || fail "too few echo replies ($replies): the VIP was not reachable"
((gap_ms <= LIMIT_MS)) || fail "failover took $gap_ms ms, more than $LIMIT_MS ms"
# The new master answers only once its Master_Down_Interval (3609 ms) ran out, at least 2609 ms
# after the kill (the last advertisement is at most 1 s older): a shorter gap means the backup
# answered for the VIP while it was backup.
((gap_ms >= 2000)) || fail "gap of $gap_ms ms: the backup answered for the VIP before the failover?"
# The router learnt the new master's MAC for the VIP from its gratuitous ARPs.
mac2="$(ip -n "$NS_LB2" link show lb2wan | awk '/link\/ether/ { print $2 }')"
vip_mac="$(ip -n ulvs-router neigh show "$VRRP_VIP" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')"
[[ "$vip_mac" == "$mac2" ]] || fail "the router has $VRRP_VIP at '$vip_mac', expected ulvsd 2's $mac2"
timeout 3 "$ULVSADM_BIN" --socket "$SOCK2" vrrp || true

# New connections through the new master.
for i in 1 2 3; do
    body="$(client_curl "http://$VRRP_VIP/" 2>&1)" || fail "HTTP $i through the new master failed: $body"
    lab_log "through the new master: $body"
done

if ((ok)); then
    lab_log "vrrp_pair: PASS (failover $gap_ms ms)"
    exit 0
fi
tail -n 20 "$LAB_LOG_DIR/ulvsd-vrrp_pair-2.log" >&2
lab_log "vrrp_pair: FAIL"
exit 1
