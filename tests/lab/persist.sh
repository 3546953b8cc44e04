#!/usr/bin/env bash
# Lab scenario: persistence (ipvsadm -p/-M) with real kernel clients. The DR and NAT services of
# config/lab.yaml are made persistent live with ulvsadm (-E -p 60 -M 255.255.255.0): every curl
# of the client, each a new connection from a new source port, then lands on one real server,
# and ulvsadm -Lc shows the template (state NONE, client network:0) and -L --persistent-conn its
# PersistConn. Made non-persistent again, the same requests spread over all three servers in
# round-robin order. The template's timeout and its expiry are shown with injected time by the
# packet-persist test (tests/packet/persist_test.cc): here a template outlives the test's
# connections, which IPVS keeps for TIME_WAIT's 2 minutes.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 120 "$@"
lab_trap

REQUESTS=9
ok=1

adm() { timeout 5 "$ULVSADM_BIN" --socket "$LAB_SOCKET" "$@"; }

# one_server URL: REQUESTS curls all answered by one and the same real server.
one_server() {
    local url="$1" i body first=""
    for ((i = 1; i <= REQUESTS; i++)); do
        body="$(client_curl "$url" 2>&1)" || body="FAILED"
        body="${body%%$'\n'*}"
        printf 'request %d -> %s\n' "$i" "$body"
        [[ "$body" == rs[123] ]] || return 1
        [[ -z "$first" ]] && first="$body"
        [[ "$body" == "$first" ]] || return 1
    done
}

lab_up
ulvsd_start
ulvsd_wait_ready

for svc in "$LAB_VIP" "$LAB_VIP_NAT"; do
    adm -E -t "$svc:80" -s rr -p 60 -M 255.255.255.0 || ok=0
    lab_log "persistent: $svc:80"
    if ! one_server "http://$svc/"; then
        lab_err "$svc: persistent service spread one client over several servers"
        ok=0
    fi
done

echo "\$ ulvsadm -Ln"
list="$(adm -Ln)" || ok=0
echo "$list"
for svc in "$LAB_VIP" "$LAB_VIP_NAT"; do
    grep -qx "TCP  $svc:80 rr persistent 60 mask 255.255.255.0" <<<"$list" ||
        { lab_err "-Ln does not show $svc:80 as persistent"; ok=0; }
done
echo "\$ ulvsadm -Lnc"
conns="$(adm -Lnc)" || ok=0
echo "$conns"
# One template per service: client network 203.0.113.0:0, state NONE.
for svc in "$LAB_VIP" "$LAB_VIP_NAT"; do
    n="$(grep -cE "^TCP +[0-9]{2}:[0-9]{2} +NONE +203\.0\.113\.0:0 +$svc:80 " <<<"$conns" || true)"
    ((n == 1)) || { lab_err "$svc: $n templates in -Lnc, expected 1"; ok=0; }
done
echo "\$ ulvsadm -Ln --persistent-conn"
pc="$(adm -Ln --persistent-conn)" || ok=0
echo "$pc"
# Exactly one real server per service has PersistConn 1 (column 3 of the server lines).
n="$(awk '$1 == "->" && $4 == 1 { n++ } END { print n + 0 }' <<<"$pc")"
((n == 2)) || { lab_err "PersistConn 1 on $n servers, expected 2"; ok=0; }

for svc in "$LAB_VIP" "$LAB_VIP_NAT"; do
    adm -E -t "$svc:80" -s rr || ok=0
    lab_log "not persistent: $svc:80"
    lab_rr_requests "http://$svc/" "$REQUESTS" "${LAB_SERVERS[@]}" || ok=0
done

ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0

if ((ok)); then
    lab_log "persist: PASS"
    exit 0
fi
ulvsd_log_tail
lab_log "persist: FAIL"
exit 1
