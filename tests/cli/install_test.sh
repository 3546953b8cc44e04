#!/usr/bin/env bash
# scripts/install (issue 15, acceptance 1): installs into a temporary prefix from the built tree
# (--no-build: meson built it), then, from there: the files in place with their modes, ulvsd
# --check on the installed example config, ulvs-runas beside ulvsd, the installed unit pointing
# into the prefix and passing `systemd-analyze verify` (man pages found in the prefix), both man
# pages rendering with their sections; and --destdir staging /usr with /etc for the config.
# usage: install_test.sh SOURCE_ROOT BUILD_DIR
set -uo pipefail
root="$1"
build=$(realpath "$2")
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
p="$tmp/prefix"

out=$("$root/scripts/install" --prefix "$p" --build "$build" --no-build 2>&1) ||
    fail "scripts/install: $out"
for f in sbin/ulvsd:755 sbin/ulvs-runas:755 bin/ulvsadm:755 lib/systemd/system/ulvsd.service:644 \
    etc/ulvs/ulvs.yaml.example:644 share/man/man8/ulvsd.8:644 share/man/man8/ulvsadm.8:644 \
    share/doc/ulvs/README.md:644; do
    path="$p/${f%:*}"
    [[ -f $path && $(stat -c %a "$path") == "${f#*:}" ]] ||
        fail "$path missing or not mode ${f#*:}: $(stat -c %a "$path" 2>&1)"
done
[[ ! -e $p/etc/ulvs/ulvs.yaml ]] || fail "install created ulvs.yaml (only the example is shipped)"

# From the prefix: the installed daemon checks the installed example.
out=$("$p/sbin/ulvsd" --check -c "$p/etc/ulvs/ulvs.yaml.example" 2>&1)
rc=$?
[[ $rc -eq 0 && $out == ok ]] || fail "installed ulvsd --check example: exit $rc: $out"
out=$("$p/bin/ulvsadm" --version 2>&1)
[[ $out == ulvsadm\ * ]] || fail "installed ulvsadm --version: $out"

unit="$p/lib/systemd/system/ulvsd.service"
grep -qxF "ExecStart=$p/sbin/ulvsd -c $p/etc/ulvs/ulvs.yaml" "$unit" ||
    fail "ExecStart does not point into the prefix: $(grep ^ExecStart "$unit")"
grep -v '^#' "$unit" | grep -qE '(=| )(/usr/sbin|/etc/ulvs)' && fail "the unit still names /usr/sbin or /etc/ulvs"
if command -v man >/dev/null; then
    out=$(MANPATH="$p/share/man" systemd-analyze verify "$unit" 2>&1)
else
    out=$(systemd-analyze verify --man=no "$unit" 2>&1)
fi
rc=$?
[[ $rc -eq 0 && -z $out ]] || fail "systemd-analyze verify on the installed unit: exit $rc: $out"

if command -v man >/dev/null; then
    for page in ulvsd ulvsadm; do
        out=$(MANWIDTH=100 man -l "$p/share/man/man8/$page.8" 2>&1)
        for s in NAME SYNOPSIS DESCRIPTION OPTIONS FILES "EXIT STATUS"; do
            grep -q "^$s\$" <<<"$out" || fail "man $page: no section $s"
        done
        grep -q "^ *$page - " <<<"$out" || fail "man $page: no NAME line"
    done
fi

# Packaging: --destdir stages /usr, the configuration under /etc, paths without the stage.
d="$tmp/stage"
"$root/scripts/install" --prefix /usr --destdir "$d" --build "$build" --no-build >/dev/null 2>&1 ||
    fail "install --destdir failed"
[[ -x $d/usr/sbin/ulvsd && -f $d/etc/ulvs/ulvs.yaml.example ]] || fail "--destdir layout"
grep -qxF "ExecStart=/usr/sbin/ulvsd -c /etc/ulvs/ulvs.yaml" "$d/usr/lib/systemd/system/ulvsd.service" ||
    fail "--destdir unit: $(grep ^ExecStart "$d/usr/lib/systemd/system/ulvsd.service")"

# An existing configuration is kept by a second install.
echo "# mine" >"$p/etc/ulvs/ulvs.yaml"
"$root/scripts/install" --prefix "$p" --build "$build" --no-build >/dev/null 2>&1 || fail "reinstall"
[[ $(cat "$p/etc/ulvs/ulvs.yaml") == "# mine" ]] || fail "reinstall touched ulvs.yaml"
"$root/scripts/install" >/dev/null 2>&1 && fail "install without --prefix succeeded"

if ((failures > 0)); then
    echo "$failures failed"
    exit 1
fi
echo "scripts/install: all checks passed"
