#!/usr/bin/env bash
# Lab scenario (issue 20): ECMP scale-out with BGP through ordinary routing daemons.
#
#   ulvs-client ── ulvs-router (FRR: zebra, bgpd, bfdd; maximum-paths; BFD 100 ms x 3;
#                  fib_multipath_hash_policy 1: flows hashed by ports too)
#                     │ brwan 203.0.113.1/25                    │ brlan 198.51.100.254/24
#        ┌────────────┴─────────────┐                  ┌──────┴───────┐
#   ulvs-lb: ulvsd 1 + BIRD 2    ecmp-lb2: ulvsd 2 + BIRD 2    rs1..rs3 (DR: VIP on lo,
#   wan .10, lan 198.51.100.1    wan .11, lan 198.51.100.2      replies via the router)
#
# Both nodes serve the DR VIP 203.0.113.100 (:80 HTTP, :7000 echo; mh with mh-port, sloppy) and
# announce it: ulvsd puts VIP/32 in kernel table 100 (announce:), BIRD (config/ecmp/bird.conf)
# learns it and sends it over eBGP through the ulvs-wan TAP, whose exception path lets BGP and
# BFD with the router (announce.peers) through. Passes when:
# 1. the router installs the VIP with both nodes as next hops; new flows (HTTP requests, each
#    from a new source port) go through both nodes (both nodes' connection counters grow) and
#    every one succeeds;
# 2. `ulvsadm drain` on node 1: the router's route keeps node 2 only, new flows go to node 2
#    only, no request fails, and long-lived connections go on; `undrain`: both next hops again,
#    node 1 gets new flows again; the same when node 1 has no real server left (weights 0);
# 3. node 1's ulvsd is killed (SIGKILL): BFD makes the router drop it within 1 s, and
#    long-lived connections that were on node 1 go on through node 2 (mh picks the same real
#    server; sloppy takes the mid-stream segments), counted by node 2's
#    ulvs_worker_connections_sloppy_total.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 60 "$@"

for bin in /usr/lib/frr/zebra /usr/lib/frr/bgpd /usr/lib/frr/bfdd /usr/sbin/bird; do
    if [[ ! -x "$bin" ]]; then
        lab_err "$bin missing: scripts/bootstrap installs frr and bird2"
        exit 77
    fi
done

NS_R="ulvs-router"
NS_LB1="$LAB_NS_LB"
NS_LB2="ecmp-lb2"
VIP="$LAB_VIP"
SOCK1="$LAB_SOCKET"
SOCK2="/run/ulvs/ecmp-lb2.sock"
D="$LAB_RUN_DIR/ecmp"
CLIENT="$LAB_DIR/ecmp_client.py"
LB2_PID=""
HOLD_PIDS=()

ok=1
fail() {
    lab_err "$*"
    ok=0
}

# shellcheck disable=SC2317 # pidfile_kill and ecmp_cleanup: called by the trap
# pidfile_kill FILE: SIGTERM to the pid it names (a daemon this scenario started), if any.
pidfile_kill() {
    local pid
    [[ -s "$1" ]] || return 0
    pid="$(head -n1 "$1")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null
    return 0
}

# shellcheck disable=SC2317
ecmp_cleanup() {
    local rc=$? f pid
    trap - EXIT INT TERM
    touch "$D/stop-1" "$D/stop-2" 2>/dev/null || true
    for f in "$D"/*.log; do # the daemons' logs outlive the lab
        [[ -f "$f" ]] && cp "$f" "$LAB_LOG_DIR/ecmp_bgp-$(basename "$f")"
    done
    for pid in "${HOLD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for f in "$D"/*.pid; do
        pidfile_kill "$f"
    done
    if [[ -n "$LB2_PID" ]]; then
        kill -TERM "$LB2_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$LB2_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$LB2_PID" 2>/dev/null || true
        wait "$LB2_PID" 2>/dev/null || true
    fi
    ulvsd_stop || true
    for pid in $(ip netns pids "$NS_LB2" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$NS_LB2" 2>/dev/null || true
    lab_down >/dev/null 2>&1 || true
    exit "$rc"
}
trap ecmp_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# node_yaml OUT PREFIX WAN LAN SOCKET METRICS: one node; both serve the same services.
node_yaml() {
    cat >"$1" <<YAML
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$2"]
lcores: {control: 0, workers: [1], idle: adaptive} # 2 nodes on a small box: no spinning
ports:
  - {name: wan, device: "net_af_packet0,iface=$7wan", addresses: [$3/25]}
  - {name: lan, device: "net_af_packet1,iface=$7lan", addresses: [$4/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
connections: {max: 65536}
announce: {table: 100, port: wan, peers: [203.0.113.1]}
virtual_servers:
  - name: web
    address: $VIP
    port: 80
    protocol: tcp
    scheduler: mh
    scheduler_flags: [mh-port]
    forwarding: dr
    sloppy: true
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
      - {address: 198.51.100.13, port: 80}
  - name: echo
    address: $VIP
    port: 7000
    protocol: tcp
    scheduler: mh
    scheduler_flags: [mh-port]
    forwarding: dr
    sloppy: true
    real_servers:
      - {address: 198.51.100.11, port: 7000}
      - {address: 198.51.100.12, port: 7000}
      - {address: 198.51.100.13, port: 7000}
management: {socket: $5, metrics: "$6"}
YAML
}

# nexthops: the router's next hops for the VIP, sorted, space-separated ("" when none).
nexthops() {
    timeout 3 ip -n "$NS_R" route show "$VIP/32" 2>/dev/null |
        awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' | sort | xargs
}

# wait_nexthops WANT SECONDS: poll every 20 ms; prints the time it took in ms; true if reached.
wait_nexthops() {
    local want="$1" start now
    start=$(($(date +%s%N) / 1000000))
    while :; do
        now=$(($(date +%s%N) / 1000000))
        if [[ "$(nexthops)" == "$want" ]]; then
            echo $((now - start))
            return 0
        fi
        ((now - start < $2 * 1000)) || return 1
        sleep 0.02
    done
}

# wait_stable WANT SECONDS: WANT for 1.5 s in a row (a BFD session may go down once as it
# comes up, taking its BGP session with it), within SECONDS; true if so.
wait_stable() {
    local deadline=$((SECONDS + $2)) since=""
    while ((SECONDS < deadline)); do
        if [[ "$(nexthops)" == "$1" ]]; then
            since="${since:-$(date +%s%N)}"
            (($(date +%s%N) - since >= 1500000000)) && return 0
        else
            since=""
        fi
        sleep 0.05
    done
    return 1
}

# conns SOCKET SERVICE_PORT: the service's connection counter ("Conns" of -L -n --stats).
conns() {
    timeout 3 "$ULVSADM_BIN" --socket "$1" -L -n --stats 2>/dev/null |
        awk -v s="$VIP:$2" '$1 == "TCP" && $2 == s { print $3; exit }'
}

# sloppy NS: the node's connections opened by sloppy services (its /metrics, summed).
sloppy() {
    timeout 3 ip netns exec "$1" curl -s --max-time 2 http://127.0.0.1:9145/metrics |
        awk '/^ulvs_worker_connections_sloppy_total/ { n += $2 } END { print n + 0 }'
}

requests() {
    timeout 20 ip netns exec "$LAB_NS_CLIENT" /usr/bin/python3 "$CLIENT" requests "$VIP" "$1"
}

# hold_start N: long-lived connections to VIP:7000 until $D/stop-N exists; log $D/hold-N.log.
hold_start() {
    rm -f "$D/stop-$1"
    timeout 40 ip netns exec "$LAB_NS_CLIENT" /usr/bin/python3 "$CLIENT" hold "$VIP" 7000 12 \
        "$D/stop-$1" >"$D/hold-$1.log" 2>&1 &
    HOLD_PIDS+=($!)
    for _ in $(seq 50); do
        grep -q connected "$D/hold-$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "hold $1: the long-lived connections did not connect: $(cat "$D/hold-$1.log")"
}

# hold_stop N INDEX: stop it, report; fails the scenario if a connection failed.
hold_stop() {
    local rc=0
    touch "$D/stop-$1"
    wait "${HOLD_PIDS[$2]}" || rc=$?
    lab_log "hold $1: $(tail -n1 "$D/hold-$1.log")"
    ((rc == 0)) || fail "hold $1: long-lived connections failed: $(head -n5 "$D/hold-$1.log")"
}

lab_up
mkdir -p "$D" "$LAB_LOG_DIR" /run/ulvs
chown frr:frr "$D"

# Node 2: its namespace and ports on the lab's bridges (as vrrp_common.bash's second node).
ip netns add "$NS_LB2"
ip -n "$NS_LB2" link set lo up
ip netns exec "$NS_LB2" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS_LB2" sysctl -q -w net.ipv6.conf.default.disable_ipv6=1
for side in wan lan; do
    ip -n "$NS_R" link add "ec2$side" type veth peer name "lb2$side" netns "$NS_LB2"
    ip netns exec "$NS_R" ethtool -K "ec2$side" tx off rx off tso off gso off gro off \
        >/dev/null 2>&1 || true
    ip netns exec "$NS_LB2" ethtool -K "lb2$side" tx off rx off tso off gso off gro off \
        >/dev/null 2>&1 || true
    ip -n "$NS_R" link set "ec2$side" master "br$side" up
    ip -n "$NS_LB2" link set "lb2$side" up
done
ip -n "$NS_LB1" link set lo up

# Echo servers on the real servers (HTTP name servers are the lab's).
for rs in "${LAB_SERVERS[@]}"; do
    ip netns exec "ulvs-$rs" /usr/bin/python3 "$CLIENT" echo-server --port 7000 \
        --pidfile "$D/echo-$rs.pid" </dev/null >/dev/null 2>&1 &
done

# The router: FRR from config/ecmp/frr-router.conf (bgpd's part and bfdd's `bfd` block).
ip netns exec "$NS_R" sysctl -q -w net.ipv4.fib_multipath_hash_policy=1
awk '/^bfd$/ { exit } { print }' "$ROOT/config/ecmp/frr-router.conf" >"$D/bgpd.conf"
awk '/^bfd$/ { on = 1 } on { print }' "$ROOT/config/ecmp/frr-router.conf" >"$D/bfdd.conf"
printf 'hostname ulvs-router\nlog file %s/zebra.log\n' "$D" >"$D/zebra.conf"
echo "log file $D/bgpd.log" >>"$D/bgpd.conf"
echo "log file $D/bfdd.log" >>"$D/bfdd.conf"
chown frr:frr "$D"/*.conf
frr() {
    local daemon="$1"
    shift
    # BFD's deadlines are a few hundred ms: ahead of the builds and tests sharing the machine.
    timeout 10 ip netns exec "$NS_R" nice -n -5 "/usr/lib/frr/$daemon" -d -u frr -g frr -P 0 \
        -z "$D/zserv.api" -i "$D/$daemon.pid" --vty_socket "$D" -f "$D/$daemon.conf" "$@" \
        >"$D/$daemon.out" 2>&1 || fail "$daemon did not start: $(cat "$D/$daemon.out")"
}
frr zebra
for _ in $(seq 50); do
    [[ -S "$D/zserv.api" ]] && break
    sleep 0.1
done
frr bfdd --bfdctl "$D/bfdd.sock"
frr bgpd

# The nodes: ulvsd, then BIRD beside it (config/ecmp/bird.conf with the node's addresses).
node_yaml "$D/node1.yaml" ecmp1 203.0.113.10 198.51.100.1 "$SOCK1" "127.0.0.1:9145" lb
node_yaml "$D/node2.yaml" ecmp2 203.0.113.11 198.51.100.2 "$SOCK2" "127.0.0.1:9145" lb2
LAB_CONFIG="$D/node1.yaml"
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-ecmp_bgp-1.log"
ulvsd_start
timeout --signal=TERM --kill-after=5 55 ip netns exec "$NS_LB2" "$ULVSD_BIN" -c "$D/node2.yaml" \
    </dev/null >"$LAB_LOG_DIR/ulvsd-ecmp_bgp-2.log" 2>&1 9>&- &
LB2_PID=$!
for n in 1 2; do
    ns="$NS_LB1" addr=203.0.113.10
    [[ $n == 2 ]] && ns="$NS_LB2" addr=203.0.113.11
    sed -e "s/NODE_ADDRESS/$addr/g" -e "s/ROUTER_ADDRESS/203.0.113.1/g" \
        "$ROOT/config/ecmp/bird.conf" >"$D/bird$n.conf"
    echo "log \"$D/bird$n.log\" { info, remote, warning, error, auth, fatal, bug };" \
        >>"$D/bird$n.conf"
    timeout 10 ip netns exec "$ns" nice -n -5 bird -c "$D/bird$n.conf" -s "$D/bird$n.ctl" \
        -P "$D/bird$n.pid" || fail "bird $n did not start"
done

t0=$SECONDS
if wait_stable "203.0.113.10 203.0.113.11" 25; then
    lab_log "router: $VIP via both nodes ($((SECONDS - t0)) s after the start)"
else
    fail "the router has no two-next-hop route to $VIP: '$(nexthops)'"
    ip -n "$NS_R" route show "$VIP/32" >&2 || true
    timeout 3 ip netns exec "$NS_LB1" birdc -s "$D/bird1.ctl" show protocols >&2 || true
    timeout 3 ip netns exec "$NS_LB1" ip route show table 100 >&2 || true
    tail -n 20 "$LAB_LOG_DIR/ulvsd-ecmp_bgp-1.log" >&2 || true
    exit 1
fi

# 1. Flows spread over both nodes; every request succeeds.
a1=$(conns "$SOCK1" 80) a2=$(conns "$SOCK2" 80)
out=$(requests 40) || fail "requests through both nodes failed: $out"
lab_log "both nodes: $out"
b1=$(conns "$SOCK1" 80) b2=$(conns "$SOCK2" 80)
lab_log "connections: node 1 +$((b1 - a1)), node 2 +$((b2 - a2))"
((b1 > a1 && b2 > a2)) || fail "flows did not spread over both nodes"

# 2. Drain node 1: withdrawn at the router; new flows to node 2 only; nothing fails.
hold_start 1
"$ULVSADM_BIN" --socket "$SOCK1" drain || fail "ulvsadm drain failed"
if ms=$(wait_nexthops "203.0.113.11" 5); then
    lab_log "drain: the router withdrew node 1 in $ms ms"
else
    fail "drain: the router still has '$(nexthops)'"
fi
st=$(timeout 3 "$ULVSADM_BIN" --socket "$SOCK1" status)
grep -q "^  $VIP withdrawn (draining), drained$" <<<"$st" ||
    fail "ulvsadm status does not show the drain: $st"
m=$(timeout 3 ip netns exec "$NS_LB1" curl -s --max-time 2 http://127.0.0.1:9145/metrics)
grep -q "^ulvs_vip_drained{vip=\"$VIP\"} 1$" <<<"$m" || fail "/metrics does not show the drain"
grep -q "^ulvs_vip_announced{vip=\"$VIP\",state=\"draining\"} 0$" <<<"$m" ||
    fail "/metrics does not show the VIP withdrawn"
a1=$(conns "$SOCK1" 80) a2=$(conns "$SOCK2" 80)
out=$(requests 20) || fail "requests while node 1 is drained failed: $out"
b1=$(conns "$SOCK1" 80) b2=$(conns "$SOCK2" 80)
lab_log "drained: $out; node 1 +$((b1 - a1)), node 2 +$((b2 - a2))"
((b1 == a1 && b2 == a2 + 20)) || fail "new flows still reached node 1 while drained"
"$ULVSADM_BIN" --socket "$SOCK1" undrain || fail "ulvsadm undrain failed"
if ms=$(wait_nexthops "203.0.113.10 203.0.113.11" 5); then
    lab_log "undrain: node 1 back at the router in $ms ms"
else
    fail "undrain: the router has '$(nexthops)'"
fi
a1=$(conns "$SOCK1" 80)
out=$(requests 30) || fail "requests after undrain failed: $out"
b1=$(conns "$SOCK1" 80)
((b1 > a1)) || fail "node 1 got no new flow after undrain"
hold_stop 1 0
lab_log "node 2 picked up $(sloppy "$NS_LB2") flows mid-stream so far (sloppy)"

# 2b. Node 1 loses every real server (weight 0 here: health checks would take them from node 2
# as well, which shares them): withdrawn as when drained, back with its servers.
weights() {
    local w="$1" port rs
    for port in 80 7000; do
        for rs in 198.51.100.11 198.51.100.12 198.51.100.13; do
            echo "-e -t $VIP:$port -r $rs:$port -g -w $w"
        done
    done | timeout 5 "$ULVSADM_BIN" --socket "$SOCK1" -R || fail "ulvsadm -R (weights $w) failed"
}
weights 0
if ms=$(wait_nexthops "203.0.113.11" 5); then
    lab_log "no real server: the router withdrew node 1 in $ms ms"
else
    fail "no real server on node 1: the router still has '$(nexthops)'"
fi
out=$(requests 10) || fail "requests while node 1 has no server failed: $out"
weights 1
wait_nexthops "203.0.113.10 203.0.113.11" 5 >/dev/null ||
    fail "servers back on node 1: the router has '$(nexthops)'"

# 3. Kill node 1: BFD, then long-lived connections go on through node 2.
e1=$(conns "$SOCK1" 7000)
hold_start 2
sleep 0.5
e1b=$(conns "$SOCK1" 7000)
((e1b > e1)) || fail "none of the long-lived connections went through node 1"
s2=$(sloppy "$NS_LB2")
pid1="$(ulvsd_child_pid "$ULVSD_PID")"
lab_log "killing node 1's ulvsd (pid $pid1) with SIGKILL"
kill -KILL "$pid1"
if ms=$(wait_nexthops "203.0.113.11" 3); then
    lab_log "kill: the router dropped node 1 in $ms ms (BFD)"
    ((ms <= 1000)) || fail "the router took $ms ms to drop the dead node (limit 1000 ms)"
else
    fail "kill: the router still has '$(nexthops)'"
fi
sleep 2
hold_stop 2 1
s2b=$(sloppy "$NS_LB2")
lab_log "node 2 picked up $((s2b - s2)) of node 1's long-lived connections (sloppy)"
((s2b > s2)) || fail "node 2 did not pick up node 1's connections"
out=$(requests 10) || fail "requests after node 1 died failed: $out"

if ((ok)); then
    lab_log "ecmp_bgp: PASS ($SECONDS s)"
    exit 0
fi
lab_log "ecmp_bgp: FAIL"
exit 1
