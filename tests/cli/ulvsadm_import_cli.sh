#!/usr/bin/env bash
# ulvsadm import-keepalived as a command (README "Managing it"): the YAML on stdout only, the
# warnings on stderr, the exit codes of its --help (0 valid, 1 printed but refused, 2 nothing
# printed or bad usage), and what it calls valid is what `ulvsd --check` calls valid.
# usage: ulvsadm_import_cli.sh ULVSADM ULVSD SOURCE_ROOT
set -uo pipefail
ulvsadm="$1"
ulvsd="$2"
data="$3/tests/unit/import/data"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run NAME ARGS...: import into $tmp/NAME.yaml and $tmp/NAME.err; sets rc.
run() {
    local name="$1"
    shift
    "$ulvsadm" import-keepalived "$@" >"$tmp/$name.yaml" 2>"$tmp/$name.err"
    rc=$?
}

for c in "dr_tutorial.conf" "fwmark.conf --iptables $data/fwmark.rules" \
    "include/keepalived.conf"; do
    read -r conf rest <<<"$c"
    name="$(basename "$conf" .conf)"
    # shellcheck disable=SC2086 # rest: the optional --iptables FILE
    run "$name" "$data/$conf" --base "$data/base.yaml" $rest
    [[ $rc -eq 0 ]] || fail "$conf: exit $rc, want 0: $(cat "$tmp/$name.err")"
    out="$("$ulvsd" -c "$tmp/$name.yaml" --check 2>&1)"
    [[ $? -eq 0 && $out == ok ]] || fail "$conf: ulvsd --check on the import: $out"
    grep -q ': warning: \|: error: ' "$tmp/$name.yaml" && fail "$conf: diagnostics on stdout"
done
grep -q "^$data/dr_tutorial.conf:4:4: warning: notification_email " "$tmp/dr_tutorial.err" ||
    fail "dr_tutorial.conf: no FILE:LINE:COL warning on stderr: $(cat "$tmp/dr_tutorial.err")"

# Without --base: printed, refused by the loader (the placeholder ports have no addresses), 1;
# ulvsd --check agrees that it is invalid.
run nobase "$data/dr_tutorial.conf"
[[ $rc -eq 1 ]] || fail "without --base: exit $rc, want 1"
grep -q '^ports:' "$tmp/nobase.yaml" || fail "without --base: no placeholder ports"
"$ulvsd" -c "$tmp/nobase.yaml" --check >/dev/null 2>&1 && fail "ulvsd --check accepts the draft"

# Unsafe settings, a fwmark service without --iptables, bad usage: 2, nothing on stdout.
run errors "$data/errors.conf" --base "$data/base.yaml"
[[ $rc -eq 2 && ! -s "$tmp/errors.yaml" ]] ||
    fail "errors.conf: exit $rc, stdout $(wc -c <"$tmp/errors.yaml") bytes"
run norules "$data/fwmark.conf" --base "$data/base.yaml"
[[ $rc -eq 2 ]] || fail "fwmark without --iptables: exit $rc, want 2"
grep -q 'fwmark services (1, 2) need the iptables rules' "$tmp/norules.err" ||
    fail "fwmark without --iptables: $(cat "$tmp/norules.err")"
run usage
[[ $rc -eq 2 ]] || fail "no FILE: exit $rc, want 2"
run usage2 "$data/dr_tutorial.conf" --bogus
[[ $rc -eq 2 ]] || fail "unknown option: exit $rc, want 2"
run help --help
if [[ $rc -ne 0 ]] || ! grep -q '^Usage: ulvsadm import-keepalived' "$tmp/help.yaml"; then
    fail "--help: exit $rc"
fi

if ((failures > 0)); then
    echo "$failures failure(s)"
    exit 1
fi
echo "ulvsadm import-keepalived CLI: ok"
