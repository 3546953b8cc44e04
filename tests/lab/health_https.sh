#!/usr/bin/env bash
# Lab scenario: the https and udp health checkers (issue 7) through the kernel exception path.
# ulvsd runs two NAT services on 203.0.113.102 with timers delay_loop 500ms, connect_timeout 1s,
# retry 1, delay_before_retry 1s:
#   tcp :443 hc-https  https check GET /, status [200], on rs1 and rs2 :8443, each running
#                      `openssl s_server -www` with a throwaway certificate (CN=rs1, CN=rs2)
#   udp :53  hc-udp    udp check, payload "ulvs" in hex, require_reply, on rs1 and rs2 :9053
#                      running a small UDP echo
# For each, rs1's server is killed: rs1 must leave `ulvsadm -Ln` within (retry+1) x
# delay_before_retry + connect_timeout + 1 s = 4 s (and https clients then reach only rs2);
# restarted, it must be back within delay_loop + connect_timeout + 1 s (one success). The udp
# server then runs but stays silent: require_reply fails it by timeout, with no ICMP error.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/health_lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/health_lib.bash"
lab_bound 90 "$@"

VIP=203.0.113.102
LAB_VIP="$VIP" # ulvsd_wait_ready pings it
RS=(198.51.100.11 198.51.100.12)
FAIL_BOUND_MS=4000 # (retry+1) x delay_before_retry + connect_timeout + 1 s
BACK_BOUND_MS=2500 # delay_loop + connect_timeout + 1 s
declare -A PIDS=() # "https-0" / "udp-1" -> pid of a server we started

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    lab_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lab_up
mkdir -p "$LAB_RUN_DIR"
CFG="$LAB_RUN_DIR/health-https.yaml"
timers="connect_timeout: 1s, delay_loop: 500ms, retry: 1, delay_before_retry: 1s"
{
    sed -n '/^dpdk:/,/^connections:/p' "$ROOT/config/lab.yaml"
    cat <<YAML
virtual_servers:
  - name: hc-https
    address: $VIP
    port: 443
    protocol: tcp
    scheduler: rr
    forwarding: nat
    health_check: {type: https, path: /, status: [200], $timers}
    real_servers:
      - {address: ${RS[0]}, port: 8443, weight: 1}
      - {address: ${RS[1]}, port: 8443, weight: 1}
  - name: hc-udp
    address: $VIP
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: nat
    health_check: {type: udp, payload: "756c7673", require_reply: true, $timers}
    real_servers:
      - {address: ${RS[0]}, port: 9053, weight: 1}
      - {address: ${RS[1]}, port: 9053, weight: 1}
management:
  socket: $LAB_SOCKET
logging: {level: info}
YAML
} >"$CFG"
LAB_CONFIG="$CFG"

# Throwaway certificates, made now: nothing secret is kept in the tree.
for i in 0 1; do
    name="${LAB_SERVERS[$i]}"
    timeout 20 openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=$name" -days 1 \
        -keyout "$LAB_RUN_DIR/$name.key" -out "$LAB_RUN_DIR/$name.crt" 2>/dev/null
done
# The lab lock's fd 9 is closed in the servers: they must not hold the lock.
start_https() { # start_https INDEX
    local name="${LAB_SERVERS[$1]}"
    ip netns exec "ulvs-$name" openssl s_server -www -accept 8443 -quiet \
        -cert "$LAB_RUN_DIR/$name.crt" -key "$LAB_RUN_DIR/$name.key" \
        </dev/null >>"$LAB_RUN_DIR/https-$name.log" 2>&1 9>&- &
    PIDS[https-$1]=$!
}
start_udp() { # start_udp INDEX [silent]: echo every datagram back, or (silent) none
    local name="${LAB_SERVERS[$1]}"
    ip netns exec "ulvs-$name" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9053))
while True:
    d, a = s.recvfrom(2048)
    if sys.argv[1] != "silent":
        s.sendto(d, a)
' "${2:-echo}" </dev/null >>"$LAB_RUN_DIR/udp-$name.log" 2>&1 9>&- &
    PIDS[udp-$1]=$!
}
stop() { # stop KEY
    kill -KILL "${PIDS[$1]}" 2>/dev/null || true
    wait "${PIDS[$1]}" 2>/dev/null || true
    unset "PIDS[$1]"
}
for i in 0 1; do
    start_https "$i"
    start_udp "$i"
done

ulvsd_start
ulvsd_wait_ready

has_rs() { grep -q -- "-> $3:$4 " <<<"$(adm -Ln "$1" "$VIP:$2" 2>/dev/null || true)"; }
lacks_rs() { ! has_rs "$@"; }
all_up() { [[ "$(adm health | grep -c ' up (')" == 4 ]]; }
# The certificate names of N https answers through the VIP (each a new connection).
answers() {
    local i out=()
    for ((i = 0; i < $1; i++)); do
        out+=("$(timeout 5 ip netns exec "$LAB_NS_CLIENT" curl -skv --max-time 2 \
            "https://$VIP/" 2>&1 >/dev/null | grep -o 'CN=rs[0-9]' | head -n1 || echo FAILED)")
    done
    echo "${out[*]}"
}

ok=1

if ! t="$(wait_for 5000 all_up)"; then
    lab_err "not every real server came up"
    ok=0
fi
adm health || true
a="$(answers 4)"
check "hc-https balances over rs1 and rs2 ($a)" grep -q "rs1.*rs2\|rs2.*rs1" <<<"$a"

lab_log "--- https: s_server on rs1 killed"
stop https-0
t="$(wait_for "$FAIL_BOUND_MS" lacks_rs -t 443 "${RS[0]}" 8443)" || true
within "rs1 left hc-https" "$FAIL_BOUND_MS" "$t"
adm -Ln -t "$VIP:443" || true
a="$(answers 4)"
check "no new https connection to rs1 while down ($a)" [ "$a" == "CN=rs2 CN=rs2 CN=rs2 CN=rs2" ]
start_https 0
t="$(wait_for "$BACK_BOUND_MS" has_rs -t 443 "${RS[0]}" 8443)" || true
within "rs1 back in hc-https" "$BACK_BOUND_MS" "$t"
a="$(answers 4)"
check "rs1 gets new https connections again ($a)" grep -q "CN=rs1" <<<"$a"

lab_log "--- udp: echo on rs1 killed"
stop udp-0
t="$(wait_for "$FAIL_BOUND_MS" lacks_rs -u 53 "${RS[0]}" 9053)" || true
within "rs1 left hc-udp" "$FAIL_BOUND_MS" "$t"
adm -Ln -u "$VIP:53" || true
start_udp 0
t="$(wait_for "$BACK_BOUND_MS" has_rs -u 53 "${RS[0]}" 9053)" || true
within "rs1 back in hc-udp" "$BACK_BOUND_MS" "$t"
lab_log "--- udp: rs1 receives but never replies (require_reply: no ICMP, only silence)"
stop udp-0
start_udp 0 silent
t="$(wait_for "$FAIL_BOUND_MS" lacks_rs -u 53 "${RS[0]}" 9053)" || true
within "silent rs1 left hc-udp" "$FAIL_BOUND_MS" "$t"
stop udp-0
start_udp 0
t="$(wait_for "$BACK_BOUND_MS" has_rs -u 53 "${RS[0]}" 9053)" || true
within "rs1 back in hc-udp" "$BACK_BOUND_MS" "$t"
adm health || true

ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0
if ((ok)); then
    lab_log "health_https: PASS"
    exit 0
fi
ulvsd_log_tail
lab_log "health_https: FAIL"
exit 1
