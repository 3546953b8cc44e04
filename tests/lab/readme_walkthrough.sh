#!/usr/bin/env bash
# Lab scenario: README's walk-through ("Try it: a NAT load balancer in network namespaces"),
# followed literally (issue 16, acceptance 1). The commands and the YAML are taken from README.md
# itself, so the README cannot drift from what works. Checksum offloads are left as the veths come
# (on): the client's and the servers' partial checksums must be completed by ulvsd.
#
# README markers (HTML comments, invisible when rendered), each right before a fenced block:
#   <!-- walkthrough -->              a ```sh block, run as it is (bash -e, from the repo root)
#   <!-- walkthrough: file PATH -->   a ```yaml block, written to PATH
#   <!-- walkthrough: check -->       a ```sh block run once ulvsd answers a ping to the VIP;
#                                     its output must hold both servers' answers (rs1, rs2)
#   <!-- walkthrough: cleanup -->     a ```sh block, run at the end whatever happened
# Blocks run in README order. Passes when every block succeeds, the check block's curls are
# answered by rs1 and rs2, and ulvsd completed partial checksums (its metrics and, at SIGTERM,
# its `counters:` line: csum_completed > 0) without dropping any frame as ip_bad_len or
# frame_cut.
#
# Isolation: the walk-through names its namespaces (lvs-*), files (/tmp) and ulvsd's socket and
# DPDK runtime directory (/run) as a user would. The scenario runs in a mount namespace of its
# own with private /run/netns, /run/ulvs, /run/dpdk and /tmp, so none of those names can meet
# another ulvsd, lab or user on this machine, and the namespaces vanish with the scenario.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_bound 120 "$@"

if [[ -z "${ULVS_WALKTHROUGH_PRIVATE:-}" ]]; then
    export ULVS_WALKTHROUGH_PRIVATE=1
    exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
for d in /run/netns /run/ulvs /run/dpdk /tmp; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 "rdme-walkthrough" "$d"
done
chmod 1777 /tmp

README="$ROOT/README.md"
WORK="$(mktemp -d /tmp/walkthrough.XXXXXX)"
VIP=203.0.113.100

# extract README: the marked blocks as WORK/NN.kind[.path] files, in order.
extract() {
    /usr/bin/python3 - "$README" "$WORK" <<'PY'
import re, sys
readme, work = sys.argv[1], sys.argv[2]
lines = open(readme).read().split("\n")
n, i = 0, 0
while i < len(lines):
    m = re.fullmatch(r"<!-- walkthrough(?:: (file (\S+)|check|cleanup))? -->", lines[i].strip())
    i += 1
    if not m:
        continue
    kind = "file" if m.group(2) else (m.group(1) or "run")
    fence = lines[i].strip()
    want = "```yaml" if kind == "file" else "```sh"
    if fence != want:
        sys.exit(f"README.md:{i + 1}: a walkthrough marker must precede a {want} block")
    body = []
    i += 1
    while lines[i].strip() != "```":
        body.append(lines[i])
        i += 1
    n += 1
    name = f"{work}/{n:02d}.{kind}"
    open(name, "w").write("\n".join(body) + "\n")
    if kind == "file":
        open(name + ".path", "w").write(m.group(2))
if n == 0:
    sys.exit("README.md: no walkthrough block found")
PY
}

# shellcheck disable=SC2317 # cleanup_blocks and cleanup run from the EXIT trap
cleanup_blocks() {
    local f
    for f in "$WORK"/*.cleanup; do
        [[ -e "$f" ]] || continue
        (cd "$ROOT" && timeout 30 bash "$f") || lab_err "cleanup block $(basename "$f") failed"
    done
}

# shellcheck disable=SC2317
# Whatever the README's cleanup did: every process still in one of our (private) namespaces
# was started here; stop it by pid, then drop the namespaces.
cleanup() {
    local rc=$? ns pid
    trap - EXIT INT TERM
    if [[ -n "${ULVSD_PID_W:-}" ]] && kill -0 "$ULVSD_PID_W" 2>/dev/null; then
        kill -TERM "$ULVSD_PID_W" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$ULVSD_PID_W" 2>/dev/null || break; sleep 0.1; done
    fi
    cleanup_blocks
    for ns in $(timeout 5 ip netns list 2>/dev/null | awk '{ print $1 }'); do
        for pid in $(timeout 5 ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        timeout 5 ip netns del "$ns" 2>/dev/null || true
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

metric() { # metric NAME: the sum of NAME's samples in ulvsd's /metrics (lvs-lb, default port)
    timeout 5 ip netns exec lvs-lb curl -s --max-time 3 http://127.0.0.1:9145/metrics |
        awk -v m="$1" '$1 ~ "^" m "({|$)" { s += $2 } END { print s + 0 }'
}

wait_vip() {
    local deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
        if timeout 3 ip netns exec lvs-client ping -c1 -W1 -q "$VIP" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    lab_err "the VIP $VIP did not answer a ping within 20 s"
    return 1
}

extract
ULVSD_LOG_W="$LAB_LOG_DIR/ulvsd-readme_walkthrough.log"
mkdir -p "$LAB_LOG_DIR"
: >"$ULVSD_LOG_W"
ok=1
checked=0
for f in "$WORK"/[0-9][0-9].*; do
    case "$f" in
        *.path | *.cleanup) continue ;;
        *.file)
            path="$(cat "$f.path")"
            lab_log "README: writing $path"
            cp "$f" "$path"
            ;;
        *.run)
            lab_log "README: running block $(basename "$f")"
            sed 's/^/    /' "$f"
            # Background processes of the block (the servers, ulvsd) keep its output: the log.
            if ! (cd "$ROOT" && timeout 30 bash -e "$f") >>"$ULVSD_LOG_W" 2>&1; then
                lab_err "block $(basename "$f") failed"
                ok=0
                break
            fi
            ;;
        *.check)
            wait_vip || { ok=0; break; }
            # As a user would, once more while the servers are still starting (a python
            # interpreter on a loaded machine takes seconds): at most 30 s in all.
            deadline=$((SECONDS + 30))
            while :; do
                lab_log "README: running block $(basename "$f")"
                good=1
                out="$(cd "$ROOT" && timeout 30 bash -e "$f" 2>&1)" || good=0
                echo "$out"
                for name in rs1 rs2; do
                    grep -qx "$name" <<<"$out" || good=0
                done
                ((good || SECONDS >= deadline)) && break
                sleep 1
            done
            ((good)) || { lab_err "the check block did not get answers from rs1 and rs2"; ok=0; }
            checked=1
            ;;
    esac
done
((checked)) || { lab_err "the README has no walkthrough check block"; ok=0; }

if ((ok)); then
    completed="$(metric ulvs_worker_checksums_completed_total)"
    lab_log "metrics: checksums completed $completed"
    if ! ((completed > 0)); then
        lab_err "no partial checksum was completed: were the offloads on?"
        ok=0
    fi
fi
# Stop ulvsd (the README's cleanup would too) to read its counters line.
ULVSD_PID_W="$(timeout 5 ip netns pids lvs-lb 2>/dev/null | head -n1 || true)"
if [[ -n "$ULVSD_PID_W" ]]; then
    kill -TERM "$ULVSD_PID_W" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$ULVSD_PID_W" 2>/dev/null || break; sleep 0.1; done
fi
counters="$(grep -o 'counters:.*' "$ULVSD_LOG_W" | tail -n1 || true)"
lab_log "ulvsd $counters"
if ((ok)) && ! grep -Eq ' csum_completed=[1-9]' <<<"$counters"; then
    lab_err "ulvsd's counters line has no csum_completed > 0"
    ok=0
fi
if grep -Eq 'drop.(ip_bad_len|frame_cut)=' <<<"$counters"; then
    lab_err "frames dropped as ip_bad_len or frame_cut (cut by the packet socket)"
    ok=0
fi

if ((ok)); then
    lab_log "readme_walkthrough: PASS"
    exit 0
fi
tail -n 30 "$ULVSD_LOG_W" >&2
lab_log "readme_walkthrough: FAIL"
exit 1
