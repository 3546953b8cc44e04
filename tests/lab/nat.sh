#!/usr/bin/env bash
# Lab scenario: NAT. The client sends HTTP requests to the NAT VIP 203.0.113.101:80; ulvsd (rr,
# NAT) rewrites them to rs1..rs3 port 8080, whose default route is the appliance's lan address,
# and rewrites the replies back to the VIP. Passes when 9 curls are answered by the real servers
# equally often in round-robin order, `wrk -t2 -c50 -d10s` through the VIP completes requests
# with zero socket errors and zero non-2xx responses, and ulvsd stops cleanly on SIGTERM.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 150 "$@"
lab_trap

REQUESTS=9
URL="http://$LAB_VIP_NAT/"

lab_up
ulvsd_start
ulvsd_wait_ready

ok=1
lab_rr_requests "$URL" "$REQUESTS" "${LAB_SERVERS[@]}" || ok=0
lab_wrk "$URL" -t2 -c50 -d10s || ok=0

lab_show_stats
ulvsd_stop
lab_ulvsd_stopped_cleanly || ok=0

if ((ok)); then
    lab_log "nat: PASS (${LAB_ANSWERS[*]}; wrk without errors)"
    exit 0
fi
ulvsd_log_tail
lab_log "nat: FAIL"
exit 1
