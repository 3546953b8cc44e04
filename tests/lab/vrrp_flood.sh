#!/usr/bin/env bash
# Lab scenario (issue 12, acceptance 3): the VRRP pair of vrrp_pair.sh — ulvs-lb (priority 150,
# MASTER, wan 203.0.113.10) and ulvs-vrrp-lb2 (priority 100, BACKUP, wan 203.0.113.11), both
# serving the DR VIP 203.0.113.100, which is the virtual address — under a flood from the client
# for 30 s: four hping3 streams, ICMP echo to the VIP and to the backup's own address, and SYNs
# to port 22 of both appliances' own addresses (their kernel exception path). Before issue 12 a
# flood filled the one ring to the control lcore and the master's adverts were dropped with the
# pings: the backup made itself MASTER (split brain).
# The streams are paced (hping3 -i u100: about 5000 packets/s each, 20000 in all, 5 times the
# ICMP echo policer per target): the flooder shares the lab's cores with both appliances, and
# unpaced (ULVS_FLOOD_PACE=--flood, ~150k packets/s here) it outruns the workers' af_packet RX
# rings, which then drop frames, the peer's adverts among them, before any ulvsd code sees them
# (measured: ctrl_prio_ring_full 0, yet 83% of the frames never reached the worker). That is
# the capacity of this shared lab, not the control path's protection under test. The
# exception policer is set to 2000/s here (default 10000/s) so that the SYN streams exceed it.
# Passes when, over the flood:
# - neither appliance changes state (`ulvsadm vrrp` sampled all along, and the VRRP transition
#   counters of the metrics unchanged);
# - the backup accepted the adverts the master sent (at most 1 apart: the two are read at
#   slightly different times);
# - HTTP through the VIP keeps working: curl every 0.2 s, at least 95% answered and never 5 s
#   without an answer;
# - the police drop counters of the appliances moved (police_icmp_echo, police_exception).
# Prints the flood rate hping3 achieved, adverts sent/received, drops by reason, curl counts.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
lab_bound 90 "$@"

FLOOD_S="${ULVS_FLOOD_S:-30}"
# hping3's pace per stream: -i uN (a packet every N us, at best) or --flood (as fast as it can).
read -ra FLOOD_PACE <<<"${ULVS_FLOOD_PACE:--i u100}"
SOCK2="/run/ulvs/lab2.sock"
LB1_WAN=203.0.113.10
LB2_WAN=203.0.113.11
METRICS=127.0.0.1:9145 # each appliance's, inside its own namespace
LB2_PID=""
FLOOD_PIDS=()

if ! command -v hping3 >/dev/null; then
    lab_err "hping3 is not installed (scripts/bootstrap installs it)"
    exit 77
fi

# shellcheck disable=SC2317 # called by vrrp_cleanup (vrrp_trap)
flood_stop() {
    local p
    for p in "${FLOOD_PIDS[@]}"; do
        kill -INT "$p" 2>/dev/null || true
    done
    for p in "${FLOOD_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    FLOOD_PIDS=()
    vrrp_stop_pid "$LB2_PID"
    LB2_PID=""
}
vrrp_trap "$VRRP_NS_LB2" flood_stop

# metrics NS: the Prometheus text of the ulvsd in namespace NS.
metrics() {
    timeout 3 ip netns exec "$1" curl -s --max-time 2 "http://$METRICS/metrics" || true
}
# metric_sum TEXT NAME [LABEL]: the sum of NAME's samples whose labels contain LABEL.
metric_sum() {
    awk -v n="$2" -v l="${3:-}" '(index($1, n "{") == 1 || $1 == n) && (l == "" || index($1, l)) {
        s += $2 } END { print s + 0 }' <<<"$1"
}
drop_sum() {
    metric_sum "$1" ulvs_worker_drops_total "reason=\"$2\""
}

lab_up
vrrp_lb2_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR"
LAB_CONFIG="$LAB_RUN_DIR/vrrp-flood-1.yaml"
vrrp_pair_config "$LAB_CONFIG" ulvs-lab "net_af_packet0,iface=lbwan" "net_af_packet1,iface=lblan" \
    "$LB1_WAN" 198.51.100.1 "$LAB_SOCKET" 150 "$METRICS"
vrrp_pair_config "$LAB_RUN_DIR/vrrp-flood-2.yaml" ulvs-lab2 "net_af_packet0,iface=lb2wan" \
    "net_af_packet1,iface=lb2lan" "$LB2_WAN" 198.51.100.2 "$SOCK2" 100 "$METRICS"
for f in "$LAB_CONFIG" "$LAB_RUN_DIR/vrrp-flood-2.yaml"; do
    echo "control_policing: {exception: {rate: 2000, burst: 200}}" >>"$f"
done
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-vrrp_flood-1.log"
LOG2="$LAB_LOG_DIR/ulvsd-vrrp_flood-2.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 85 ip netns exec "$VRRP_NS_LB2" "$ULVSD_BIN" \
    -c "$LAB_RUN_DIR/vrrp-flood-2.yaml" </dev/null >"$LOG2" 2>&1 9>&- &
LB2_PID=$!
vrrp_wait_socket "$LAB_SOCKET" || { fail "ulvsd 1 did not come up"; exit 1; }
vrrp_wait_socket "$SOCK2" || { fail "ulvsd 2 did not come up"; exit 1; }
vrrp_wait_state "$LAB_SOCKET" MASTER 8 || { fail "ulvsd 1 (priority 150) is not MASTER"; exit 1; }
vrrp_wait_state "$SOCK2" BACKUP 2 || { fail "ulvsd 2 (priority 100) is not BACKUP"; exit 1; }
sleep 1.5 # both resolved their real servers; the router learnt the master's MAC for the VIP
body="$(client_curl "http://$VRRP_VIP/" 2>&1)" || { fail "HTTP before the flood: $body"; exit 1; }

m1="$(metrics "$LAB_NS_LB")"
m2="$(metrics "$VRRP_NS_LB2")"
tx0="$(metric_sum "$m1" ulvs_vrrp_adverts_sent_total)"
rx0="$(metric_sum "$m2" ulvs_vrrp_adverts_received_total)"
tr1_0="$(metric_sum "$m1" ulvs_vrrp_transitions_total)"
tr2_0="$(metric_sum "$m2" ulvs_vrrp_transitions_total)"

# flood NAME HPING3-ARGS...: hping3 in the client namespace for FLOOD_S seconds; SIGINT makes it
# print its statistics (into $LAB_RUN_DIR/flood-NAME.log).
flood() {
    local name="$1"
    shift
    timeout --signal=INT --kill-after=5 "$FLOOD_S" ip netns exec "$LAB_NS_CLIENT" \
        hping3 "${FLOOD_PACE[@]}" -q "$@" >"$LAB_RUN_DIR/flood-$name.log" 2>&1 &
    FLOOD_PIDS+=($!)
}
# Frames the kernel dropped because a CPU's input backlog was full (veths deliver through it):
# a flood faster than the machine forwards loses packets before any ulvsd sees them.
softnet_drops() {
    local s=0 _processed dropped _rest
    while read -r _processed dropped _rest; do
        s=$((s + 16#$dropped))
    done </proc/net/softnet_stat
    echo "$s"
}
softnet0="$(softnet_drops)"
lab_log "flooding for ${FLOOD_S}s (${FLOOD_PACE[*]}): ICMP echo to $VRRP_VIP and $LB2_WAN, SYN to $LB1_WAN:22 and $LB2_WAN:22"
flood icmp-vip --icmp "$VRRP_VIP"
flood icmp-lb2 --icmp "$LB2_WAN"
flood syn-lb1 -S -p 22 "$LB1_WAN"
flood syn-lb2 -S -p 22 "$LB2_WAN"

# While it lasts: HTTP through the VIP and both appliances' states, every 0.2 s.
curl_ok=0
curl_fail=0
longest_gap=0
last_ok=$(ms_now)
bad_states=0
end=$((SECONDS + FLOOD_S))
while ((SECONDS < end)); do
    if client_curl "http://$VRRP_VIP/" >/dev/null 2>&1; then
        curl_ok=$((curl_ok + 1))
        now=$(ms_now)
        ((now - last_ok > longest_gap)) && longest_gap=$((now - last_ok))
        last_ok=$now
    else
        curl_fail=$((curl_fail + 1))
    fi
    s1="$(vrrp_state "$LAB_SOCKET")"
    s2="$(vrrp_state "$SOCK2")"
    if [[ "$s1" != MASTER || "$s2" != BACKUP ]]; then
        bad_states=$((bad_states + 1))
        lab_err "states during the flood: ulvsd 1 '$s1', ulvsd 2 '$s2'"
    fi
    sleep 0.2
done
now=$(ms_now)
((now - last_ok > longest_gap)) && longest_gap=$((now - last_ok))
for p in "${FLOOD_PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
done
FLOOD_PIDS=()

m1="$(metrics "$LAB_NS_LB")"
m2="$(metrics "$VRRP_NS_LB2")"
sent=$(($(metric_sum "$m1" ulvs_vrrp_adverts_sent_total) - tx0))
got=$(($(metric_sum "$m2" ulvs_vrrp_adverts_received_total) - rx0))
tr1=$(($(metric_sum "$m1" ulvs_vrrp_transitions_total) - tr1_0))
tr2=$(($(metric_sum "$m2" ulvs_vrrp_transitions_total) - tr2_0))

total=0
for f in "$LAB_RUN_DIR"/flood-*.log; do
    n="$(awk '/packets transmitted/ { print $1 }' "$f")"
    lab_log "$(basename "$f" .log): ${n:-?} packets in ${FLOOD_S}s"
    total=$((total + ${n:-0}))
done
lab_log "flood: $total packets, $((total / FLOOD_S)) packets/s; kernel backlog drops meanwhile: $(($(softnet_drops) - softnet0))"
lab_log "adverts: master sent $sent, backup accepted $got; state changes: ulvsd 1 $tr1, ulvsd 2 $tr2"
for r in police_icmp_echo police_exception ctrl_ring_full ctrl_prio_ring_full tx_full; do
    lab_log "drop.$r: ulvsd 1 $(drop_sum "$m1" "$r"), ulvsd 2 $(drop_sum "$m2" "$r")"
done
lab_log "rx packets: ulvsd 1 $(metric_sum "$m1" ulvs_worker_rx_packets_total), ulvsd 2 $(metric_sum "$m2" ulvs_worker_rx_packets_total)"
lab_log "HTTP through the VIP: $curl_ok answered, $curl_fail failed, longest gap ${longest_gap} ms"

((total > 0)) || fail "hping3 sent nothing"
((bad_states == 0)) || fail "$bad_states samples found an appliance out of its role"
((tr1 == 0 && tr2 == 0)) || fail "state changes during the flood: ulvsd 1 $tr1, ulvsd 2 $tr2"
((sent >= FLOOD_S - 2)) || fail "the master sent only $sent adverts in ${FLOOD_S}s"
((sent - got <= 1)) || fail "the backup lost $((sent - got)) of $sent adverts"
((curl_ok > 0 && curl_ok * 100 >= (curl_ok + curl_fail) * 95)) ||
    fail "HTTP through the VIP: $curl_fail of $((curl_ok + curl_fail)) requests failed"
((longest_gap <= 5000)) || fail "no HTTP answer through the VIP for $longest_gap ms"
for r in police_icmp_echo police_exception; do
    for m in "$m1" "$m2"; do
        (($(drop_sum "$m" "$r") > 0)) || fail "an appliance counted no drop.$r"
    done
done

if ((ok)); then
    lab_log "vrrp_flood: PASS"
    exit 0
fi
tail -n 20 "$ULVSD_LOG" "$LOG2" >&2
lab_log "vrrp_flood: FAIL"
exit 1
