#!/usr/bin/env bash
# Lab scenario: keepalived-style health checks through the kernel exception path (TAPs).
# ulvsd runs a config of four NAT services on 203.0.113.101 (ports 80..83), real servers
# rs1..rs3 on :9000 served by tests/lab/health_server.py (controllable), timers
# delay_loop 500ms, connect_timeout 1s, retry 1, delay_before_retry 1s:
#   :80 hc-http     http check GET /health, status [200]; notify scripts on rs1
#   :81 hc-inhibit  tcp check, inhibit_on_failure
#   :82 hc-quorum   two checkers (http with two url blocks, GET /health and GET /, and tcp),
#                   quorum 3, sorry_server rs3:8080, quorum_up/quorum_down scripts
#   :83 hc-misc     misc check on rs1: a script that fails while a flag file exists
# rs1 fails in turn by stopping, answering 500, and accepting without answering; each time:
#   - within (retry+1) x delay_before_retry + connect_timeout + 1 s = 4 s it leaves `ulvsadm -Ln`
#     of hc-http and gets no new connections; hc-quorum switches to the sorry server;
#     hc-inhibit shows it with weight 0 when stopped (tcp still passes for 500 and hang);
#   - after it comes back it is listed (and answers) again within delay_loop + connect_timeout
#     + 1 s (one success), and hc-quorum switches back.
# The misc check follows its flag file; the notify scripts (quorum ones too) ran; ping to the
# appliance works; `ulvsadm health` shows each checker of hc-quorum's servers.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/health_lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/health_lib.bash"
lab_bound 150 "$@"
lab_trap

VIP=203.0.113.101
LAB_VIP="$VIP" # ulvsd_wait_ready pings it
RS=(198.51.100.11 198.51.100.12 198.51.100.13)
FAIL_BOUND_MS=4000 # (retry+1) x delay_before_retry + connect_timeout + 1 s
BACK_BOUND_MS=2500 # delay_loop + connect_timeout + 1 s

lab_up
mkdir -p "$LAB_RUN_DIR"
CFG="$LAB_RUN_DIR/health.yaml"
NOTIFY_LOG="$LAB_RUN_DIR/health-notify.log"
MISC_FLAG="$LAB_RUN_DIR/health-misc-down"
: >"$NOTIFY_LOG"
rm -f "$MISC_FLAG"

timers="delay_loop: 500ms, retry: 1, delay_before_retry: 1s"
servers() { # servers EXTRA: the three real servers on :9000 with EXTRA keys
    local a
    for a in "${RS[@]}"; do
        echo "      - {address: $a, port: 9000, weight: 1$1}"
    done
}
{
    sed -n '/^dpdk:/,/^connections:/p' "$ROOT/config/lab.yaml"
    cat <<YAML
virtual_servers:
  - name: hc-http
    address: $VIP
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    health_check: {type: http, path: /health, status: [200], connect_timeout: 1s, $timers}
    real_servers:
      - {address: ${RS[0]}, port: 9000, weight: 1, notify: {up: "sh -c 'echo up >> $NOTIFY_LOG'", down: "sh -c 'echo down >> $NOTIFY_LOG'"}}
      - {address: ${RS[1]}, port: 9000, weight: 1}
      - {address: ${RS[2]}, port: 9000, weight: 1}
  - name: hc-inhibit
    address: $VIP
    port: 81
    protocol: tcp
    scheduler: rr
    forwarding: nat
    health_check: {type: tcp, connect_timeout: 1s, $timers}
    real_servers:
$(servers ", inhibit_on_failure: true")
  - name: hc-quorum
    address: $VIP
    port: 82
    protocol: tcp
    scheduler: rr
    forwarding: nat
    quorum: 3
    hysteresis: 0
    sorry_server: {address: ${RS[2]}, port: 8080}
    notify: {quorum_up: "sh -c 'echo quorum_up >> $NOTIFY_LOG'", quorum_down: "sh -c 'echo quorum_down >> $NOTIFY_LOG'"}
    health_checks:
      - {type: http, urls: [{path: /health}, {path: /, status: [200]}], connect_timeout: 1s, $timers}
      - {type: tcp, connect_timeout: 1s, $timers}
    real_servers:
$(servers "")
  - name: hc-misc
    address: $VIP
    port: 83
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: ${RS[0]}, port: 9000, weight: 1, health_check: {type: misc, path: "test ! -e $MISC_FLAG", timeout: 1s, $timers}}
management:
  socket: $LAB_SOCKET
logging: {level: info}
YAML
} >"$CFG"
LAB_CONFIG="$CFG"

# The controllable servers, one per real server namespace.
start_hs() { # start_hs INDEX
    local name="${LAB_SERVERS[$1]}"
    rm -f "$LAB_RUN_DIR/hs-$name.pid"
    timeout 5 ip netns exec "ulvs-$name" setsid -f /usr/bin/python3 "$LAB_DIR/health_server.py" \
        "$name" --port 9000 --mode-file "$LAB_RUN_DIR/hs-$name.mode" \
        --pidfile "$LAB_RUN_DIR/hs-$name.pid" </dev/null >>"$LAB_RUN_DIR/hs-$name.log" 2>&1 9>&-
    for _ in $(seq 50); do
        [[ -s "$LAB_RUN_DIR/hs-$name.pid" ]] && return 0
        sleep 0.1
    done
    lab_err "health_server.py for $name did not start"
    return 1
}
stop_hs() { kill -KILL "$(head -n1 "$LAB_RUN_DIR/hs-${LAB_SERVERS[$1]}.pid")"; }
set_mode() { echo "$2" >"$LAB_RUN_DIR/hs-${LAB_SERVERS[$1]}.mode"; }
for i in 0 1 2; do
    set_mode "$i" ok
    start_hs "$i"
done

ulvsd_start
ulvsd_wait_ready

listing() { adm -Ln -t "$VIP:$1" 2>/dev/null || true; }
has_rs() { grep -q -- "-> $2:$3 " <<<"$(listing "$1")"; }
lacks_rs() { ! has_rs "$@"; }
all_up() { [[ "$(adm health | grep -c ' up (')" == 10 ]]; }
# answers PORT N: the names of N answers from VIP:PORT.
answers() {
    local i out=()
    for ((i = 0; i < $2; i++)); do
        out+=("$(timeout 5 ip netns exec "$LAB_NS_CLIENT" curl -s --max-time 2 "http://$VIP:$1/" ||
            echo FAILED)")
    done
    echo "${out[*]}"
}

ok=1

if ! t="$(wait_for 5000 all_up)"; then
    lab_err "not every real server came up"
    adm health >&2 || true
    ok=0
fi
adm health || true
check "ulvsadm health shows both checkers of hc-quorum's rs1" \
    grep -q "^hc-quorum ${RS[0]}:9000 up (http :9000 /health / up; tcp :9000 up)" <<<"$(adm health)"
check "ping to the appliance's lan address from rs1" \
    timeout 5 ip netns exec ulvs-rs1 ping -c1 -W1 -q 198.51.100.1
check "ping to the VIP from the client" \
    timeout 5 ip netns exec "$LAB_NS_CLIENT" ping -c1 -W1 -q "$VIP"
a="$(answers 80 3)"
check "hc-http balances over rs1..rs3 ($a)" grep -q "rs1" <<<"$a"

# rs_weight PORT RIP W: the hc-* service on PORT lists RIP:9000 with weight W.
rs_weight() { grep -qE -- "-> $2:9000 +Masq +$3 " <<<"$(listing "$1")"; }

for mode in stop 500 hang; do
    lab_log "--- rs1 fails: $mode"
    if [[ "$mode" == stop ]]; then stop_hs 0; else set_mode 0 "$mode"; fi
    t="$(wait_for "$FAIL_BOUND_MS" lacks_rs 80 "${RS[0]}" 9000)" || true
    within "rs1 ($mode) left hc-http" "$FAIL_BOUND_MS" "$t"
    listing 80
    a="$(answers 80 6)"
    check "no new connection to rs1 while down ($a)" bash -c "! grep -q rs1 <<<'$a'"
    t="$(wait_for 1500 has_rs 82 "${RS[2]}" 8080)" || true
    check "hc-quorum switched to the sorry server" has_rs 82 "${RS[2]}" 8080
    check "hc-quorum lists only the sorry server" lacks_rs 82 "${RS[1]}" 9000
    a="$(answers 82 2)"
    check "the sorry server answers hc-quorum ($a)" [ "$a" == "rs3 rs3" ]
    metrics="$(timeout 5 ip netns exec "$LAB_NS_LB" curl -s --max-time 2 http://127.0.0.1:9145/metrics || true)"
    check "metrics: ulvs_real_server_up of rs1 in hc-http is 0" \
        grep -q "^ulvs_real_server_up{virtual_server=\"hc-http\".*address=\"${RS[0]}\".*} 0" <<<"$metrics"
    if [[ "$mode" == hang ]]; then # tcp still connects: one checker down, the other up
        q="^ulvs_real_server_check_up{virtual_server=\"hc-quorum\".*address=\"${RS[0]}\".*"
        check "metrics: hc-quorum's rs1 http checker is 0" \
            grep -q "${q}check=\"http :9000 /health /\"} 0" <<<"$metrics"
        check "metrics: hc-quorum's rs1 tcp checker is 1" \
            grep -q "${q}check=\"tcp :9000\"} 1" <<<"$metrics"
    fi
    if [[ "$mode" == stop ]]; then
        # hc-inhibit's own tcp check runs on its own clock: give it the same bound.
        wait_for "$FAIL_BOUND_MS" rs_weight 81 "${RS[0]}" 0 >/dev/null || true
        check "hc-inhibit keeps rs1 at weight 0" rs_weight 81 "${RS[0]}" 0
    else
        check "hc-inhibit (tcp) keeps rs1 at weight 1" \
            grep -qE -- "-> ${RS[0]}:9000 +Masq +1 " <<<"$(listing 81)"
    fi
    if [[ "$mode" == stop ]]; then start_hs 0; else set_mode 0 ok; fi
    # After a hang the probe in flight first times out (connect_timeout).
    bound=$BACK_BOUND_MS
    t="$(wait_for "$bound" has_rs 80 "${RS[0]}" 9000)" || true
    within "rs1 back in hc-http" "$bound" "$t"
    a="$(answers 80 3)"
    check "rs1 gets new connections again ($a)" grep -q rs1 <<<"$a"
    t="$(wait_for 1500 has_rs 82 "${RS[0]}" 9000)" || true
    check "hc-quorum switched back from the sorry server" lacks_rs 82 "${RS[2]}" 8080
    wait_for "$BACK_BOUND_MS" rs_weight 81 "${RS[0]}" 1 >/dev/null || true
    check "hc-inhibit lists rs1 at weight 1" rs_weight 81 "${RS[0]}" 1
done

lab_log "--- misc check"
touch "$MISC_FLAG"
t="$(wait_for "$FAIL_BOUND_MS" lacks_rs 83 "${RS[0]}" 9000)" || true
within "misc: rs1 left hc-misc" "$FAIL_BOUND_MS" "$t"
rm -f "$MISC_FLAG"
t="$(wait_for "$BACK_BOUND_MS" has_rs 83 "${RS[0]}" 9000)" || true
within "misc: rs1 back in hc-misc" "$BACK_BOUND_MS" "$t"

check "notify scripts ran (down and up, 3 times each)" \
    [ "$(grep -cx down "$NOTIFY_LOG")" == 3 -a "$(grep -cx up "$NOTIFY_LOG")" == 3 ]
check "quorum_down and quorum_up of hc-quorum ran 3 times each" \
    [ "$(grep -cx quorum_down "$NOTIFY_LOG")" == 3 -a "$(grep -cx quorum_up "$NOTIFY_LOG")" == 3 ]
adm health || true
curl_metrics="$(timeout 5 ip netns exec "$LAB_NS_LB" curl -s --max-time 2 http://127.0.0.1:9145/metrics || true)"
check "metrics report ulvs_real_server_up" grep -q '^ulvs_real_server_up{.*} 1' <<<"$curl_metrics"

ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0
if ((ok)); then
    lab_log "health_checks: PASS"
    exit 0
fi
ulvsd_log_tail
lab_log "health_checks: FAIL"
exit 1
