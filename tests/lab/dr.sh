#!/usr/bin/env bash
# Lab scenario: direct routing. The client sends HTTP requests to the VIP; ulvsd (rr, DR)
# rewrites only the MACs towards rs1..rs3, which hold the VIP on lo and answer straight back
# through the router. Passes when all requests are answered by real servers, each exactly
# equally often and in round-robin order, and ulvsd stops cleanly on SIGTERM.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 120 "$@"
lab_trap

REQUESTS=9
SERVERS=(rs1 rs2 rs3)

lab_up
ulvsd_start
ulvsd_wait_ready

answers=()
failed=0
for ((i = 1; i <= REQUESTS; i++)); do
    if body="$(client_curl "http://$LAB_VIP/" 2>&1)"; then
        body="${body%%$'\n'*}"
    else
        body="FAILED(${body//$'\n'/ })"
        failed=$((failed + 1))
    fi
    answers+=("$body")
    printf 'request %d -> %s\n' "$i" "$body"
done

lab_show_stats
ulvsd_stop

ok=1
if ((failed > 0)); then
    lab_err "$failed of $REQUESTS requests were not answered"
    ok=0
fi
for name in "${SERVERS[@]}"; do
    count=0
    for a in "${answers[@]}"; do
        [[ "$a" == "$name" ]] && count=$((count + 1))
    done
    if ((count != REQUESTS / ${#SERVERS[@]})); then
        lab_err "$name answered $count times, expected $((REQUESTS / ${#SERVERS[@]}))"
        ok=0
    fi
done
if ! check_rr_rotation "${#SERVERS[@]}" "${SERVERS[@]}" "${answers[@]}"; then
    lab_err "answers are not in round-robin order: ${answers[*]}"
    ok=0
fi
if [[ "$ULVSD_STATUS" != 0 ]]; then
    lab_err "ulvsd exited with status $ULVSD_STATUS on SIGTERM, expected 0"
    ok=0
fi

if ((ok)); then
    lab_log "dr: PASS (${answers[*]})"
    exit 0
fi
ulvsd_log_tail
lab_log "dr: FAIL"
exit 1
