#!/usr/bin/python3
"""A service manager's view of ulvsd: the systemd notify protocol, as systemd reads it (issue 15).

    notify_supervisor.py [--timeout S] [--after-ready CMD] [--break-config FILE] -- ULVSD ARGS...

PID 1 is not systemd on the lab machine, so no transient unit: this plays systemd's part for
ulvsd.service (Type=notify, NotifyAccess=main). It binds a datagram socket in the abstract
namespace with SO_PASSCRED (systemd's /run/systemd/notify does the same), starts ulvsd with
NOTIFY_SOCKET=@name, and checks, each printed PASS/FAIL:
  1. READY=1 arrives within --timeout (then --after-ready CMD, e.g. a request through the VIP,
     must succeed: ready means forwarding);
  2. SIGHUP (systemctl reload): RELOADING=1 with a MONOTONIC_USEC of now, then READY=1 whose
     STATUS says reloaded;
  3. with --break-config: FILE made invalid, SIGHUP: RELOADING=1, then READY=1 whose STATUS says
     the reload was refused (the daemon runs on), FILE restored;
  4. SIGTERM (systemctl stop): STOPPING=1, then exit status 0;
  5. every datagram came from ulvsd's own pid (NotifyAccess=main drops the others).
Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import time

failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail),
          flush=True)
    if not ok:
        failures.append(what)
    return ok


class manager:
    def __init__(self) -> None:
        self.name = f"ulvs-notify-{os.getpid()}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind("\0" + self.name)
        self.seen: list[tuple[int, dict[str, str]]] = []  # (sender pid, fields)

    def wait_for(self, key: str, timeout: float) -> dict[str, str] | None:
        """The next datagram with `key` (earlier ones are recorded), or None at the timeout."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                return None
            pid = -1
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", payload[:12])[0]
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            self.seen.append((pid, fields))
            print(f"  notify from pid {pid}: {data.decode()!r}", flush=True)
            if key in fields:
                return fields
        return None


def monotonic_usec() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def reload(m: manager, proc: subprocess.Popen, timeout: float, want_status: str, what: str):
    t0 = monotonic_usec()
    proc.send_signal(signal.SIGHUP)
    r = m.wait_for("RELOADING", timeout)
    if check(r is not None and r["RELOADING"] == "1", f"{what}: RELOADING=1 after SIGHUP"):
        usec = int(r.get("MONOTONIC_USEC", "0"))
        check(t0 <= usec <= monotonic_usec(), f"{what}: MONOTONIC_USEC is CLOCK_MONOTONIC now",
              f"{usec} not in [{t0}, {monotonic_usec()}]")
    ready = m.wait_for("READY", timeout)
    check(ready is not None and want_status in ready.get("STATUS", ""),
          f"{what}: READY=1 once done, STATUS says {want_status!r}", str(ready))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--after-ready", help="shell command that must succeed once ready")
    ap.add_argument("--break-config", help="the -c file, made invalid for a refused reload")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    m = manager()
    env = dict(os.environ, NOTIFY_SOCKET="@" + m.name)
    t0 = time.monotonic()
    proc = subprocess.Popen(a.cmd, env=env, stdin=subprocess.DEVNULL)
    try:
        ready = m.wait_for("READY", a.timeout)
        if not check(ready is not None and ready["READY"] == "1",
                     f"READY=1 within {a.timeout:.0f} s ({time.monotonic() - t0:.1f} s)",
                     f"exit status {proc.poll()}"):
            return 1
        check("running" in ready.get("STATUS", ""), "STATUS with READY=1", str(ready))
        if a.after_ready:
            r = subprocess.run(a.after_ready, shell=True, timeout=30)
            check(r.returncode == 0, f"ready means serving: {a.after_ready}",
                  f"exit {r.returncode}")
        reload(m, proc, a.timeout, "reloaded", "reload")
        if a.break_config:
            text = open(a.break_config).read()
            with open(a.break_config, "a") as f:
                f.write("\nno_such_key: 1\n")
            try:
                reload(m, proc, a.timeout, "reload refused", "invalid file")
            finally:
                with open(a.break_config, "w") as f:
                    f.write(text)
            check(proc.poll() is None, "ulvsd runs on after a refused reload")
        proc.send_signal(signal.SIGTERM)
        stopping = m.wait_for("STOPPING", a.timeout)
        check(stopping is not None and stopping["STOPPING"] == "1", "STOPPING=1 after SIGTERM")
        try:
            rc = proc.wait(timeout=a.timeout)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "exit status 0 after SIGTERM", f"status {rc}")
        others = [p for p, _ in m.seen if p != proc.pid]
        check(bool(m.seen) and not others,
              f"every datagram from ulvsd's pid {proc.pid} (NotifyAccess=main)", str(others))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"notify supervisor: {len(failures)} failed" if failures
          else "notify supervisor: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
