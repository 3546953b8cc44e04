#!/usr/bin/env bash
# Lab scenario: VRRP interoperability with keepalived (Debian's, VRRP only), for VRRP v3 and v2.
# keepalived runs in ulvs-vrrp-ka, a namespace on the wan bridge (the appliance's wan L2), with
# the same virtual router (VRID 51, VIP 203.0.113.100, advert_int 1s; v2 with PASS auth). For
# each version:
#   (a) ulvsd priority 150, keepalived 100: ulvsd MASTER, keepalived stays BACKUP (its notify
#       script's state file, and the VIP is not on its interface); the client's pings to the VIP
#       are answered. Stop ulvsd (SIGTERM: priority 0): keepalived MASTER within
#       Master_Down_Interval + 1 s.
#   (b) ulvsd priority 50 while keepalived is MASTER: ulvsd stays BACKUP (`ulvsadm vrrp` names
#       keepalived's address as master); restarted with priority 200 and preempt it takes over
#       and keepalived goes back to BACKUP.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
lab_bound 150 "$@"

if ! command -v keepalived >/dev/null; then
    lab_err "keepalived is not installed (scripts/bootstrap installs it)"
    exit 1
fi

NS_KA="ulvs-vrrp-ka"
KA_ADDR="203.0.113.20"
KA_DIR="$LAB_RUN_DIR/vrrp-ka"
KA_PID=""

ka_stop() {
    vrrp_stop_pid "$KA_PID"
    KA_PID=""
}

vrrp_trap "$NS_KA" ka_stop

ka_up() {
    ip netns add "$NS_KA"
    ip -n "$NS_KA" link set lo up
    ip netns exec "$NS_KA" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
    ip -n ulvs-router link add rtka type veth peer name kawan netns "$NS_KA"
    ip -n ulvs-router link set rtka master brwan up
    ip -n "$NS_KA" addr add "$KA_ADDR/25" dev kawan
    ip -n "$NS_KA" link set kawan up
    mkdir -p "$KA_DIR"
    cat >"$KA_DIR/notify.sh" <<EOF
#!/bin/sh
# keepalived's generic notify: \$1 INSTANCE, \$2 name, \$3 state, \$4 priority.
echo "\$3" >"$KA_DIR/state"
EOF
    chmod 755 "$KA_DIR/notify.sh"
}

# ka_start VERSION: keepalived priority 100, state BACKUP, VRRP only, in the foreground.
ka_start() {
    local version="$1" auth=""
    [[ "$version" == 2 ]] && auth="authentication { auth_type PASS
        auth_pass ulvs }"
    cat >"$KA_DIR/keepalived.conf" <<EOF
global_defs {
    router_id ulvs_lab_ka
    vrrp_version $version
    script_user root
    enable_script_security
}
vrrp_instance VI_1 {
    state BACKUP
    interface kawan
    virtual_router_id $VRRP_VRID
    priority 100
    advert_int 1
    $auth
    virtual_ipaddress {
        $VRRP_VIP/$VRRP_PREFIX_LEN dev kawan
    }
    notify $KA_DIR/notify.sh
}
EOF
    rm -f "$KA_DIR/state" "$LAB_LOG_DIR/keepalived-v$version.log"
    timeout 120 ip netns exec "$NS_KA" keepalived -n -l -D --vrrp -f "$KA_DIR/keepalived.conf" \
        -p "$KA_DIR/keepalived.pid" -r "$KA_DIR/vrrp.pid" \
        >>"$LAB_LOG_DIR/keepalived-v$version.log" 2>&1 9>&- &
    KA_PID=$!
}

ka_state() {
    cat "$KA_DIR/state" 2>/dev/null || true
}

# ka_wait_state STATE SECONDS
ka_wait_state() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        [[ "$(ka_state)" == "$1" ]] && return 0
        sleep 0.05
    done
    return 1
}

ka_holds_vip() {
    ip -n "$NS_KA" -4 addr show dev kawan | grep -q " $VRRP_VIP/"
}

# start_ulvsd VERSION PRIORITY: ulvsd on a config with the VRRP instance; waits for its socket.
start_ulvsd() {
    LAB_CONFIG="$LAB_RUN_DIR/vrrp-v$1-p$2.yaml"
    vrrp_config "$LAB_CONFIG" "$1" "$2" backup "preempt: true"
    ULVSD_LOG="$LAB_LOG_DIR/ulvsd-vrrp_keepalived-v$1-p$2.log"
    ulvsd_start
    if ! vrrp_wait_socket "$LAB_SOCKET"; then
        lab_err "ulvsd did not come up"
        ulvsd_log_tail
        return 1
    fi
}

run_version() {
    local v="$1" t0 t1 mdi_ms
    lab_log "--- VRRP v$v"
    # (a) ulvsd 150 is master; keepalived 100, started then, stays backup.
    start_ulvsd "$v" 150 || return 1
    vrrp_wait_state "$LAB_SOCKET" MASTER 6 || fail "v$v: ulvsd did not become MASTER"
    ka_start "$v"
    ka_wait_state BACKUP 5 || fail "v$v: keepalived did not start in BACKUP"
    # Past keepalived's Master_Down_Interval (3.6 s): our advertisements must have held it.
    sleep 4.5
    [[ "$(ka_state)" == BACKUP ]] || fail "v$v: keepalived is $(ka_state), expected BACKUP"
    grep -q "Entering MASTER" "$LAB_LOG_DIR/keepalived-v$v.log" &&
        fail "v$v: keepalived was MASTER at some point while ulvsd was"
    ka_holds_vip && fail "v$v: keepalived holds the VIP while ulvsd is master"
    timeout 5 ip netns exec "$LAB_NS_CLIENT" ping -c2 -i0.2 -W1 -q "$VRRP_VIP" >/dev/null ||
        fail "v$v: the VIP does not answer through ulvsd (master)"
    timeout 3 "$ULVSADM_BIN" --socket "$LAB_SOCKET" vrrp || true
    # keepalived's Master_Down_Interval at priority 100: 3 s + skew 609 ms.
    mdi_ms=3609
    t0="$(ms_now)"
    ulvsd_stop
    lab_ulvsd_stopped_cleanly || fail "v$v: ulvsd did not stop cleanly"
    if ka_wait_state MASTER 6; then
        t1="$(ms_now)"
        lab_log "v$v: keepalived MASTER $((t1 - t0)) ms after ulvsd was stopped (limit $((mdi_ms + 1000)) ms)"
        ((t1 - t0 <= mdi_ms + 1000)) || fail "v$v: keepalived took over too late"
    else
        fail "v$v: keepalived did not become MASTER after ulvsd stopped"
    fi

    # (b) keepalived master, ulvsd 50 stays backup ...
    start_ulvsd "$v" 50 || return 1
    sleep 4.5 # longer than ulvsd's own Master_Down_Interval (3 s + 804 ms)
    [[ "$(vrrp_state "$LAB_SOCKET")" == BACKUP ]] ||
        fail "v$v: ulvsd priority 50 is $(vrrp_state "$LAB_SOCKET"), expected BACKUP"
    timeout 3 "$ULVSADM_BIN" --socket "$LAB_SOCKET" vrrp | grep -q " $KA_ADDR" ||
        fail "v$v: ulvsadm vrrp does not name keepalived ($KA_ADDR) as master"
    timeout 3 "$ULVSADM_BIN" --socket "$LAB_SOCKET" vrrp || true
    [[ "$(ka_state)" == MASTER ]] || fail "v$v: keepalived is $(ka_state), expected MASTER"
    ulvsd_stop
    # ... and ulvsd 200 with preempt takes over.
    start_ulvsd "$v" 200 || return 1
    t0="$(ms_now)"
    if vrrp_wait_state "$LAB_SOCKET" MASTER 8; then
        lab_log "v$v: ulvsd priority 200 preempted keepalived after $(($(ms_now) - t0)) ms"
    else
        fail "v$v: ulvsd priority 200 did not preempt"
    fi
    ka_wait_state BACKUP 3 || fail "v$v: keepalived is $(ka_state) after preemption, expected BACKUP"
    ka_holds_vip && fail "v$v: keepalived still holds the VIP after preemption"
    ulvsd_stop
    ka_stop
}

lab_up
ka_up
for version in 3 2; do
    run_version "$version" || ok=0
done

if ((ok)); then
    lab_log "vrrp_keepalived: PASS"
    exit 0
fi
lab_log "vrrp_keepalived: FAIL"
exit 1
