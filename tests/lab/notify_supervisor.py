#!/usr/bin/python3
"""A service manager's view of ulvsd: the systemd notify protocol, as systemd reads it (issue 15).

    notify_supervisor.py [--timeout S] [--after-ready CMD] [--break-config FILE]
                         [--log FILE [--journal]] -- ULVSD ARGS...

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
  5. every datagram came from ulvsd's own pid (NotifyAccess=main drops the others);
  6. with --journal: ulvsd's stderr (--log FILE) is announced as the journal's stream
     (JOURNAL_STREAM=dev:inode, as systemd sets it) and a socket bound here stands in for
     /run/systemd/journal/socket (ULVS_JOURNAL_SOCKET): ulvsd's lines arrive there as structured
     records (PRIORITY, SYSLOG_IDENTIFIER, ULVS_COMPONENT, MESSAGE), the refused reload's error at
     PRIORITY=3 with its component, and none goes to FILE.
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


def journal_records(sock: socket.socket) -> list[dict[str, str]]:
    """Every datagram queued on `sock`, parsed as the journal's native protocol."""
    out = []
    sock.setblocking(False)
    while True:
        try:
            d = sock.recv(1 << 20)
        except BlockingIOError:
            return out
        rec, i = {}, 0
        while i < len(d):
            nl = d.index(b"\n", i)
            line = d[i:nl]
            if b"=" in line:
                k, v = line.split(b"=", 1)
                rec[k.decode()] = v.decode()
                i = nl + 1
            else:  # binary form: name, newline, 64-bit little-endian length, data, newline
                n = struct.unpack("<Q", d[nl + 1:nl + 9])[0]
                rec[line.decode()] = d[nl + 9:nl + 9 + n].decode()
                i = nl + 10 + n
        out.append(rec)


def check_journal(sock: socket.socket, log: str) -> None:
    recs = journal_records(sock)
    print(f"  {len(recs)} journal records", flush=True)
    for r in recs[:3]:
        print(f"  journal: {r}", flush=True)
    check(bool(recs) and all(r.get("SYSLOG_IDENTIFIER") == "ulvsd" and "PRIORITY" in r
                             and "ULVS_COMPONENT" in r and "MESSAGE" in r for r in recs),
          "ulvsd's log lines are structured journal records", str(recs[:2]))
    check(any(r["MESSAGE"].startswith("ulvsd running") and r["PRIORITY"] == "6" for r in recs),
          "the start line at PRIORITY=6 (info)")
    check(any(r.get("ULVS_COMPONENT") == "reload refused" and r["PRIORITY"] == "3"
              for r in recs), "the refused reload at PRIORITY=3, ULVS_COMPONENT=reload refused")
    text = open(log).read()
    check("ulvsd running" not in text, "no log line on stderr meanwhile", text[-500:])


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
    ap.add_argument("--log", help="ulvsd's stdout and stderr")
    ap.add_argument("--journal", action="store_true", help="stderr is the journal (needs --log)")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    m = manager()
    env = dict(os.environ, NOTIFY_SOCKET="@" + m.name)
    log = open(a.log, "w") if a.log else None
    journal = None
    if a.journal and log:
        st = os.fstat(log.fileno())
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        path = f"/tmp/ulvs-notify-journal-{os.getpid()}.sock"
        journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        journal.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        journal.bind(path)
        env["ULVS_JOURNAL_SOCKET"] = path
    t0 = time.monotonic()
    proc = subprocess.Popen(a.cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
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
        if journal is not None:
            check_journal(journal, a.log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if journal is not None:
            os.unlink(env["ULVS_JOURNAL_SOCKET"])
    print(f"notify supervisor: {len(failures)} failed" if failures
          else "notify supervisor: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
