#!/usr/bin/env bash
# Lab scenario: the director as the real servers' gateway (issue 19). config/lab.yaml plus
#   snat: [{sources: [198.51.100.0/24], out_port: wan, ports: 20000-29999}]
# (Linux's `-s 198.51.100.0/24 -o wan -j MASQUERADE`). While wrk loads the NAT service from the
# client, each real server fetches a page from an HTTP server in the client namespace (curl),
# resolves a name over UDP against tests/lab/snat_dns.py there, and pings it. Passes when every
# fetch, lookup and ping is answered, the client's HTTP and DNS servers saw only the director's
# wan address (203.0.113.10) as source, `ulvsadm -Lnc` lists SNAT connections from it, wrk saw
# no socket error and no non-2xx answer, and ulvsd stops cleanly.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 60 "$@"

CLIENT_ADDR=203.0.113.130 # ulvs-client (scripts/lab)
DIRECTOR_WAN=203.0.113.10
mkdir -p "$LAB_LOG_DIR"
LAB_CONFIG="$LAB_LOG_DIR/snat.yaml"
{
    cat "$ROOT/config/lab.yaml"
    echo "snat: [{sources: [198.51.100.0/24], out_port: wan, ports: 20000-29999}]"
} >"$LAB_CONFIG"
WWW="$LAB_LOG_DIR/snat-www"
HTTP_LOG="$LAB_LOG_DIR/snat-http.log"
DNS_LOG="$LAB_LOG_DIR/snat-dns.log"
WRK_OUT="$LAB_LOG_DIR/snat-wrk.out"
mkdir -p "$WWW"
echo "snat-page" >"$WWW/page.txt"
: >"$HTTP_LOG"
: >"$DNS_LOG"

# The client namespace's servers, stopped by pid whatever happens (the lab's teardown would
# leave them running outside any namespace).
HELPER_PIDS=()
# shellcheck disable=SC2317 # called by the EXIT trap
snat_cleanup() {
    local rc=$? pid
    for pid in "${HELPER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    exit "$rc"
}
trap 'snat_cleanup; lab_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lab_up
ip netns exec "$LAB_NS_CLIENT" /usr/bin/python3 -m http.server 8000 --bind "$CLIENT_ADDR" \
    --directory "$WWW" </dev/null >/dev/null 2>"$HTTP_LOG" &
HELPER_PIDS+=($!)
ip netns exec "$LAB_NS_CLIENT" /usr/bin/python3 "$LAB_DIR/snat_dns.py" serve "$CLIENT_ADDR" 53 \
    "$DNS_LOG" </dev/null >/dev/null 2>&1 &
HELPER_PIDS+=($!)

ulvsd_start
ulvsd_wait_ready

ok=1
lab_wrk "http://$LAB_VIP_NAT/" -t2 -c20 -d8s >"$WRK_OUT" 2>&1 &
wrk_pid=$!
sleep 1 # the load is running

for rs in "${LAB_SERVERS[@]}"; do
    body="$(timeout 5 ip netns exec "ulvs-$rs" curl -sS --max-time 3 \
        "http://$CLIENT_ADDR:8000/page.txt" 2>&1)" || body="FAILED($body)"
    if [[ "$body" != snat-page ]]; then
        lab_err "$rs: curl http://$CLIENT_ADDR:8000/page.txt got '$body'"
        ok=0
    fi
    answer="$(timeout 8 ip netns exec "ulvs-$rs" /usr/bin/python3 "$LAB_DIR/snat_dns.py" query \
        "$CLIENT_ADDR" "$rs.example.test" 2>&1)" || answer="FAILED($answer)"
    if [[ "$answer" != 203.0.113.77 ]]; then
        lab_err "$rs: DNS lookup of $rs.example.test got '$answer'"
        ok=0
    fi
    if ! timeout 5 ip netns exec "ulvs-$rs" ping -c2 -i0.2 -W1 -q "$CLIENT_ADDR" >/dev/null; then
        lab_err "$rs: ping $CLIENT_ADDR failed"
        ok=0
    fi
    lab_log "$rs: page '$body', $rs.example.test -> $answer, ping answered"
done

# The SNAT connections as ulvsadm lists them (source = real server, virtual = the director).
listing="$(timeout 5 "$ULVSADM_BIN" --socket "$LAB_SOCKET" -Lnc 2>&1)" || true
snat_lines="$(grep -E "^(TCP|UDP|ICM).* $DIRECTOR_WAN:" <<<"$listing" || true)"
echo "\$ ulvsadm -Lnc | grep $DIRECTOR_WAN"
echo "$snat_lines"
for proto in TCP UDP ICMP; do
    if ! grep -q "^$proto" <<<"$snat_lines"; then
        lab_err "ulvsadm -Lnc lists no $proto SNAT connection via $DIRECTOR_WAN"
        ok=0
    fi
done

wait "$wrk_pid" || { lab_err "wrk through the NAT service failed while SNAT ran"; ok=0; }
cat "$WRK_OUT"

# What the wan host saw: only the director's address.
http_srcs="$(awk '/GET \/page.txt/ { print $1 }' "$HTTP_LOG" | sort -u | tr '\n' ' ')"
dns_srcs="$(awk '{ split($4, a, ":"); print a[1] }' "$DNS_LOG" | sort -u | tr '\n' ' ')"
lab_log "HTTP requests came from: $http_srcs; DNS queries from: $dns_srcs"
if [[ "$(grep -c 'GET /page.txt' "$HTTP_LOG")" -ne ${#LAB_SERVERS[@]} ||
    "$http_srcs" != "$DIRECTOR_WAN " ]]; then
    lab_err "the HTTP server saw sources '$http_srcs' (want only $DIRECTOR_WAN, 3 requests)"
    ok=0
fi
if [[ "$dns_srcs" != "$DIRECTOR_WAN " ]]; then
    lab_err "the DNS responder saw sources '$dns_srcs', want only $DIRECTOR_WAN"
    ok=0
fi

# The metrics count them (ulvsd's default metrics endpoint, in its namespace).
metrics="$(timeout 5 ip netns exec "$LAB_NS_LB" curl -sS --max-time 3 \
    http://127.0.0.1:9145/metrics 2>&1)" || metrics=""
created="$(awk '/^ulvs_worker_snat_connections_created_total/ { n += $2 } END { print n + 0 }' \
    <<<"$metrics")"
grep -E '^ulvs_worker_(snat_[a-z_]+|drops_total.*(forward_denied|snat_exhausted))' \
    <<<"$metrics" || true
if ((created < 3 * ${#LAB_SERVERS[@]})); then
    lab_err "ulvs_worker_snat_connections_created_total is $created, want at least 9"
    ok=0
fi
ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0

if ((ok)); then
    lab_log "snat: PASS (each real server fetched, resolved and pinged as $DIRECTOR_WAN;" \
        "wrk without errors)"
    exit 0
fi
ulvsd_log_tail
lab_log "snat: FAIL"
exit 1
