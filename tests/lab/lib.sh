#!/usr/bin/env bash
# Shared helpers for the lab scenarios (tests/lab/*.sh) and scripts/demo. Source it; do not
# run it. A scenario is:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   lab_bound 120 "$@"       # re-exec under timeout (bounded), take the lab lock
#   lab_trap                 # on any exit: stop ulvsd, scripts/lab down
#   lab_up
#   ulvsd_start && ulvsd_wait_ready
#   ... client_curl http://203.0.113.100/ ...
#
# Everything is bounded in time; ulvsd is stopped by its recorded pid (SIGTERM, SIGKILL 5 s
# later) and the lab's namespaces are always removed.
# shellcheck shell=bash

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$LAB_DIR/../.." && pwd)"
LAB_RUN_DIR="${ULVS_LAB_RUN_DIR:-/run/ulvs-lab}"
export ULVS_LAB_RUN_DIR="$LAB_RUN_DIR"

ULVSD_BIN="${ULVSD_BIN:-$ROOT/build/app/ulvsd}"
ULVSADM_BIN="${ULVSADM_BIN:-$ROOT/build/app/ulvsadm}"
LAB_CONFIG="${ULVS_LAB_CONFIG:-$ROOT/config/lab.yaml}"
LAB_SOCKET="/run/ulvs/lab.sock" # management.socket of config/lab.yaml
LAB_VIP="203.0.113.100"     # the DR service of config/lab.yaml
# shellcheck disable=SC2034 # used by the scenarios that source this file
LAB_VIP_NAT="203.0.113.101" # NAT: 203.0.113.101:80 -> real servers' :8080
# shellcheck disable=SC2034
LAB_VIP_TUN="203.0.113.102" # TUN
# shellcheck disable=SC2034
LAB_SERVERS=(rs1 rs2 rs3)
LAB_NS_LB="ulvs-lb"
LAB_NS_CLIENT="ulvs-client"
# Logs outlive the lab (scripts/lab down removes LAB_RUN_DIR): one per scenario.
LAB_LOG_DIR="${ULVS_LAB_LOG_DIR:-$ROOT/build/lab-logs}"
ULVSD_LOG="$LAB_LOG_DIR/ulvsd-$(basename "$0" .sh).log"
ULVSD_PIDFILE="$LAB_RUN_DIR/ulvsd.pid"
# ulvsd never outlives this (seconds); a scenario stops it long before.
ULVSD_MAX_RUNTIME="${ULVSD_MAX_RUNTIME:-300}"
ULVSD_READY_TIMEOUT="${ULVSD_READY_TIMEOUT:-20}"

lab_log() { echo "[$(date +%T)] $*"; }
lab_err() { echo "[$(date +%T)] error: $*" >&2; }

# lab_bound SECONDS "$@": run the calling scenario under `timeout` (once), so even a hung
# step cannot keep it alive; SIGTERM reaches the scenario, whose trap cleans up.
lab_bound() {
    local secs="$1"
    shift
    if [[ -z "${ULVS_LAB_BOUNDED:-}" ]]; then
        export ULVS_LAB_BOUNDED=1
        exec timeout --kill-after=20 "$secs" "$BASH" "$0" "$@"
    fi
    lab_lock
}

# The lab has fixed names: two scenarios at once (two shells, two engineers) would tear
# each other's namespaces down. Hold a lock for the scenario's lifetime (fd 9, released on
# exit); wait for it at most 60 s.
lab_lock() {
    exec 9>"${ULVS_LAB_LOCK:-/run/ulvs-lab.lock}"
    if ! flock -w 60 9; then
        lab_err "another lab scenario holds ${ULVS_LAB_LOCK:-/run/ulvs-lab.lock}"
        exit 1
    fi
}

lab_up() {
    timeout 60 "$ROOT/scripts/lab" up
}

lab_down() {
    timeout 60 "$ROOT/scripts/lab" down
}

# The pid of the process ulvsd runs as: the child of the timeout wrapper (ip netns exec
# execs ulvsd, so it keeps its pid).
ulvsd_child_pid() {
    local wrapper="$1"
    timeout 5 pgrep -P "$wrapper" 2>/dev/null | head -n1 || true
}

# Extra ulvsd arguments (after `-c FILE`) a scenario may set before ulvsd_start.
ULVSD_ARGS=()
ULVSD_PID=""
# Exit status of the last ulvsd_stop: 0 = clean stop. Read by the scenarios.
# shellcheck disable=SC2034
ULVSD_STATUS=""

# ulvsd_start: start ulvsd (with ULVSD_ARGS) in ulvs-lb in the background, log to ULVSD_LOG.
ulvsd_start() {
    if [[ ! -x "$ULVSD_BIN" ]]; then
        lab_err "$ULVSD_BIN not found: build it first (scripts/bootstrap)"
        return 1
    fi
    mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR" "$(dirname "$LAB_SOCKET")"
    lab_log "starting ulvsd -c $LAB_CONFIG ${ULVSD_ARGS[*]} (log: $ULVSD_LOG)"
    timeout --signal=TERM --kill-after=5 "$ULVSD_MAX_RUNTIME" \
        ip netns exec "$LAB_NS_LB" "$ULVSD_BIN" -c "$LAB_CONFIG" "${ULVSD_ARGS[@]}" \
        </dev/null >"$ULVSD_LOG" 2>&1 9>&- &
    ULVSD_PID=$!
    echo "$ULVSD_PID" >"$ULVSD_PIDFILE"
}

ulvsd_running() {
    [[ -n "${ULVSD_PID:-}" ]] && kill -0 "$ULVSD_PID" 2>/dev/null
}

ulvsd_log_tail() {
    if [[ -s "$ULVSD_LOG" ]]; then
        echo "--- last lines of $ULVSD_LOG" >&2
        tail -n 30 "$ULVSD_LOG" >&2
        echo "---" >&2
    fi
}

# Ready: the client reaches the VIP (ICMP echo, which ulvsd answers for VIPs it owns), or,
# after half the time without an echo reply, an HTTP request through it is answered (that
# request takes a turn of the scheduler, so it is only the fallback). Polled for at most
# ULVSD_READY_TIMEOUT seconds.
ulvsd_wait_ready() {
    local deadline=$((SECONDS + ULVSD_READY_TIMEOUT))
    local curl_from=$((SECONDS + ULVSD_READY_TIMEOUT / 2))
    while ((SECONDS < deadline)); do
        if ! ulvsd_running; then
            lab_err "ulvsd exited before it was ready"
            ulvsd_log_tail
            return 1
        fi
        if timeout 3 ip netns exec "$LAB_NS_CLIENT" ping -c1 -W1 -q "$LAB_VIP" >/dev/null 2>&1 ||
            { ((SECONDS >= curl_from)) && timeout 3 ip netns exec "$LAB_NS_CLIENT" \
                curl -s -o /dev/null --max-time 1 "http://$LAB_VIP/" 2>/dev/null; }; then
            lab_log "ulvsd ready (pid $(ulvsd_child_pid "$ULVSD_PID"))"
            return 0
        fi
        sleep 0.5
    done
    lab_err "ulvsd not ready after ${ULVSD_READY_TIMEOUT}s"
    ulvsd_log_tail
    return 1
}

# Stop ulvsd: SIGTERM to the wrapper (timeout passes it on), SIGKILL to both 5 s later.
# Sets ULVSD_STATUS to the exit status (0 = clean stop). Returns 0 even if it had to kill.
ulvsd_stop() {
    # shellcheck disable=SC2034
    ULVSD_STATUS=""
    local pid="${ULVSD_PID:-}" child i
    if [[ -z "$pid" && -s "$ULVSD_PIDFILE" ]]; then
        pid="$(head -n1 "$ULVSD_PIDFILE")"
    fi
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        child="$(ulvsd_child_pid "$pid")"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            lab_err "ulvsd did not stop within 5 s of SIGTERM: SIGKILL"
            [[ -n "$child" ]] && kill -KILL "$child" 2>/dev/null
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Our own child: collect its status (timeout reports the daemon's).
    if [[ "$pid" == "${ULVSD_PID:-}" ]]; then
        # shellcheck disable=SC2034
        ULVSD_STATUS=0
        # shellcheck disable=SC2034
        wait "$pid" 2>/dev/null || ULVSD_STATUS=$?
    fi
    rm -f "$ULVSD_PIDFILE"
    ULVSD_PID=""
    return 0
}

lab_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ulvsd_stop || true
    lab_down >/dev/null 2>&1 || lab_down || true
    exit "$rc"
}

# On every way out (normal exit, error, SIGINT/SIGTERM from lab_bound's timeout): stop
# ulvsd, take the lab down, keep the exit status.
lab_trap() {
    trap lab_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# client_curl URL: one HTTP request from the client namespace; prints the body.
client_curl() {
    timeout 5 ip netns exec "$LAB_NS_CLIENT" curl -sS --max-time 3 "$1"
}

# Print `ulvsadm -Ln --stats` when ulvsadm has been built (it is optional here).
lab_show_stats() {
    if [[ -x "$ULVSADM_BIN" ]]; then
        echo "\$ ulvsadm -Ln --stats"
        timeout 5 "$ULVSADM_BIN" --socket "$LAB_SOCKET" -Ln --stats ||
            lab_err "ulvsadm -Ln --stats failed"
    fi
}

# lab_rr_requests URL N NAMES...: N HTTP requests (curl, one connection each) from the
# client to URL, each answer printed as it arrives. True when every request was answered by a
# real server, each of NAMES equally often, in round-robin order (check_rr_rotation). The
# answers are left in LAB_ANSWERS.
LAB_ANSWERS=()
lab_rr_requests() {
    local url="$1" n="$2"
    shift 2
    local names=("$@") answers=() failed=0 ok=1 i body name count a
    for ((i = 1; i <= n; i++)); do
        if body="$(client_curl "$url" 2>&1)"; then
            body="${body%%$'\n'*}"
        else
            body="FAILED(${body//$'\n'/ })"
            failed=$((failed + 1))
        fi
        answers+=("$body")
        printf 'request %d -> %s\n' "$i" "$body"
    done
    # shellcheck disable=SC2034 # read by the scenarios
    LAB_ANSWERS=("${answers[@]}")
    if ((failed > 0)); then
        lab_err "$failed of $n requests to $url were not answered"
        ok=0
    fi
    for name in "${names[@]}"; do
        count=0
        for a in "${answers[@]}"; do
            [[ "$a" == "$name" ]] && count=$((count + 1))
        done
        if ((count != n / ${#names[@]})); then
            lab_err "$name answered $count times, expected $((n / ${#names[@]}))"
            ok=0
        fi
    done
    if ! check_rr_rotation "${#names[@]}" "${names[@]}" "${answers[@]}"; then
        lab_err "answers are not in round-robin order: ${answers[*]}"
        ok=0
    fi
    ((ok))
}

# lab_wrk URL [WRK ARGS...]: wrk from the client namespace (default -t2 -c50 -d10s), output
# shown. True when it ran, completed requests, and reported no socket error (connect, read,
# write, timeout) and no non-2xx/3xx response.
lab_wrk() {
    local url="$1" out rc=0 ok=1 reqs errs
    shift
    local args=("$@")
    ((${#args[@]} > 0)) || args=(-t2 -c50 -d10s)
    if ! command -v wrk >/dev/null; then
        lab_err "wrk is not installed (scripts/bootstrap installs it)"
        return 1
    fi
    lab_log "wrk ${args[*]} $url"
    out="$(timeout 60 ip netns exec "$LAB_NS_CLIENT" wrk "${args[@]}" "$url" 2>&1)" || rc=$?
    echo "$out"
    if ((rc != 0)); then
        lab_err "wrk exited with status $rc"
        ok=0
    fi
    reqs="$(awk '/ requests in / { print $1 }' <<<"$out")"
    if ! [[ "$reqs" =~ ^[0-9]+$ ]] || ((reqs == 0)); then
        lab_err "wrk completed no request"
        ok=0
    fi
    errs="$(sed -n 's/.*Socket errors: *//p' <<<"$out")"
    if [[ -n "$errs" ]] && grep -qE '[1-9]' <<<"$errs"; then
        lab_err "wrk socket errors: $errs"
        ok=0
    fi
    if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
        lab_err "wrk got non-2xx responses: $(grep 'Non-2xx' <<<"$out")"
        ok=0
    fi
    ((ok))
}

# lab_ulvsd_stopped_cleanly: after ulvsd_stop, true when ulvsd exited 0 on SIGTERM.
lab_ulvsd_stopped_cleanly() {
    if [[ "$ULVSD_STATUS" != 0 ]]; then
        lab_err "ulvsd exited with status $ULVSD_STATUS on SIGTERM, expected 0"
        return 1
    fi
}

# check_rr_rotation NAMES... ANSWERS...: true when ANSWERS (a multiple of ${#NAMES} long)
# cycle through every name once per round in one fixed order, each round the same: what rr
# with equal weights does. The order may start at any server, and is accepted in either
# direction (IPVS keeps real servers newest-first, so a faithful rr visits them in reverse
# order of addition). Usage: check_rr_rotation 3 rs1 rs2 rs3 a1 a2 ... an
check_rr_rotation() {
    local k="$1"
    shift
    local names=("${@:1:k}")
    local answers=("${@:k+1}")
    local n=${#answers[@]} i j
    ((n > 0 && n % k == 0)) || return 1
    # The first round holds every name exactly once.
    for ((i = 0; i < k; i++)); do
        for ((j = i + 1; j < k; j++)); do
            [[ "${answers[i]}" != "${answers[j]}" ]] || return 1
        done
        local found=0 name
        for name in "${names[@]}"; do
            [[ "${answers[i]}" == "$name" ]] && found=1
        done
        ((found)) || return 1
    done
    # Every later answer repeats the one k earlier.
    for ((i = k; i < n; i++)); do
        [[ "${answers[i]}" == "${answers[i - k]}" ]] || return 1
    done
    return 0
}
