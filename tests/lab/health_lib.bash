# Helpers of the health-check lab scenarios (health_checks.sh, health_https.sh), sourced after
# lib.sh. Named .bash so that run_all.sh (tests/lab/*.sh) does not run it as a scenario.
# They set `ok=0` on a failed check; the scenario starts with ok=1.

adm() { timeout 5 "$ULVSADM_BIN" --socket "$LAB_SOCKET" "$@"; }
now_ms() { date +%s%3N; }
# wait_for MAX_MS CMD...: poll CMD every 100 ms; prints the elapsed ms; false on timeout.
wait_for() {
    local max="$1" t0
    shift
    t0="$(now_ms)"
    while (($(now_ms) - t0 <= max + 2000)); do
        if "$@"; then
            echo $(($(now_ms) - t0))
            return 0
        fi
        sleep 0.1
    done
    echo "never"
    return 1
}
check() { # check DESCRIPTION CMD...
    local what="$1"
    shift
    if "$@"; then
        lab_log "ok: $what"
    else
        lab_err "FAILED: $what"
        ok=0
    fi
}
within() { # within LABEL BOUND_MS MS
    if [[ "$3" != never ]] && (($3 <= $2)); then
        lab_log "ok: $1 after ${3} ms (bound $2 ms)"
    else
        lab_err "FAILED: $1: after $3 ms, bound $2 ms"
        ok=0
    fi
}
