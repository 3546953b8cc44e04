#!/usr/bin/env bash
# Lab scenario (issue 14): a NAT pair with a VRRP sync group fails over both instances together.
# ulvs-lb (priority 150) and a second ulvsd in kavr-lb2 (priority 100, its own veths on the same
# bridges) each run two instances in one vrrp_sync_group: wan (VRID 61, the NAT VIP
# 203.0.113.101) and lan (VRID 62, 198.51.100.250, the real servers' default route for the
# scenario, so NAT replies go through whichever appliance is MASTER). wan tracks its uplink with
# a weight-0 script (`ip link` says NO-CARRIER twice in a row: FAULT; a timeout long enough for
# a loaded machine), as keepalived users write chk scripts.
# The router's end of ulvs-lb's wan veth is then taken down. Passes when ulvs-lb's wan goes
# FAULT and its lan follows (FAULT though its own link is fine), both of lb2's instances become
# MASTER, the group notify scripts ran on both nodes, and NAT requests from the client are
# answered through lb2 (HTTP before and after). Without the sync group, lb2's lan would stay
# BACKUP behind ulvs-lb's lan and the replies would go to the wrong appliance.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
lab_bound 90 "$@"

VRRP_NS_LB2="kavr-lb2" # vrrp_lb2_up builds this one
NS_LB2="$VRRP_NS_LB2"
SOCK2="/run/ulvs/kavr-lb2.sock"
LAN_VIP="198.51.100.250"
LB2_PID=""

# shellcheck disable=SC2317 # called by vrrp_cleanup (vrrp_trap)
sync_stop() {
    vrrp_stop_pid "$LB2_PID"
    LB2_PID=""
}
vrrp_trap "$NS_LB2" sync_stop

# sync_config OUT PREFIX WANDEV LANDEV WAN LAN SOCKET PRIORITY WANIF NOTIFY_FILE
sync_config() {
    cat >"$1" <<EOF
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$2"]
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "$3", addresses: [$5/25]}
  - {name: lan, device: "$4", addresses: [$6/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
connections: {max: 65536}
vrrp_instances:
  - name: VI_WAN
    port: wan
    vrid: 61
    priority: $8
    authentication: {type: PASS, password: "kavr"}
    virtual_addresses: [$LAB_VIP_NAT/25]
    track:
      scripts:
        - {path: "sh -c '! ip link show $9 | grep -q NO-CARRIER'", interval: 300ms,
           timeout: 3s, fall: 2}
  - name: VI_LAN
    port: lan
    vrid: 62
    priority: $8
    virtual_addresses: [$LAN_VIP/24]
vrrp_sync_groups:
  - name: G_NAT
    instances: [VI_WAN, VI_LAN]
    notify: {any: "sh -c 'echo \"\$*\" >> ${10}' notify"}
virtual_servers:
  - name: web-nat
    address: $LAB_VIP_NAT
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: 198.51.100.11, port: 8080, weight: 1}
      - {address: 198.51.100.12, port: 8080, weight: 1}
      - {address: 198.51.100.13, port: 8080, weight: 1}
management: {socket: $7, metrics: ""}
EOF
}

# nat_get WHAT: one request to the NAT VIP; logs the answer.
nat_get() {
    local body
    if body="$(client_curl "http://$LAB_VIP_NAT/" 2>&1)"; then
        lab_log "NAT $1: $body"
        return 0
    fi
    fail "NAT request $1 failed: $body"
    return 1
}

lab_up
vrrp_lb2_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR"
NOTIFY1="$LAB_RUN_DIR/kavr-sync-notify-1"
NOTIFY2="$LAB_RUN_DIR/kavr-sync-notify-2"
rm -f "$NOTIFY1" "$NOTIFY2"
# The real servers reach the client through the lan virtual address (whichever node is MASTER).
for rs in "${LAB_SERVERS[@]}"; do
    ip -n "ulvs-$rs" route replace default via "$LAN_VIP"
done
LAB_CONFIG="$LAB_RUN_DIR/kavr-sync-1.yaml"
sync_config "$LAB_CONFIG" kavr-lab1 "net_af_packet0,iface=lbwan" "net_af_packet1,iface=lblan" \
    203.0.113.10 198.51.100.1 "$LAB_SOCKET" 150 lbwan "$NOTIFY1"
sync_config "$LAB_RUN_DIR/kavr-sync-2.yaml" kavr-lab2 "net_af_packet0,iface=lb2wan" \
    "net_af_packet1,iface=lb2lan" 203.0.113.11 198.51.100.2 "$SOCK2" 100 lb2wan "$NOTIFY2"
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-vrrp_sync_group-1.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 80 ip netns exec "$NS_LB2" "$ULVSD_BIN" \
    -c "$LAB_RUN_DIR/kavr-sync-2.yaml" </dev/null >"$LAB_LOG_DIR/ulvsd-vrrp_sync_group-2.log" \
    2>&1 9>&- &
LB2_PID=$!
for sock in "$LAB_SOCKET" "$SOCK2"; do
    wait_states "$sock" "BACKUP BACKUP" 20 || wait_states "$sock" "MASTER MASTER" 1 ||
        { fail "ulvsd on $sock did not come up"; exit 1; }
done
# ulvs-lb's group becomes MASTER (both timers run out: 3 s + skew), lb2's stays BACKUP.
wait_states "$LAB_SOCKET" "MASTER MASTER" 10 ||
    fail "ulvs-lb is '$(states "$LAB_SOCKET")', expected MASTER MASTER"
wait_states "$SOCK2" "BACKUP BACKUP" 3 || fail "lb2 is '$(states "$SOCK2")', expected BACKUP BACKUP"
sleep 1 # the real servers and the router learnt the masters' MACs (gratuitous ARPs)
nat_get "through ulvs-lb" || true
nat_get "through ulvs-lb, again" || true

# ulvs-lb's wan uplink dies: the router's end of its veth goes down.
lab_log "taking down ulvs-lb's wan link (rtwan in ulvs-router)"
t0=$(ms_now)
ip -n ulvs-router link set rtwan down
wait_states "$LAB_SOCKET" "FAULT FAULT" 3 ||
    fail "ulvs-lb is '$(states "$LAB_SOCKET")' after its wan went down, expected FAULT FAULT"
if wait_states "$SOCK2" "MASTER MASTER" 8; then
    lab_log "lb2 MASTER on wan and lan $(($(ms_now) - t0)) ms after the link went down"
else
    fail "lb2 is '$(states "$SOCK2")' after ulvs-lb's wan went down, expected MASTER MASTER"
fi
timeout 3 "$ULVSADM_BIN" --socket "$LAB_SOCKET" vrrp || true
timeout 3 "$ULVSADM_BIN" --socket "$SOCK2" vrrp || true
sleep 1
for i in 1 2 3; do
    nat_get "through lb2 ($i)" || true
done

# The group notify (`any`, keepalived's `notify`): GROUP NAME STATE 0 on both nodes.
grep -qx "GROUP G_NAT FAULT 0" "$NOTIFY1" 2>/dev/null ||
    fail "ulvs-lb's group notify did not say FAULT: $(tr '\n' ';' 2>/dev/null <"$NOTIFY1")"
grep -qx "GROUP G_NAT MASTER 0" "$NOTIFY2" 2>/dev/null ||
    fail "lb2's group notify did not say MASTER: $(tr '\n' ';' 2>/dev/null <"$NOTIFY2")"

ip -n ulvs-router link set rtwan up
ulvsd_stop >/dev/null 2>&1 || true
if ((ok)); then
    lab_log "vrrp_sync_group: PASS"
    exit 0
fi
tail -n 20 "$ULVSD_LOG" "$LAB_LOG_DIR/ulvsd-vrrp_sync_group-2.log" >&2
lab_log "vrrp_sync_group: FAIL"
exit 1
