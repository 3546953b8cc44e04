#!/usr/bin/env bash
# Lab scenario: ulvsd as a service (issue 15, acceptance 2). PID 1 is not systemd here, so
# tests/lab/notify_supervisor.py plays the service manager of config/ulvsd.service (Type=notify,
# NotifyAccess=main, ExecReload: SIGHUP): it starts ulvsd on the lab's config and reads the
# notify protocol. Passes when READY=1 comes and a request through the VIP is then answered,
# SIGHUP gives RELOADING=1 (with MONOTONIC_USEC) then READY=1 for a good file and for a refused
# one, and SIGTERM gives STOPPING=1 and exit status 0, all from ulvsd's own pid; with stderr
# announced as the journal's stream, ulvsd's log lines come as structured journal records to a
# socket the supervisor binds. ~5 s.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 60 "$@"
lab_trap

lab_up
mkdir -p "$LAB_RUN_DIR" "$LAB_LOG_DIR" "$(dirname "$LAB_SOCKET")"
cfg="$LAB_RUN_DIR/service_notify.yaml" # a copy: the supervisor breaks it for one reload
cp "$ROOT/config/lab.yaml" "$cfg"
lab_log "ulvsd under notify_supervisor.py (ulvsd's log: $ULVSD_LOG)"
rc=0
timeout 50 ip netns exec "$LAB_NS_LB" /usr/bin/python3 "$LAB_DIR/notify_supervisor.py" \
    --timeout 20 --break-config "$cfg" --log "$ULVSD_LOG" --journal \
    --after-ready "timeout 10 ip netns exec $LAB_NS_CLIENT curl -sS --max-time 3 -o /dev/null \
http://$LAB_VIP/" \
    -- "$ULVSD_BIN" -c "$cfg" || rc=$?
if ((rc != 0)); then
    ulvsd_log_tail
    lab_err "service_notify: FAIL"
    exit 1
fi
lab_log "service_notify: PASS"
