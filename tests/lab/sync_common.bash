# Helpers of the connection sync scenarios (sync_dr.sh, sync_nat.sh); sourced after lib.sh and
# vrrp_common.bash. Not a scenario itself (run_all.sh runs *.sh only).
# shellcheck shell=bash

SYNC_PORT_STREAM=7000 # the long-lived sessions' service port (tests/lab/sync_stream.py)
SYNC_SESSIONS=20
SYNC_CLIENT_ADDRS=(203.0.113.131 203.0.113.132 203.0.113.133) # persistence: one client each
SYNC_STATE="$LAB_RUN_DIR/sync-sessions.json"
SYNC_STOP="$LAB_RUN_DIR/sync-sessions.stop"
SYNC_CLIENT_PID=""
SYNC_CLIENT_LOG="$LAB_LOG_DIR/sync-sessions.log"

# sync_servers_up: the echo server of sync_stream.py on every real server, port 7000.
sync_servers_up() {
    local rs i
    for rs in "${LAB_SERVERS[@]}"; do
        rm -f "$LAB_RUN_DIR/sync-$rs.pid"
        ip netns exec "ulvs-$rs" /usr/bin/python3 "$LAB_DIR/sync_stream.py" serve "$rs" \
            "$SYNC_PORT_STREAM" "$LAB_RUN_DIR/sync-$rs.pid" </dev/null >/dev/null 2>&1 9>&- &
    done
    for rs in "${LAB_SERVERS[@]}"; do
        for ((i = 0; i < 50; i++)); do
            [[ -s "$LAB_RUN_DIR/sync-$rs.pid" ]] && break
            sleep 0.1
        done
        [[ -s "$LAB_RUN_DIR/sync-$rs.pid" ]] || { fail "the echo server on $rs did not start"; return 1; }
    done
}

# sync_stop_all: what sync_servers_up and sync_clients_start started (by pid).
sync_stop_all() {
    local rs pid
    [[ -n "$SYNC_CLIENT_PID" ]] && kill "$SYNC_CLIENT_PID" 2>/dev/null
    SYNC_CLIENT_PID=""
    for rs in "${LAB_SERVERS[@]}"; do
        pid="$(cat "$LAB_RUN_DIR/sync-$rs.pid" 2>/dev/null || true)"
        [[ "$pid" =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
        rm -f "$LAB_RUN_DIR/sync-$rs.pid"
    done
    return 0
}

# sync_client_addrs_up: the extra client addresses the persistence check uses.
sync_client_addrs_up() {
    local a
    for a in "${SYNC_CLIENT_ADDRS[@]}"; do
        ip -n "$LAB_NS_CLIENT" addr add "$a/25" dev cl0
    done
}

# sync_clients_start VIP: SYNC_SESSIONS interactive sessions to VIP:7000 in the background.
sync_clients_start() {
    rm -f "$SYNC_STATE" "$SYNC_STOP"
    ip netns exec "$LAB_NS_CLIENT" /usr/bin/python3 "$LAB_DIR/sync_stream.py" clients \
        "$1:$SYNC_PORT_STREAM" "$SYNC_SESSIONS" "$SYNC_STATE" "$SYNC_STOP" \
        </dev/null >"$SYNC_CLIENT_LOG" 2>&1 9>&- &
    SYNC_CLIENT_PID=$!
}

# sync_sessions FIELD: "MIN_ECHOED ERRORS SERVERS" of the sessions' state file.
sync_sessions() {
    python3 - "$SYNC_STATE" <<'PY' 2>/dev/null || echo "-1 -1 -"
import json, sys
s = json.load(open(sys.argv[1]))
names = sorted({x["server"] for x in s})
print(min(x["echoed"] for x in s), sum(1 for x in s if x["error"]), ",".join(names) or "-")
PY
}

# sync_wait_echoed N SECONDS: true once every session has N lines echoed.
sync_wait_echoed() {
    local want="$1" deadline=$((SECONDS + $2)) min err names
    while ((SECONDS < deadline)); do
        read -r min err names < <(sync_sessions)
        ((err > 0)) && return 1
        ((min >= want)) && return 0
        sleep 0.2
    done
    return 1
}

# sync_clients_finish: stop the sessions, wait for their verdict; true when all were whole.
sync_clients_finish() {
    local rc=0
    touch "$SYNC_STOP"
    wait "$SYNC_CLIENT_PID" || rc=$?
    SYNC_CLIENT_PID=""
    cat "$SYNC_CLIENT_LOG"
    return "$rc"
}

# sync_conns SOCKET VIP PORT STATE: how many `ulvsadm -Lnc` lines of that node are connections
# to VIP:PORT in STATE.
sync_conns() {
    timeout 5 "$ULVSADM_BIN" --socket "$1" -Lnc 2>/dev/null |
        awk -v v="$2:$3" -v st="$4" '$3 == st && $5 == v { n++ } END { print n + 0 }'
}

# sync_persist_get VIP FROM: the real server that answers http://VIP/ for client address FROM.
sync_persist_get() {
    timeout 5 ip netns exec "$LAB_NS_CLIENT" curl -sS --max-time 3 --interface "$2" \
        "http://$1/" 2>&1 | head -n1
}

# sync_persist_before VIP: one request from each persistence client; fills SYNC_PERSIST.
SYNC_PERSIST=()
sync_persist_before() {
    local a body
    SYNC_PERSIST=()
    for a in "${SYNC_CLIENT_ADDRS[@]}"; do
        body="$(sync_persist_get "$1" "$a")"
        lab_log "persistent client $a -> $body"
        SYNC_PERSIST+=("$body")
    done
}

# sync_persist_after VIP: the same clients, in reverse order (a node that did not learn the
# templates would hand out its rr order afresh and split them differently), must reach the
# same real servers.
sync_persist_after() {
    local i a body
    for ((i = ${#SYNC_CLIENT_ADDRS[@]} - 1; i >= 0; i--)); do
        a="${SYNC_CLIENT_ADDRS[$i]}"
        body="$(sync_persist_get "$1" "$a")"
        lab_log "persistent client $a -> $body (before the failover: ${SYNC_PERSIST[$i]})"
        [[ "$body" == "${SYNC_PERSIST[$i]}" ]] ||
            fail "client $a reached '$body' after the failover, '${SYNC_PERSIST[$i]}' before"
    done
}
