#!/usr/bin/env bash
# config/ulvsd.service (issue 15, acceptance 1): `systemd-analyze verify` passes on it, with no
# warning at all (verify exits 0 on unknown keys, so its output must be empty too), and it says
# what the service needs: Type=notify from the main process, the -c file, reload by SIGHUP.
# systemd-analyze works offline: PID 1 need not be systemd. Its ExecStart must exist, so the
# unit is checked with the built ulvsd in place of /usr/sbin/ulvsd (scripts/install does the
# same substitution). Also checks that a broken copy is caught, so the check can fail.
# usage: unit_file_test.sh ULVSD SOURCE_ROOT
set -uo pipefail
ulvsd=$(realpath "$1")
root="$2"
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
command -v systemd-analyze >/dev/null || {
    echo "FAIL: systemd-analyze missing (scripts/bootstrap installs the systemd package)"
    exit 1
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

unit="$root/config/ulvsd.service"
sed "s#/usr/sbin/ulvsd#$ulvsd#g" "$unit" >"$dir/ulvsd.service"
# Man pages are checked by the install test (they exist only once installed).
out=$(systemd-analyze verify --man=no "$dir/ulvsd.service" 2>&1)
rc=$?
[[ $rc -eq 0 && -z $out ]] || fail "systemd-analyze verify: exit $rc: $out"

# shellcheck disable=SC2016 # $MAINPID is systemd's, literally in the unit
for line in 'Type=notify' 'NotifyAccess=main' 'ExecStart=/usr/sbin/ulvsd -c /etc/ulvs/ulvs.yaml' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'RestartPreventExitStatus=2' \
    'LimitMEMLOCK=infinity' 'WantedBy=multi-user.target'; do
    grep -qxF -- "$line" "$unit" || fail "$unit has no line $line"
done

# The check catches mistakes: a misspelt key, and an ExecStart that is not there.
sed 's/^NotifyAccess=/NotifyAcess=/' "$dir/ulvsd.service" >"$dir/typo.service"
out=$(systemd-analyze verify --man=no "$dir/typo.service" 2>&1)
[[ $out == *"Unknown key"*NotifyAcess* ]] || fail "a misspelt key went unnoticed: $out"
sed "s#$ulvsd#/nonexistent/ulvsd#g" "$dir/ulvsd.service" >"$dir/missing.service"
systemd-analyze verify --man=no "$dir/missing.service" >/dev/null 2>&1 &&
    fail "a missing ExecStart binary passed"

if ((failures > 0)); then
    echo "$failures failed"
    exit 1
fi
echo "ulvsd.service: all checks passed"
