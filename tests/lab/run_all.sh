#!/usr/bin/env bash
# Runs every lab scenario (tests/lab/*.sh but lib.sh and run_all.sh), one after the other
# (they share the lab's namespaces), each bounded in time. Exit status 77 from a scenario
# means skipped. Prints "N passed, M failed" (", K skipped" when some were) last and exits
# non-zero if any failed. Most scenarios use scripts/lab (ulvs-* namespaces); exception_path.sh
# builds its own small lab (tap-* namespaces), and removes what a killed run left at its start.
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$LAB_DIR/../.." && pwd)"
SCENARIO_TIMEOUT="${ULVS_LAB_SCENARIO_TIMEOUT:-180}"

if [[ $(id -u) -ne 0 ]]; then
    echo "run_all: the lab needs root" >&2
    exit 1
fi

passed=0
failed=0
skipped=0
failed_names=()
for script in "$LAB_DIR"/*.sh; do
    name="$(basename "$script" .sh)"
    case "$name" in
        lib | run_all) continue ;;
    esac
    echo "=== lab: $name"
    rc=0
    timeout --kill-after=30 "$SCENARIO_TIMEOUT" bash "$script" || rc=$?
    case "$rc" in
        0)
            passed=$((passed + 1))
            echo "=== lab: $name: PASS"
            ;;
        77)
            skipped=$((skipped + 1))
            echo "=== lab: $name: SKIP"
            ;;
        *)
            failed=$((failed + 1))
            failed_names+=("$name")
            echo "=== lab: $name: FAIL (exit $rc)"
            ;;
    esac
done

# A scenario killed by its timeout may not have cleaned up.
timeout 60 "$ROOT/scripts/lab" down >/dev/null 2>&1 || true

if ((failed > 0)); then
    echo "lab failures: ${failed_names[*]}"
fi
summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
