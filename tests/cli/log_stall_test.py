#!/usr/bin/python3
"""ulvsd's logging never stalls the control lcore (issue 13).

    log_stall_test.py --ulvsd PATH --ulvsadm PATH

ulvsd runs (net_null ports, no hugepages) with its stderr, where it logs, on a pipe that nobody
reads, as a stopped terminal or a stuck log collector would hold it. Reloads (SIGHUP) each log
a line naming the configuration file, whose path is made 3 KB long, so a few dozen fill the
pipe's 64 KiB. A synchronous logger then blocks in write() on the control lcore and
`ulvsadm -Ln` gets no answer; the asynchronous one queues the lines (and past its queue drops
the oldest) instead. Checks, each printed PASS/FAIL:
  1. `ulvsadm -Ln` answers within 1 s after the flood;
  2. once the pipe is read, the log lines are there (the first ones, and the stop message after
     SIGTERM: flushed at exit);
  3. ulvsd stops on SIGTERM within 10 s.
Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time

failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    if not ok:
        failures.append(what)
    return ok


def config_text(d: str) -> str:
    prefix = f"ulvs-log-stall-{os.getpid()}"
    return f"""
dpdk: {{eal_args: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "{prefix}"], mbufs: 8191}}
lcores: {{control: 0, workers: [1]}}
ports:
  - {{name: wan, device: "net_null0,no-rx=1", addresses: [203.0.113.10/24]}}
  - {{name: lan, device: "net_null1,no-rx=1", addresses: [198.51.100.1/24]}}
virtual_servers: []
management: {{socket: "{d}/ulvsd.sock", metrics: ""}}
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--ulvsadm", required=True)
    ap.add_argument("--reloads", type=int, default=300)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ulvs-log-stall-") as d:
        long_dir = os.path.join(d, *(["x" * 200] * 15))  # every reload logs this path
        os.makedirs(long_dir)
        cfg = os.path.join(long_dir, "ulvs.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(d))
        proc = subprocess.Popen([a.ulvsd, "-c", cfg], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        sock = f"{d}/ulvsd.sock"
        try:
            deadline = time.time() + 30
            while not os.path.exists(sock):
                if proc.poll() is not None or time.time() > deadline:
                    check(False, "ulvsd starts", proc.stderr.read().decode()
                          if proc.poll() is not None else "no socket after 30 s")
                    return 1
                time.sleep(0.1)
            # Nobody reads stderr from here on.
            for _ in range(a.reloads):
                os.kill(proc.pid, signal.SIGHUP)
                time.sleep(0.005)
            time.sleep(0.5)
            t0 = time.time()
            answered = False
            try:
                r = subprocess.run([a.ulvsadm, "--socket", sock, "-Ln"], capture_output=True,
                                   timeout=5)
                took = time.time() - t0
                answered = check(r.returncode == 0 and took < 1.0,
                      f"ulvsadm -Ln answers with the log pipe full ({took * 1000:.0f} ms)",
                      f"exit {r.returncode}: {r.stderr.decode()[:200]}")
            except subprocess.TimeoutExpired:
                check(False, "ulvsadm -Ln answers with the log pipe full",
                      "no answer in 5 s: the control lcore is stuck writing a log line")
            # Read what is there (without blocking), then stop the daemon and read the rest.
            fl = fcntl.fcntl(proc.stderr, fcntl.F_GETFL)
            fcntl.fcntl(proc.stderr, fcntl.F_SETFL, fl | os.O_NONBLOCK)
            out = b""
            try:
                while chunk := proc.stderr.read(1 << 16):
                    out += chunk
            except (BlockingIOError, TypeError):
                pass
            fcntl.fcntl(proc.stderr, fcntl.F_SETFL, fl)
            proc.send_signal(signal.SIGTERM)
            try:
                _, rest = proc.communicate(timeout=10)
                out += rest
                check(True, "ulvsd stops on SIGTERM")
            except subprocess.TimeoutExpired:
                check(False, "ulvsd stops on SIGTERM", "still running 10 s after SIGTERM")
            text = out.decode(errors="replace")
            reloads = text.count("reloaded ")
            check("ulvsd running" in text and reloads > 0 and "stopping (signal)" in text,
                  f"log lines written ({reloads} reload lines, {len(out) >> 10} KiB, for "
                  f"{a.reloads} SIGHUPs; the stop message flushed at exit)", text[-500:])
            if answered:  # else the daemon stalled, which is what this test looks for
                check(len(out) > 2 * 65536, "the flood was larger than the pipe",
                      f"only {len(out)} bytes logged: the test proves nothing")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("ulvsd logging: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
