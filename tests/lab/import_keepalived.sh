#!/usr/bin/env bash
# Lab scenario: ulvsadm import-keepalived (issue 14, acceptance 2). A keepalived.conf for the
# lab's DR (203.0.113.100:80, TCP_CHECK) and NAT (203.0.113.101:80 -> :8080, HTTP_GET) services
# and a VRRP instance (v2, PASS authentication, VRID 51, priority 150, the DR VIP) is imported
# with a base file (config/lab.yaml's dpdk, lcores, ports named as keepalived's interfaces,
# routes) and run:
#   - the import exits 0 (the YAML passes validation) and ulvsd runs it, VRRP MASTER;
#   - a keepalived peer in its own namespace on the wan bridge runs the VRRP part of the SAME
#     file (its interface, priority 100, BACKUP): it stays BACKUP past its Master_Down_Interval,
#     i.e. it takes ulvsd's advertisements (v2, that password) as its master's, and its log
#     shows no authentication or version complaint;
#   - curl through both VIPs reaches rs1, rs2 and rs3 (rr);
#   - rs3 stopped (its link down): the checks remove it from both services, and the answers
#     come from rs1 and rs2 only.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/lab/vrrp_common.bash
source "$LAB_DIR/vrrp_common.bash"
# shellcheck source=tests/lab/health_lib.bash
source "$LAB_DIR/health_lib.bash"
lab_bound 120 "$@" # the lab lock may take up to 60 s; the run itself about 20 s

if ! command -v keepalived >/dev/null; then
    lab_err "keepalived is not installed (scripts/bootstrap installs it)"
    exit 1
fi

NS_KA="kaimp-ka"
KA_ADDR="203.0.113.21"
DIR="$LAB_RUN_DIR/import-keepalived"
KA_LOG="$LAB_LOG_DIR/keepalived-import.log"
KA_PID=""
ka_stop() {
    vrrp_stop_pid "$KA_PID"
    KA_PID=""
}
vrrp_trap "$NS_KA" ka_stop

lab_up
mkdir -p "$DIR" "$LAB_LOG_DIR"

# real_servers PORT CHECK...: three real_server blocks with the given checker lines.
real_servers() {
    local port="$1" i line
    shift
    for i in 1 2 3; do
        echo "    real_server 198.51.100.1$i $port {"
        echo "        weight 1"
        for line in "$@"; do
            echo "        $line"
        done
        echo "    }"
    done
}

# The file a keepalived user has: comments, upper-case words, checks with keepalived's timers.
{
    echo "! the lab's LVS, as keepalived would run it on the appliance"
    echo "global_defs {"
    echo "    router_id ulvs_lab"
    echo "}"
    echo "vrrp_instance VI_1 {"
    echo "    state MASTER"
    echo "    interface wan"
    echo "    virtual_router_id $VRRP_VRID"
    echo "    priority 150"
    echo "    advert_int 1"
    echo "    authentication {"
    echo "        auth_type PASS"
    echo "        auth_pass kaimp01"
    echo "    }"
    echo "    virtual_ipaddress {"
    echo "        $VRRP_VIP/$VRRP_PREFIX_LEN dev wan"
    echo "    }"
    echo "}"
    echo "virtual_server $LAB_VIP 80 {        # DR"
    echo "    delay_loop 1"
    echo "    lb_algo rr"
    echo "    lb_kind DR"
    echo "    protocol TCP"
    real_servers 80 "TCP_CHECK {" "    connect_timeout 1" "    retry 1" \
        "    delay_before_retry 1" "}"
    echo "}"
    echo "virtual_server $LAB_VIP_NAT 80 {    # NAT"
    echo "    delay_loop 1"
    echo "    lb_algo rr"
    echo "    lb_kind NAT"
    echo "    protocol TCP"
    real_servers 8080 "HTTP_GET {" "    url {" "        path /" "        status_code 200" \
        "    }" "    connect_timeout 1" "    retry 1" "    delay_before_retry 1" "}"
    echo "}"
} >"$DIR/keepalived.conf"

# The appliance's own part, from config/lab.yaml (its ports are named wan and lan).
{
    sed -n '/^dpdk:/,/^connections:/p' "$ROOT/config/lab.yaml"
    echo "management: {socket: $LAB_SOCKET, metrics: \"\"}"
    echo "logging: {level: info}"
} >"$DIR/base.yaml"

LAB_CONFIG="$DIR/ulvs.yaml"
rc=0
timeout 10 "$ULVSADM_BIN" import-keepalived "$DIR/keepalived.conf" --base "$DIR/base.yaml" \
    >"$LAB_CONFIG" 2>"$DIR/import.err" || rc=$?
cat "$DIR/import.err" >&2
if ((rc != 0)); then
    lab_err "import-keepalived exited $rc"
    exit 1
fi
lab_log "imported: $(grep -c '^    vrid:' "$LAB_CONFIG") VRRP instance(s), \
$(grep -c '^    real_servers:' "$LAB_CONFIG") virtual servers"
grep -q '^    version: 2$' "$LAB_CONFIG" || fail "the import did not keep VRRP version 2"

ulvsd_start
ulvsd_wait_ready || exit 1
vrrp_wait_state "$LAB_SOCKET" MASTER 5 || fail "ulvsd did not become VRRP MASTER"

# The keepalived peer: the same file's VRRP part on its own interface, priority 100, BACKUP,
# with a notify script that records its state.
ip netns add "$NS_KA"
ip -n "$NS_KA" link set lo up
ip netns exec "$NS_KA" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
ip -n ulvs-router link add rtkaimp type veth peer name kawan netns "$NS_KA"
ip -n ulvs-router link set rtkaimp master brwan up
ip -n "$NS_KA" addr add "$KA_ADDR/$VRRP_PREFIX_LEN" dev kawan
ip -n "$NS_KA" link set kawan up
# shellcheck disable=SC2016 # $3 is the notify script's, not ours
printf '#!/bin/sh\necho "$3" >"%s"\n' "$DIR/ka-state" >"$DIR/notify.sh"
chmod 755 "$DIR/notify.sh"
sed -e 's/interface wan/interface kawan/; s/dev wan/dev kawan/; s/priority 150/priority 100/' \
    -e 's/state MASTER/state BACKUP/' \
    -e "s|^    router_id ulvs_lab|    router_id kaimp_ka\n    script_user root\n    enable_script_security|" \
    -e "s|^    virtual_router_id|    notify $DIR/notify.sh\n    virtual_router_id|" \
    "$DIR/keepalived.conf" >"$DIR/keepalived-peer.conf"
rm -f "$DIR/ka-state"
: >"$KA_LOG"
timeout 40 ip netns exec "$NS_KA" keepalived -n -l -D --vrrp -f "$DIR/keepalived-peer.conf" \
    -p "$DIR/ka.pid" -r "$DIR/ka-vrrp.pid" >>"$KA_LOG" 2>&1 9>&- &
KA_PID=$!

# Meanwhile: both VIPs reach the three servers.
lab_rr_requests "http://$LAB_VIP/" 6 "${LAB_SERVERS[@]}" || fail "DR through the VIP"
lab_rr_requests "http://$LAB_VIP_NAT/" 6 "${LAB_SERVERS[@]}" || fail "NAT through the VIP"

# keepalived's Master_Down_Interval at priority 100 is 3.6 s: well past it, still BACKUP.
sleep 4
ka_state="$(cat "$DIR/ka-state" 2>/dev/null || true)"
[[ "$ka_state" == BACKUP ]] ||
    fail "keepalived is '$ka_state', expected BACKUP (ulvsd's adverts as its master's)"
if grep -q "Entering MASTER" "$KA_LOG"; then
    fail "keepalived became MASTER: it did not take ulvsd's adverts"
fi
if grep -iE "authenticat|passw|version|invalid|mismatch" "$KA_LOG"; then
    fail "keepalived complained about ulvsd's advertisements (above)"
fi
[[ "$(vrrp_state "$LAB_SOCKET")" == MASTER ]] || fail "ulvsd is not MASTER"
adm vrrp || true

# Stop rs3: both services lose it.
ip -n ulvs-rs3 link set eth0 down
# shellcheck disable=SC2317 # called by wait_for
gone() { ! adm -Ln | grep -q -- "-> 198.51.100.13:"; }
t="$(wait_for 5000 gone)" || true
within "rs3 removed from both services" 5000 "$t"
adm -Ln || true
lab_rr_requests "http://$LAB_VIP/" 4 rs1 rs2 || fail "DR after rs3 stopped"
lab_rr_requests "http://$LAB_VIP_NAT/" 4 rs1 rs2 || fail "NAT after rs3 stopped"

ka_stop
ulvsd_stop
lab_ulvsd_stopped_cleanly || fail "ulvsd did not stop cleanly"
if ((ok)); then
    lab_log "import_keepalived: PASS"
    exit 0
fi
ulvsd_log_tail
lab_log "import_keepalived: FAIL"
exit 1
