#!/usr/bin/env bash
# Lab scenario: 1,000 real servers health-checked every second (README "Health checks", issue 7's
# measurement). rs1 listens on ports 10000..10999 (tests/lab/many_ports_server.py); ulvsd runs
# one NAT service with those 1,000 real servers. Phase 1 runs them without a health check,
# phase 2 (after `ulvsadm reload`) with a tcp check every 1 s. For each
# phase it prints the control lcore's CPU use (utime+stime of ulvsd's main thread, which is the
# control lcore); for phase 2 also how late probes started (start - due, from `ulvsadm health`).
# Passes when (at least 99% of) the 1,000 servers are up, client traffic is still answered, ping is answered, and
# the p99 start lateness stays under 100 ms.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 150 "$@"
lab_trap

VIP=203.0.113.101
LAB_VIP="$VIP" # ulvsd_wait_ready pings it
N=1000
FIRST=10000
WINDOW=${HEALTH_SCALE_WINDOW:-20}

lab_up
mkdir -p "$LAB_RUN_DIR"
CFG="$LAB_RUN_DIR/health-scale.yaml"
write_config() { # write_config HEALTH_LINE
    {
        sed -n '/^dpdk:/,/^connections:/p' "$ROOT/config/lab.yaml"
        echo "virtual_servers:"
        echo "  - {name: many, address: $VIP, port: 80, protocol: tcp, scheduler: rr,"
        echo "     forwarding: nat, $1 real_servers: ["
        for ((p = FIRST; p < FIRST + N; p++)); do
            echo "       {address: 198.51.100.11, port: $p},"
        done
        echo "     ]}"
        echo "  - {name: web, address: $VIP, port: 8080, protocol: tcp, scheduler: rr,"
        echo "     forwarding: nat, real_servers: [{address: 198.51.100.12, port: 8080}]}"
        echo "management: {socket: $LAB_SOCKET}"
        echo "logging: {level: info}"
    } >"$CFG"
}
write_config ""
LAB_CONFIG="$CFG"

timeout 5 ip netns exec ulvs-rs1 setsid -f /usr/bin/python3 "$LAB_DIR/many_ports_server.py" \
    "$FIRST" "$N" --pidfile "$LAB_RUN_DIR/many-ports.pid" </dev/null \
    >>"$LAB_RUN_DIR/many-ports.log" 2>&1 9>&-
for _ in $(seq 50); do
    [[ -s "$LAB_RUN_DIR/many-ports.pid" ]] && break
    sleep 0.1
done

ulvsd_start
ulvsd_wait_ready
daemon="$(ulvsd_child_pid "$ULVSD_PID")"
adm() { timeout 10 "$ULVSADM_BIN" --socket "$LAB_SOCKET" "$@"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$daemon/task/$daemon/stat"; }
hz="$(getconf CLK_TCK)"
# cpu_over SECONDS: percent of one core the control lcore used over SECONDS.
cpu_over() {
    local t0 c0 c1 t1
    t0="$(date +%s%3N)"
    c0="$(ticks)"
    sleep "$1"
    c1="$(ticks)"
    t1="$(date +%s%3N)"
    echo $(((c1 - c0) * 100000 / hz / (t1 - t0)))
}

ok=1
idle_cpu="$(cpu_over "$WINDOW")"
lab_log "phase 1, $N real servers without health checks: control lcore CPU ${idle_cpu}%"

# connect_timeout 3s, retry 2: this scenario measures scheduling, not failure detection, and
# must not flap when the lab host is loaded.
write_config "health_check: {type: tcp, delay_loop: 1s, connect_timeout: 3s, retry: 2, delay_before_retry: 1s},"
adm reload >/dev/null
sleep 2
adm health >/dev/null # resets the lateness samples
busy_cpu="$(cpu_over "$WINDOW")"
report="$(adm health)"
up="$(grep -c ' up (tcp' <<<"$report" || true)"
late="$(tail -n1 <<<"$report")"
lab_log "phase 2, $N real servers, tcp check every 1 s: control lcore CPU ${busy_cpu}%"
lab_log "$late"
lab_log "$up of $N real servers up"
((up >= N * 99 / 100)) || { # a loaded host may starve the one-thread listener briefly
    lab_err "expected at least 99% of $N up"
    ok=0
}
p99="$(sed -n 's/.*p99 \([0-9]*\) us.*/\1/p' <<<"$late")"
if ! [[ "$p99" =~ ^[0-9]+$ ]] || ((p99 > 100000)); then
    lab_err "p99 probe lateness '$p99' us is over 100 ms"
    ok=0
fi
probes="$(sed -n 's/.*request: \([0-9]*\),.*/\1/p' <<<"$late")"
if ! [[ "$probes" =~ ^[0-9]+$ ]] || ((probes < N * (WINDOW - 2))); then
    lab_err "only '$probes' probes in ${WINDOW}s, expected about $((N * WINDOW))"
    ok=0
fi
body="$(client_curl "http://$VIP:8080/" || true)"
[[ "$body" == rs2 ]] || {
    lab_err "client request during the checks answered '$body'"
    ok=0
}
timeout 5 ip netns exec "$LAB_NS_CLIENT" ping -c3 -i0.2 -W1 -q "$VIP" >/dev/null || {
    lab_err "ping to the VIP failed during the checks"
    ok=0
}

ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0
if ((ok)); then
    lab_log "health_scale: PASS ($N servers every 1 s: control lcore ${busy_cpu}% vs ${idle_cpu}% without checks; $late)"
    exit 0
fi
ulvsd_log_tail
lab_log "health_scale: FAIL"
exit 1
