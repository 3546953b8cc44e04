#!/usr/bin/env bash
# Lab scenario: direct routing. The client sends HTTP requests to the DR VIP 203.0.113.100;
# ulvsd (rr, DR) rewrites only the MACs towards rs1..rs3, which hold the VIP on lo and answer
# straight back through the router (policy route of the VIP). Passes when all requests are
# answered by real servers, each exactly equally often and in round-robin order, and ulvsd
# stops cleanly on SIGTERM.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 120 "$@"
lab_trap

REQUESTS=9

lab_up
ulvsd_start
ulvsd_wait_ready

ok=1
lab_rr_requests "http://$LAB_VIP/" "$REQUESTS" "${LAB_SERVERS[@]}" || ok=0

lab_show_stats
ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0

if ((ok)); then
    lab_log "dr: PASS (${LAB_ANSWERS[*]})"
    exit 0
fi
ulvsd_log_tail
lab_log "dr: FAIL"
exit 1
