#!/usr/bin/env bash
# ulvsd's command line as the README documents it: --check on every shipped config and on a file
# with five mistakes, --version, --help (and ulvsadm's), and the exit codes of bad usage.
# usage: ulvsd_cli.sh ULVSD SOURCE_ROOT [ULVSADM]
set -uo pipefail
ulvsd="$1"
root="$2"
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

for f in "$root"/config/*.yaml; do
    out=$("$ulvsd" -c "$f" --check 2>&1)
    rc=$?
    [[ $rc -eq 0 && $out == "ok" ]] || fail "--check $f: exit $rc, output: $out"
done

bad="$root/tests/unit/config/bad/five_mistakes.yaml"
out=$("$ulvsd" -c "$bad" --check 2>&1)
rc=$?
[[ $rc -eq 2 ]] || fail "--check five_mistakes.yaml exit $rc, want 2"
[[ $(grep -c ': error: ' <<<"$out") -eq 5 ]] || fail "want 5 errors, got: $out"
for pos in 9:5 14:10 18:8 25:16 29:19; do
    grep -q "^$bad:$pos: error: " <<<"$out" || fail "no error at $pos in: $out"
done
# The daemon refuses to start on the same errors, with the same exit code.
"$ulvsd" -c "$bad" >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || fail "starting on a bad config: exit $rc, want 2"

# dpdk.mbufs below what the ports, rings and caches can hold (issue 12): the minimum and its terms.
low="$root/tests/unit/config/bad/mbufs_too_low.yaml"
out=$("$ulvsd" -c "$low" --check 2>&1)
rc=$?
[[ $rc -eq 2 ]] || fail "--check mbufs_too_low.yaml exit $rc, want 2"
grep -q "^$low:4:10: error: dpdk.mbufs 2047 is below the 6877 mbufs .*worker -> control rings \
2046 (1 x (1023 + 1023)).*set dpdk.mbufs to at least 6877$" <<<"$out" || fail "mbufs message: $out"
"$ulvsd" -c "$low" >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || fail "starting with too few mbufs: exit $rc, want 2"

# A bare number far above what its key takes (issue 16: delay_loop: 3000 meant as ms): loads,
# with a warning at the value, from --check and at start alike.
warn=$(mktemp --suffix=.yaml)
cat >"$warn" <<'EOF'
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_null0", addresses: [203.0.113.10/24]}
  - {name: lan, device: "net_null1", addresses: [198.51.100.1/24]}
virtual_servers:
  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp, scheduler: rr,
     health_check: {type: tcp, delay_loop: 3000},
     real_servers: [{address: 198.51.100.11, port: 80}]}
EOF
out=$("$ulvsd" -c "$warn" --check 2>&1)
rc=$?
[[ $rc -eq 0 && $out == "$warn:7:44: warning: virtual_servers[0].health_check.delay_loop: 3000 is \
read as seconds (3000s); above 600s that is unlikely for this key: write 3000ms if milliseconds \
were meant, or 3000s to keep it"$'\n'"ok" ]] || fail "delay_loop warning: exit $rc, output: $out"
rm -f "$warn"

out=$("$ulvsd" -c /nonexistent/ulvs.yaml --check 2>&1)
rc=$?
[[ $rc -eq 2 && $out == *"/nonexistent/ulvs.yaml"*"error"* ]] || fail "missing file: exit $rc: $out"

"$ulvsd" --no-such-flag >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || fail "unknown flag: exit $rc, want 2"
"$ulvsd" --exit-idle abc --check >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || fail "--exit-idle abc: exit $rc, want 2"

out=$("$ulvsd" --version)
rc=$?
[[ $rc -eq 0 && $out == ulvsd\ * ]] || fail "--version: exit $rc: $out"

# --help (issue 16: it was an error; issue 15: a manual page): on stdout, exit 0, the sections
# of a man page in order, every option named.
for h in --help -h; do
    out=$("$ulvsd" "$h" 2>/dev/null)
    rc=$?
    [[ $rc -eq 0 && $out == NAME$'\n'"    ulvsd - "* ]] || fail "$h: exit $rc: $out"
    [[ $(grep -E '^[A-Z][A-Z ]+$' <<<"$out" | tr '\n' ' ') == \
        "NAME SYNOPSIS DESCRIPTION OPTIONS FILES SIGNALS EXIT STATUS SEE ALSO " ]] ||
        fail "$h sections: $(grep -E '^[A-Z][A-Z ]+$' <<<"$out" | tr '\n' ' ')"
    for o in --config --check --exit-idle --log-level --version SIGHUP SIGTERM READY=1; do
        grep -q -- "$o" <<<"$out" || fail "$h does not explain $o"
    done
done
# Bad usage still prints the short usage line, on stderr.
out=$("$ulvsd" --no-such-flag 2>&1 >/dev/null)
[[ $out == *"usage: ulvsd [-c FILE]"* ]] || fail "bad usage output: $out"

# ulvsadm's manual page (issue 15), when the test is given ulvsadm.
if [[ -n ${3:-} ]]; then
    for h in --help -h; do
        out=$("$3" "$h" 2>/dev/null)
        rc=$?
        [[ $rc -eq 0 && $out == NAME$'\n'"    ulvsadm - "* ]] || fail "ulvsadm $h: exit $rc: $out"
        [[ $(grep -E '^[A-Z][A-Z ]+$' <<<"$out" | tr '\n' ' ') == \
            "NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS FILES EXIT STATUS SEE ALSO " ]] ||
            fail "ulvsadm $h sections: $(grep -E '^[A-Z][A-Z ]+$' <<<"$out" | tr '\n' ' ')"
        grep -q -- "save-yaml --write" <<<"$out" || fail "ulvsadm $h does not explain --write"
    done
fi

if ((failures > 0)); then
    echo "$failures failed"
    exit 1
fi
echo "ulvsd CLI: all checks passed"
