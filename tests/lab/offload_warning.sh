#!/usr/bin/env bash
# Lab scenario (issue 16): ulvsd warns at start, once per port, when a net_af_packet port's
# interface merges received TCP segments (GRO or LRO): such frames exceed the MTU and arrive cut
# (frame_cut). One namespace with a veth pair; `owa` gets `gro on`, `owb` keeps the veth default
# (off). Passes when the log has the warning for port `pa` with its `ethtool -K owa gro off`, and
# no warning for port `pb`. A mount namespace of its own (private /run/netns, /run/ulvs,
# /run/dpdk) keeps its names away from everything else; about 5 s.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 60 "$@"

if [[ -z "${ULVS_OFFLOAD_PRIVATE:-}" ]]; then
    export ULVS_OFFLOAD_PRIVATE=1
    exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
for d in /run/netns /run/ulvs /run/dpdk; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 rdme-offload "$d"
done

NS=rdme-ow
CFG="$(mktemp /tmp/rdme-offload.XXXXXX.yaml)"
LOG="$LAB_LOG_DIR/ulvsd-offload_warning.log"
mkdir -p "$LAB_LOG_DIR"
PID=""

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && sleep 1
    for pid in $(timeout 5 ip netns pids "$NS" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    timeout 5 ip netns del "$NS" 2>/dev/null || true
    rm -f "$CFG"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

timeout 5 ip netns add "$NS"
timeout 5 ip -n "$NS" link add owa type veth peer name owb
timeout 5 ip -n "$NS" link set owa up
timeout 5 ip -n "$NS" link set owb up
if ! timeout 5 ip netns exec "$NS" ethtool -K owa gro on >/dev/null 2>&1; then
    lab_log "offload_warning: SKIP (this kernel cannot switch GRO on for a veth)"
    exit 77
fi
cat >"$CFG" <<'EOF'
ports:
  - {name: pa, device: "net_af_packet0,iface=owa", addresses: [192.0.2.1/24]}
  - {name: pb, device: "net_af_packet1,iface=owb", addresses: [198.51.100.1/24]}
EOF
timeout --kill-after=5 30 ip netns exec "$NS" "$ULVSD_BIN" -c "$CFG" </dev/null >"$LOG" 2>&1 &
PID=$!
ok=0
for _ in $(seq 100); do
    grep -q "ulvsd running" "$LOG" && { ok=1; break; }
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
((ok)) || { lab_err "ulvsd did not start"; tail -n 20 "$LOG" >&2; exit 1; }
grep -F "warn" "$LOG" || true
if ! grep -q "port pa: owa has GRO on: .*frame_cut.*ethtool -K owa gro off" "$LOG"; then
    lab_err "no GRO warning for port pa"
    ok=0
fi
if grep -q "port pb: owb has" "$LOG"; then
    lab_err "a warning for port pb, whose interface has GRO off"
    ok=0
fi
if ((ok)); then
    lab_log "offload_warning: PASS"
    exit 0
fi
lab_log "offload_warning: FAIL"
exit 1
