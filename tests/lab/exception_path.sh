#!/usr/bin/env bash
# Lab scenario: the kernel exception path (issue 13). Its own small lab, namespaces tap-*:
#
#   tap-client  cl0 203.0.113.50/25 ─────────── lbwan  tap-lb (ulvsd; port wan 203.0.113.10/25)
#   tap-rs1     eth0 198.51.100.11/24 ┐         lblan  tap-lb (port lan 198.51.100.1/24)
#                                     ├─ br0 tap-sw ┘
#   tap-rtr     eth0 198.51.100.254/24┘   eth1 192.0.2.1/24 ── eth0 192.0.2.11/24  tap-rs2
#
# In tap-lb, on the host side of the TAPs, a listener on :22 (a stand-in for sshd) and ulvsd's
# own metrics on 0.0.0.0:9145. ulvsd runs with a fake `ip` first in its PATH that records its
# calls and sleeps TAP_LAB_IP_SLEEP s (default 20: what a hung `ip` does to a control loop that
# waits for it) before running the real one.
#   1. A health check of rs1 (through lan) comes up; `ip` was never run; a TCP connect from the
#      client to 203.0.113.10 on :22 and :9145 is not answered, and the refusals are counted
#      (ulvsadm status, /metrics).
#   2. A reload adds a route 192.0.2.0/24 via 198.51.100.254 and a checked real server
#      192.0.2.11, reachable only through it: it comes up. (Port addresses cannot change
#      without a restart: the manager refuses such a reload.)
#   3. A reload adds exception_path.allow for :22 and :9145 from 203.0.113.0/25 on wan: the port
#      gets its TAP, both connects are answered; a reload without the rule closes them again.
set -euo pipefail
export ULVS_LAB_RUN_DIR=/run/tap-lab
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/health_lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/health_lib.bash"
lab_bound 150 "$@"

NS=(tap-lb tap-client tap-sw tap-rs1 tap-rtr tap-rs2)
LAB_NS_LB=tap-lb
LAB_NS_CLIENT=tap-client
LAB_SOCKET=/run/ulvs/tap-lab.sock
LAB_VIP=203.0.113.10 # ulvsd_wait_ready pings the appliance's wan address
WAN_ADDR=203.0.113.10
REAL_ULVSD="$ULVSD_BIN"
IPX=/usr/sbin/ip # never the fake one
SAW_IP="$LAB_RUN_DIR/fake-ip.calls"

tap_down() {
    local f pid ns
    for f in "$LAB_RUN_DIR"/*.pid; do
        [[ -e "$f" ]] || continue
        pid="$(head -n1 "$f" 2>/dev/null || true)"
        if [[ "$pid" =~ ^[0-9]+$ ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    for ns in "${NS[@]}"; do
        timeout 10 "$IPX" netns del "$ns" 2>/dev/null || true
    done
}
tap_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ulvsd_stop || true
    tap_down
    rm -rf "$LAB_RUN_DIR"
    exit "$rc"
}
trap tap_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nsx() {
    local ns="$1"
    shift
    timeout 10 "$IPX" netns exec "$ns" "$@"
}
veth() { # veth NAME NS PEER PEER_NS
    timeout 10 "$IPX" -n "$2" link add "$1" type veth peer name "$3" netns "$4"
    nsx "$2" ethtool -K "$1" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    nsx "$4" ethtool -K "$3" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
}

tap_up() {
    local ns
    tap_down
    mkdir -p "$LAB_RUN_DIR" "$(dirname "$LAB_SOCKET")"
    for ns in "${NS[@]}"; do
        timeout 10 "$IPX" netns add "$ns"
        nsx "$ns" "$IPX" link set lo up
        nsx "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    veth cl0 tap-client lbwan tap-lb
    veth lblan tap-lb sw-lb tap-sw
    veth eth0 tap-rs1 sw-rs1 tap-sw
    veth eth0 tap-rtr sw-rtr tap-sw
    veth eth1 tap-rtr eth0 tap-rs2
    nsx tap-sw "$IPX" link add br0 type bridge
    for ns in sw-lb sw-rs1 sw-rtr; do
        nsx tap-sw "$IPX" link set "$ns" master br0 up
    done
    nsx tap-sw "$IPX" link set br0 up
    nsx tap-lb "$IPX" link set lbwan up
    nsx tap-lb "$IPX" link set lblan up
    # ulvsd reads the ports with af_packet, but tap-lb's own IP stack sees the same frames and
    # accepts any local address on any interface: once a TAP holds 203.0.113.10, a SYN on
    # lbwan would reach the listener without passing ulvsd's filter at all. Strict reverse-path
    # filtering on the veths drops those (the way back to a peer is the TAP, not the veth), and
    # no ARP there: as with a DPDK-owned NIC, the kernel sees only what comes through the TAPs.
    for dev in lbwan lblan; do
        nsx tap-lb sysctl -q -w "net.ipv4.conf.$dev.rp_filter=1"
        nsx tap-lb "$IPX" link set "$dev" arp off
    done
    nsx tap-client "$IPX" addr add 203.0.113.50/25 dev cl0
    nsx tap-client "$IPX" link set cl0 up
    nsx tap-rs1 "$IPX" addr add 198.51.100.11/24 dev eth0
    nsx tap-rs1 "$IPX" link set eth0 up
    nsx tap-rtr "$IPX" addr add 198.51.100.254/24 dev eth0
    nsx tap-rtr "$IPX" addr add 192.0.2.1/24 dev eth1
    nsx tap-rtr "$IPX" link set eth0 up
    nsx tap-rtr "$IPX" link set eth1 up
    nsx tap-rtr sysctl -q -w net.ipv4.ip_forward=1
    nsx tap-rs2 "$IPX" addr add 192.0.2.11/24 dev eth0
    nsx tap-rs2 "$IPX" link set eth0 up
    nsx tap-rs2 "$IPX" route add default via 192.0.2.1
    local tag
    for ns in rs1 rs2; do
        tag="http-$ns"
        nsx "tap-$ns" setsid -f /usr/bin/python3 "$LAB_DIR/http_name_server.py" "$ns" \
            --port 9000 --pidfile "$LAB_RUN_DIR/$tag.pid" </dev/null \
            >>"$LAB_RUN_DIR/$tag.log" 2>&1 9>&-
    done
    # The stand-in for sshd, on every address of tap-lb (so on the TAPs' too).
    cat >"$LAB_RUN_DIR/listener.py" <<'PY'
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22))
s.listen(16)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-tap-lab\r\n")
    c.close()
PY
    nsx tap-lb setsid -f /usr/bin/python3 "$LAB_RUN_DIR/listener.py" "$LAB_RUN_DIR/ssh.pid" \
        </dev/null >>"$LAB_RUN_DIR/ssh.log" 2>&1 9>&-
    for tag in http-rs1 http-rs2 ssh; do
        for _ in $(seq 50); do
            [[ -s "$LAB_RUN_DIR/$tag.pid" ]] && break
            sleep 0.1
        done
        [[ -s "$LAB_RUN_DIR/$tag.pid" ]] || { lab_err "$tag did not start"; return 1; }
    done
    # ulvsd's PATH starts with a fake `ip`: it notes each call, then hangs 20 s.
    mkdir -p "$LAB_RUN_DIR/fakebin"
    cat >"$LAB_RUN_DIR/fakebin/ip" <<SH
#!/bin/sh
echo "ip \$*" >>"$SAW_IP"
sleep ${TAP_LAB_IP_SLEEP:-20}
exec $IPX "\$@"
SH
    chmod +x "$LAB_RUN_DIR/fakebin/ip"
    : >"$SAW_IP"
    cat >"$LAB_RUN_DIR/ulvsd" <<SH
#!/bin/sh
PATH="$LAB_RUN_DIR/fakebin:\$PATH" exec "$REAL_ULVSD" "\$@"
SH
    chmod +x "$LAB_RUN_DIR/ulvsd"
    ULVSD_BIN="$LAB_RUN_DIR/ulvsd"
}

CFG="$LAB_RUN_DIR/exception.yaml"
LAB_CONFIG="$CFG"
# alpha: servers start down, so "up" means a check passed.
timers="delay_loop: 500ms, connect_timeout: 1s, retry: 1, delay_before_retry: 500ms"
# write_config STEP: 1 the start, 2 + the route and a server behind it, 3 + allow.
write_config() {
    local routes="[]" allow="" more=""
    if (($1 >= 2)); then
        routes="[{prefix: 192.0.2.0/24, via: 198.51.100.254}]"
        more="  - name: web2
    address: 203.0.113.100
    port: 81
    protocol: tcp
    scheduler: rr
    forwarding: nat
    alpha: true
    health_check: {type: http, path: /, $timers}
    real_servers:
      - {address: 192.0.2.11, port: 9000}"
    fi
    if (($1 == 3)); then
        allow="exception_path:
  allow: [{port: wan, protocol: tcp, ports: [22, 9145], sources: [203.0.113.0/25]}]"
    fi
    cat >"$CFG" <<YAML
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "tap-lab"]
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_af_packet0,iface=lbwan", addresses: [$WAN_ADDR/25]}
  - {name: lan, device: "net_af_packet1,iface=lblan", addresses: [198.51.100.1/24]}
routes: $routes
connections: {max: 65536}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    alpha: true
    health_check: {type: http, path: /, $timers}
    real_servers:
      - {address: 198.51.100.11, port: 9000}
$more
$allow
management: {socket: $LAB_SOCKET, metrics: "0.0.0.0:9145"}
logging: {level: info}
YAML
}

# From the client: the banner of :22, the metrics page of :9145 (empty when not answered).
ssh_banner() {
    nsx tap-client timeout 3 bash -c "exec 3<>/dev/tcp/$WAN_ADDR/22 && head -c 15 <&3" \
        2>/dev/null || true
}
metrics_from_client() {
    nsx tap-client curl -s --max-time 2 "http://$WAN_ADDR:9145/metrics" 2>/dev/null |
        head -c 200000 || true
}
answered() { [[ -n "$("$@")" ]]; }
not_answered() { [[ -z "$("$@")" ]]; }
server_up() { adm health 2>/dev/null | grep -qE "$1:9000 .*up"; }
not_listed() { ! adm health 2>/dev/null | grep -qF "$1:9000"; }
status_counter() { # status_counter NAME: its value in `ulvsadm status`
    adm status 2>/dev/null | grep -oE "$1 [0-9]+" | awk '{ print $2 }' || true
}
reload() {
    local out
    out="$(adm reload 2>&1)" || { lab_err "reload refused: $out"; ok=0; }
}

ok=1
tap_up
write_config 1
ulvsd_start
ulvsd_wait_ready || ok=0

lab_log "--- 1. checks through lan; nothing else reaches the kernel"
t="$(wait_for 4000 server_up 198.51.100.11)" || true
within "rs1's check is up" 4000 "$t"
check "the fake ip was never run by ulvsd" [ ! -s "$SAW_IP" ]
no_wan_tap() { ! "$IPX" -n tap-lb link show ulvs-wan >/dev/null 2>&1; }
check "no TAP on wan yet (no check through it, no rule)" no_wan_tap
check "the listener on :22 answers inside tap-lb" \
    nsx tap-lb bash -c "exec 3<>/dev/tcp/127.0.0.1/22 && head -c 15 <&3 | grep -q SSH"
check "client -> $WAN_ADDR:22 is not answered" not_answered ssh_banner
check "client -> $WAN_ADDR:9145 is not answered" not_answered metrics_from_client
refused="$(status_counter exception_refused_packets)"
check "ulvsadm status counts the refused packets (${refused:-none})" [ "${refused:-0}" -gt 0 ]
m="$(nsx tap-lb curl -s --max-time 2 http://127.0.0.1:9145/metrics || true)"
check "metrics: ulvs_exception_refused_packets_total > 0" \
    grep -qE '^ulvs_exception_refused_packets_total [1-9]' <<<"$m"
check "metrics: ulvs_exception_check_replies_total > 0" \
    grep -qE '^ulvs_exception_check_replies_total [1-9]' <<<"$m"

lab_log "--- 2. reload: + route 192.0.2.0/24 via 198.51.100.254"
write_config 2
reload
t="$(wait_for 4000 server_up 192.0.2.11)" || true
within "192.0.2.11 (only through the new route) is up" 4000 "$t"
nsx tap-lb "$IPX" route || true

lab_log "--- 3. reload: exception_path.allow :22 and :9145 on wan"
write_config 3
reload
t="$(wait_for 3000 answered ssh_banner)" || true
within "client -> $WAN_ADDR:22 answered once allowed" 3000 "$t"
check "client -> $WAN_ADDR:9145 answered once allowed" \
    grep -q '^ulvs_exception_allowed_packets_total' <<<"$(metrics_from_client)"
check "wan got its TAP" nsx tap-lb "$IPX" link show ulvs-wan
check "health checks still up" server_up 198.51.100.11
write_config 2
reload
sleep 0.5
check "a reload without the rule closes :22 again" not_answered ssh_banner
lab_log "--- 4. a reload without the route: it leaves the kernel"
write_config 1
reload
route_gone() { ! "$IPX" -n tap-lb route show 192.0.2.0/24 | grep -q via; }
t="$(wait_for 1000 route_gone)" || true
within "the route is gone from the kernel" 1000 "$t"
check "the server behind it is no longer checked" not_listed 192.0.2.11
check "the fake ip was never run by ulvsd" [ ! -s "$SAW_IP" ]
adm status || true

ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0
if ((ok)); then
    lab_log "exception_path: PASS"
    exit 0
fi
ulvsd_log_tail
cat "$SAW_IP" >&2 2>/dev/null || true
lab_log "exception_path: FAIL"
exit 1
