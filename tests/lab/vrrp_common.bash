# Helpers of the VRRP lab scenarios (vrrp_*.sh); sourced after lib.sh. Not a scenario itself
# (run_all.sh runs *.sh only).
# shellcheck shell=bash

VRRP_VIP="$LAB_VIP" # the DR service's VIP is the virtual address: traffic needs its master
VRRP_VRID=51
VRRP_PREFIX_LEN=25 # wan is 203.0.113.0/25

# vrrp_config OUT VERSION PRIORITY [STATE] [EXTRA YAML LINES...]: config/lab.yaml plus one VRRP
# instance on wan holding the DR VIP, advert_int 1s.
vrrp_config() {
    local out="$1" version="$2" prio="$3" state="${4:-backup}"
    shift 4 || shift $#
    {
        grep -v '^management:\|^  socket:\|^logging:' "$ROOT/config/lab.yaml"
        echo "management: {socket: $LAB_SOCKET, metrics: \"\"}"
        echo "logging: {level: info}"
        echo "vrrp_instances:"
        echo "  - name: VI_1"
        echo "    port: wan"
        echo "    vrid: $VRRP_VRID"
        echo "    state: $state"
        echo "    priority: $prio"
        echo "    advert_int: 1s"
        echo "    version: $version"
        if [[ "$version" == 2 ]]; then
            echo "    authentication: {type: pass, password: \"ulvs\"}"
        fi
        echo "    virtual_addresses: [$VRRP_VIP/$VRRP_PREFIX_LEN]"
        local line
        for line in "$@"; do
            echo "    $line"
        done
    } >"$out"
}

# vrrp_state SOCKET: the first instance's state as `ulvsadm vrrp` prints it ("" if unreachable).
vrrp_state() {
    timeout 3 "$ULVSADM_BIN" --socket "$1" vrrp 2>/dev/null | awk '$1 == "VI_1" { print $5 }'
}

# vrrp_wait_state SOCKET STATE SECONDS: poll every 100 ms; true when reached.
vrrp_wait_state() {
    local sock="$1" want="$2" deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        [[ "$(vrrp_state "$sock")" == "$want" ]] && return 0
        sleep 0.1
    done
    return 1
}

# ms_now: wall clock in milliseconds.
ms_now() {
    echo $(($(date +%s%N) / 1000000))
}

# vrrp_stop_pid PID: SIGTERM, up to 5 s, then SIGKILL; collects it (a child of this shell).
vrrp_stop_pid() {
    [[ -n "$1" ]] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# vrrp_trap NS STOP_FN: on every way out run STOP_FN (what the scenario started), stop ulvsd,
# delete the scenario's extra namespace NS and take the lab down, keeping the exit status.
VRRP_EXTRA_NS=""
VRRP_STOP_FN=":"
vrrp_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    "$VRRP_STOP_FN" || true
    ulvsd_stop || true
    ip netns del "$VRRP_EXTRA_NS" 2>/dev/null || true
    lab_down >/dev/null 2>&1 || true
    exit "$rc"
}
vrrp_trap() {
    VRRP_EXTRA_NS="$1"
    VRRP_STOP_FN="$2"
    trap vrrp_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# vrrp_wait_socket SOCKET: true once ulvsd answers `ulvsadm vrrp` there (at most 20 s).
vrrp_wait_socket() {
    local deadline=$((SECONDS + 20))
    until [[ -n "$(vrrp_state "$1")" ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# fail MESSAGE: report it and mark the scenario failed (it goes on, to report every mistake).
ok=1
fail() {
    lab_err "$*"
    ok=0
}

# The second appliance of the pair scenarios (vrrp_pair.sh, vrrp_flood.sh).
VRRP_NS_LB2="ulvs-vrrp-lb2"

# vrrp_lb2_up: its namespace and ports, veths to the lab's wan and lan bridges, as scripts/lab
# builds ulvs-lb's (no offloads: af_packet must see finished frames).
vrrp_lb2_up() {
    local side
    ip netns add "$VRRP_NS_LB2"
    ip -n "$VRRP_NS_LB2" link set lo up
    ip netns exec "$VRRP_NS_LB2" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$VRRP_NS_LB2" sysctl -q -w net.ipv6.conf.default.disable_ipv6=1
    for side in wan lan; do
        ip -n ulvs-router link add "rt2$side" type veth peer name "lb2$side" netns "$VRRP_NS_LB2"
        ip netns exec ulvs-router ethtool -K "rt2$side" tx off rx off tso off gso off gro off \
            >/dev/null 2>&1 || true
        ip netns exec "$VRRP_NS_LB2" ethtool -K "lb2$side" tx off rx off tso off gso off gro off \
            >/dev/null 2>&1 || true
        ip -n ulvs-router link set "rt2$side" master "br$side" up
        # As scripts/lab hardens ulvs-lb's: the namespace's kernel owns the appliance's
        # addresses and VIPs on its TAPs (issue 15's host view) and would otherwise answer ARP
        # and TCP (a RST to VIP:80) on the port's own veth too.
        ip netns exec "$VRRP_NS_LB2" sysctl -q -w "net.ipv4.conf.lb2$side.arp_ignore=8"
        ip netns exec "$VRRP_NS_LB2" sysctl -q -w "net.ipv4.conf.lb2$side.rp_filter=1"
        ip -n "$VRRP_NS_LB2" link set "lb2$side" up
    done
}

# vrrp_pair_config OUT PREFIX WANDEV LANDEV WAN LAN SOCKET PRIORITY [METRICS]: one appliance of
# the pair (VRRP v3, advert_int 1s, the DR service on the virtual address); METRICS is
# management.metrics ("" = off, the default).
vrrp_pair_config() {
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
  - name: VI_1
    port: wan
    vrid: $VRRP_VRID
    priority: $8
    advert_int: 1s
    version: 3
    virtual_addresses: [$VRRP_VIP/$VRRP_PREFIX_LEN]
virtual_servers:
  - name: web
    address: $VRRP_VIP
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80, weight: 1}
      - {address: 198.51.100.12, port: 80, weight: 1}
      - {address: 198.51.100.13, port: 80, weight: 1}
management: {socket: $7, metrics: "${9:-}"}
EOF
}

# The wan+lan pairs (vrrp_sync_group.sh, sync_nat.sh): instances VI_WAN and VI_LAN.
# states SOCKET: "WAN_STATE LAN_STATE" of VI_WAN and VI_LAN as `ulvsadm vrrp` prints them.
states() {
    timeout 3 "$ULVSADM_BIN" --socket "$1" vrrp 2>/dev/null |
        awk '$1 == "VI_WAN" { w = $5 } $1 == "VI_LAN" { l = $5 } END { print w, l }'
}

# wait_states SOCKET "WAN LAN" SECONDS
wait_states() {
    local deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        [[ "$(states "$1")" == "$2" ]] && return 0
        sleep 0.1
    done
    return 1
}
