#!/usr/bin/python3
"""ulvsadm changes survive a restart through `save-yaml --write` (issue 15, acceptance 3).

    save_write_test.py --ulvsd PATH --ulvsadm PATH

ulvsd runs on net_null ports (no hugepages, no namespace) from a hand-written file with a
comment, mode 0640. ulvsadm changes it as an ipvsadm user would (-A, -E, -a, -e, -d, --set,
a UDP service with persistence), then `save-yaml --write`, and ulvsd is restarted on the same file.
Checks, each printed PASS/FAIL:
  1. save-yaml --write answers where it wrote and where the old file went; the file is the
     running config (save-yaml), its mode is kept, FILE.bak is the hand-written file;
  2. after the restart, `ulvsadm -Ln`, `-L --timeout` and `-S -n` are what they were before;
  3. the write is in the audit log (uid and "save-yaml --write");
  4. a file ulvsd cannot write (its directory gone) is a clear error, exit 1, nothing written.
Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail),
          flush=True)
    if not ok:
        failures.append(what)
    return ok


def config_text(d: str) -> str:
    eal = f'"--no-huge", "-m", "256", "--no-pci", "--file-prefix", "ulvs-service-{os.getpid()}"'
    return f"""# Hand-written: this comment is lost by save-yaml --write (kept in ulvs.yaml.bak).
dpdk: {{eal_args: [{eal}], mbufs: 8191}}
lcores: {{control: 0, workers: [1]}}
ports:
  - {{name: wan, device: "net_null0,no-rx=1", addresses: [203.0.113.10/24]}}
  - {{name: lan, device: "net_null1,no-rx=1", addresses: [198.51.100.1/24]}}
virtual_servers:
  - {{name: web, address: 203.0.113.100, port: 80, protocol: tcp, scheduler: rr,
     real_servers: [{{address: 198.51.100.11, port: 80}}]}}
management: {{socket: "{d}/ulvsd.sock", metrics: ""}}
"""


class daemon:
    def __init__(self, ulvsd: str, adm: str, cfg: str, sock: str, log: str):
        self.adm, self.sock = adm, sock
        self.log = open(log, "a")
        self.proc = subprocess.Popen([ulvsd, "-c", cfg], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.run("status").returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("ulvsd did not come up: " + open(log).read()[-2000:])

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.adm, "--socket", self.sock, *args], capture_output=True,
                              text=True, timeout=30)

    def stop(self) -> int | None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


CHANGES = [
    ["-E", "-t", "203.0.113.100:80", "-s", "wrr"],
    ["-a", "-t", "203.0.113.100:80", "-r", "198.51.100.12:80", "-g", "-w", "3"],
    ["-e", "-t", "203.0.113.100:80", "-r", "198.51.100.11:80", "-g", "-w", "2", "-x", "100"],
    ["-A", "-t", "203.0.113.101:80", "-s", "wlc"],
    ["-a", "-t", "203.0.113.101:80", "-r", "198.51.100.13:8080", "-m", "-w", "5"],
    ["-a", "-t", "203.0.113.101:80", "-r", "198.51.100.14:8080", "-m", "-w", "0"],
    ["-d", "-t", "203.0.113.101:80", "-r", "198.51.100.14:8080"],
    ["-A", "-u", "203.0.113.100:53", "-s", "rr", "-p", "60"],
    ["-a", "-u", "203.0.113.100:53", "-r", "198.51.100.11:53", "-m"],
    ["--set", "900", "120", "300"],
]
LISTINGS = [["-Ln"], ["-L", "--timeout"], ["-S", "-n"], ["-Ln", "--persistent-conn"]]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--ulvsadm", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ulvs-save-write-") as d:
        etc = os.path.join(d, "etc")
        os.mkdir(etc)
        cfg = os.path.join(etc, "ulvs.yaml")
        original = config_text(d)
        with open(cfg, "w") as f:
            f.write(original)
        os.chmod(cfg, 0o640)
        sock, log = f"{d}/ulvsd.sock", f"{d}/ulvsd.log"
        dm = daemon(a.ulvsd, a.ulvsadm, cfg, sock, log)
        try:
            for c in CHANGES:
                r = dm.run(*c)
                check(r.returncode == 0, "ulvsadm " + " ".join(c), r.stderr)
            before = {" ".join(x): dm.run(*x).stdout for x in LISTINGS}
            running = dm.run("save-yaml").stdout
            r = dm.run("save-yaml", "--write")
            check(r.returncode == 0 and r.stdout == f"wrote {cfg} (the previous file is "
                  f"{cfg}.bak)\n", "save-yaml --write says where", f"{r.returncode} {r.stdout!r} "
                  f"{r.stderr!r}")
            written = open(cfg).read()
            check(written == running, "the file is the running configuration (save-yaml)")
            check(stat.S_IMODE(os.stat(cfg).st_mode) == 0o640, "the file's mode (0640) is kept",
                  oct(os.stat(cfg).st_mode))
            check(open(cfg + ".bak").read() == original, "FILE.bak is the hand-written file")
        finally:
            rc = dm.stop()
        check(rc == 0, "ulvsd stops cleanly", f"status {rc}")
        audit = [line for line in open(log) if "save-yaml --write" in line]
        check(any("audit: uid " + str(os.getuid()) + ": save-yaml --write" in line
                  for line in audit), "the write is audited", "".join(audit))

        dm = daemon(a.ulvsd, a.ulvsadm, cfg, sock, log)
        try:
            after = {" ".join(x): dm.run(*x).stdout for x in LISTINGS}
            for k in before:
                check(after[k] == before[k] and before[k] != "",
                      f"after the restart, ulvsadm {k} is the same",
                      f"before:\n{before[k]}\nafter:\n{after[k]}")
            # A file that cannot be written: its directory is gone.
            os.rename(etc, etc + ".moved")
            r = dm.run("save-yaml", "--write")
            check(r.returncode == 1 and r.stderr.startswith(f"cannot write {cfg}: ")
                  and "No such file or directory" in r.stderr,
                  "an unwritable file: a clear error, exit 1", f"{r.returncode} {r.stderr!r}")
            check(not os.path.exists(etc), "nothing written")
        finally:
            rc = dm.stop()
        check(rc == 0, "ulvsd stops cleanly (second run)", f"status {rc}")
    print(f"save-yaml --write: {len(failures)} failed" if failures
          else "save-yaml --write: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
