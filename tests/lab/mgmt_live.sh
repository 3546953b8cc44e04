#!/usr/bin/env bash
# Lab scenario: live changes and reloads under continuous traffic (issue 6, acceptance 2).
# ulvsd runs the lab's DR service `web` alone (rr over rs1..rs3). While wrk holds keep-alive
# connections and a curl loop opens a new connection per request, ulvsadm quiesces, removes and
# re-adds real servers, changes weights and the scheduler, adds and deletes a service, and the
# file is reloaded by `ulvsadm reload` and by SIGHUP; a bad file is refused and changes nothing.
# Passes when no request failed (curl and wrk), none of the drop counters a change could cause
# moved (no_service, no_conn, no_dest, neigh_unresolved, not_for_us, conn_table_full, tx_full,
# ...: scraped from /metrics before and after), every change shows in save-yaml, and ulvsd stops
# cleanly.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 150 "$@"
lab_trap

adm() { timeout 10 "$ULVSADM_BIN" --socket "$LAB_SOCKET" "$@"; }
metrics() { timeout 5 ip netns exec "$LAB_NS_LB" curl -sS --max-time 3 http://127.0.0.1:9145/metrics; }
# Sum of the drop counters a configuration change could cause.
change_drops() {
    metrics | awk '/^ulvs_worker_drops_total/ && /reason="(no_service|no_conn|no_dest|neigh_unresolved|not_for_us|conn_table_full|tx_full|ctrl_ring_full|redirect_ring_full|no_route)"/ { s += $2 } END { print s + 0 }'
}
forwarded() {
    metrics | awk '/^ulvs_worker_tx_packets_total/ { s += $2 } END { print s + 0 }'
}

lab_up
# The lab's config with only the DR service: the scenario is about the management plane.
cfg="$LAB_RUN_DIR/mgmt_live.yaml"
/usr/bin/python3 - "$ROOT/config/lab.yaml" "$cfg" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["virtual_servers"] = [v for v in c["virtual_servers"] if v["name"] == "web"]
c["management"] = {"socket": "/run/ulvs/lab.sock", "metrics": "127.0.0.1:9145"}
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
PY
LAB_CONFIG="$cfg"
ulvsd_start
ulvsd_wait_ready

ok=1
fail() {
    lab_err "$*"
    ok=0
}
for _ in 1 2 3; do client_curl "http://$LAB_VIP/" >/dev/null || fail "warm-up request failed"; done
drops0="$(change_drops)"
tx0="$(forwarded)"
lab_log "before: change-related drops $drops0, forwarded $tx0"

# Continuous traffic: wrk's keep-alive connections (existing connections across every change)
# and a curl loop (a new connection per request, scheduled by whatever snapshot is current).
curl_log="$LAB_RUN_DIR/mgmt_curl.log"
wrk_log="$LAB_RUN_DIR/mgmt_wrk.log"
(timeout 40 ip netns exec "$LAB_NS_CLIENT" wrk -t1 -c8 -d14s "http://$LAB_VIP/" >"$wrk_log" 2>&1 || echo "wrk exit $?" >>"$wrk_log") &
wrk_pid=$!
(
    end=$((SECONDS + 14))
    while ((SECONDS < end)); do
        if body="$(timeout 5 ip netns exec "$LAB_NS_CLIENT" curl -sS --max-time 3 "http://$LAB_VIP/" 2>&1)"; then
            echo "ok ${body%%$'\n'*}"
        else
            echo "FAILED ${body//$'\n'/ }"
        fi
    done >"$curl_log"
) &
curl_pid=$!
sleep 1

step() {
    lab_log "ulvsadm $*"
    adm "$@" || fail "ulvsadm $* failed"
    sleep 0.7
}
VS="-t $LAB_VIP:80"
# shellcheck disable=SC2086
{
    step -e $VS -r 198.51.100.13:80 -w 0           # quiesce rs3
    step -d $VS -r 198.51.100.13:80                # remove it (its connections go on)
    step -E $VS -s wrr                             # scheduler
    step -e $VS -r 198.51.100.11:80 -w 3           # weights
    step -a $VS -r 198.51.100.13:80 -g -w 2        # add a server
    step -A -t "$LAB_VIP:8080" -s rr               # another service on the same VIP
    step -a -t "$LAB_VIP:8080" -r 198.51.100.12:8080 -g
}
# Reload: the running config as a file, with changed weights and without the 8080 service.
adm save-yaml >"$cfg.saved" || fail "save-yaml failed"
grep -q 'scheduler: "wrr"' "$cfg.saved" && grep -q '198.51.100.13, port: 80, weight: 2' "$cfg.saved" &&
    grep -q 'port: 8080' "$cfg.saved" || fail "save-yaml does not show the changes"
/usr/bin/python3 - "$cfg.saved" "$cfg" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["virtual_servers"] = [v for v in c["virtual_servers"] if v["port"] == 80]
for rs in c["virtual_servers"][0]["real_servers"]:
    rs["weight"] = 1
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
PY
step reload
adm -Ln | grep -q ":8080" && fail "reload did not remove the 8080 service"
# SIGHUP with a scheduler change.
sed -i 's/scheduler: wrr/scheduler: rr/' "$cfg"
kill -HUP "$(ulvsd_child_pid "$ULVSD_PID")"
sleep 1
adm -Ln | grep -q "TCP  $LAB_VIP:80 rr" || fail "SIGHUP did not reload the file"
# A bad file: refused whole, errors returned, nothing changes.
before="$(adm -S -n)"
cp "$cfg" "$cfg.good"
sed -i 's/weight: 1/weight: 70000/; s/scheduler: rr/scheduler: nope/' "$cfg"
if out="$(adm reload 2>&1)"; then
    fail "a bad file was accepted"
else
    lab_log "bad reload refused: ${out//$'\n'/ | }"
    grep -q "weight" <<<"$out" && grep -q "nope" <<<"$out" || fail "reload did not return every error"
fi
[[ "$(adm -S -n)" == "$before" ]] || fail "a refused reload changed the running config"
cp "$cfg.good" "$cfg"

wait "$curl_pid" || true
wait "$wrk_pid" || true
sleep 1
drops1="$(change_drops)"
tx1="$(forwarded)"
lab_log "after: change-related drops $drops1, forwarded $tx1"
requests="$(wc -l <"$curl_log")"
failed="$(grep -c '^FAILED' "$curl_log" || true)"
lab_log "curl: $requests requests, $failed failed; answered by: $(awk '$1 == "ok" { print $2 }' "$curl_log" | sort | uniq -c | tr '\n' ' ')"
cat "$wrk_log"
((requests > 20)) || fail "too few requests during the changes ($requests)"
((failed == 0)) || fail "$failed requests failed during the changes: $(grep '^FAILED' "$curl_log" | head -3)"
grep -q ' requests in ' "$wrk_log" || fail "wrk did not run"
grep -qE 'Socket errors|Non-2xx|wrk exit' "$wrk_log" && fail "wrk saw errors"
((drops1 == drops0)) || fail "change-related drops moved: $drops0 -> $drops1 ($(metrics | grep '^ulvs_worker_drops_total' | grep -v ' 0$' | tr '\n' ' '))"
((tx1 > tx0)) || fail "nothing forwarded"

lab_show_stats
ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0

if ((ok)); then
    lab_log "mgmt_live: PASS"
    exit 0
fi
ulvsd_log_tail
lab_log "mgmt_live: FAIL"
exit 1
