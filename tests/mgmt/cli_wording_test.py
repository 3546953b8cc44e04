#!/usr/bin/python3
"""ulvsadm as an ipvsadm user expects it (issue 16), through a running ulvsd.

    cli_wording_test.py --ulvsd PATH --ulvsadm PATH [--prefix NAME]

Runs in a private network namespace (re-executes itself under `unshare -n`); ulvsd on two
net_null ports, a down server through a misc check (/bin/false). Checks, each printed PASS/FAIL:
  1. with no --socket and no ULVS_SOCKET, ulvsadm finds the socket named by management.socket in
     the config file (ULVS_CONFIG stands for /etc/ulvs/ulvs.yaml here);
  2. -a of a destination the service has is refused in ipvsadm's words ("Destination already
     exists"), also for a DR server the file lists with another port, never in the file's terms;
  3. a change the validator refuses names the service as ipvsadm does (TCP VIP:port);
  4. -e on a server that is down succeeds and says so (it shows in -S, not in -L);
  5. the sync daemons as ipvsadm's (issue 18): --start-daemon master then backup (both),
     -L --daemon in ipvsadm's lines, save-yaml's `sync:`, "Daemon has already run", "No daemon
     is running", a second daemon's contradicting --syncid refused, --stop-daemon of each.
Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True

failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    if not ok:
        failures.append(what)
    return ok


def config_text(d: str, prefix: str) -> str:
    eal = f'["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "{prefix}-{os.getpid()}"]'
    rs = ", ".join(f'{{address: 198.51.100.{i}, mac: "02:00:00:00:00:{i}", port: lan}}'
                   for i in (11, 12, 13))
    return f"""
dpdk: {{eal_args: {eal}, mbufs: 8191}}
lcores: {{control: 0, workers: [1]}}
ports:
  - {{name: wan, device: "net_null0,no-rx=1", addresses: [203.0.113.10/24]}}
  - {{name: lan, device: "net_null1,no-rx=1", addresses: [198.51.100.1/24]}}
neighbors: [{rs}]
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: wrr
    forwarding: dr
    real_servers:
      - {{address: 198.51.100.11, port: 8080, weight: 1}}
      - address: 198.51.100.12
        port: 80
        weight: 1
        health_check: {{type: misc, path: /bin/false, delay_loop: 1s, timeout: 1s, retry: 0}}
management: {{socket: "{d}/ulvsd.sock"}}
"""


def sync_daemons(adm) -> None:
    """5. --start-daemon / --stop-daemon / -L --daemon through the running ulvsd."""
    line = ("{} sync daemon (mcast=wan, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, "
            "ttl=1)\n")
    r = adm("-L", "--daemon")
    check(r.returncode == 0 and r.stdout == "", "-L --daemon with no daemon: nothing",
          r.stdout + r.stderr)
    r = adm("--start-daemon", "master", "--mcast-interface", "wan", "--syncid", "3")
    shown = adm("-L", "--daemon").stdout
    check(r.returncode == 0 and shown == line.format("master"),
          "--start-daemon master: -L --daemon prints ipvsadm's line", r.stderr + shown)
    saved = adm("save-yaml").stdout
    check('sync: {role: master, interface: "wan", port: 8848, group: 224.0.0.81, syncid: 3,'
          in saved, "save-yaml shows the master daemon as sync:", saved[-400:])
    r = adm("--start-daemon", "master", "--mcast-interface", "wan")
    check(r.returncode == 1 and r.stderr.startswith("Daemon has already run"),
          "--start-daemon of a running daemon: Daemon has already run", r.stderr)
    r = adm("--start-daemon", "backup", "--syncid", "4")
    check(r.returncode == 1 and "--syncid 4 differs from the running master daemon's syncid 3"
          in r.stderr, "a backup contradicting the master's syncid is refused", r.stderr)
    r = adm("--start-daemon", "backup")
    shown = adm("-L", "--daemon").stdout
    check(r.returncode == 0 and shown == line.format("master") + line.format("backup")
          and "sync: {role: both," in adm("save-yaml").stdout,
          "--start-daemon backup with the master running: both, two lines", r.stderr + shown)
    r = adm("--stop-daemon", "master")
    shown = adm("-L", "--daemon").stdout
    check(r.returncode == 0 and shown == line.format("backup")
          and "sync: {role: backup," in adm("save-yaml").stdout,
          "--stop-daemon master leaves the backup", r.stderr + shown)
    r = adm("--stop-daemon", "master")
    check(r.returncode == 1 and r.stderr.startswith("No daemon is running"),
          "--stop-daemon of a daemon not running: No daemon is running", r.stderr)
    r = adm("--stop-daemon", "backup")
    check(r.returncode == 0 and adm("-L", "--daemon").stdout == ""
          and "sync:" not in adm("save-yaml").stdout,
          "--stop-daemon backup: no daemon, no sync: in save-yaml", r.stderr)
    r = adm("--start-daemon", "master")
    check(r.returncode == 1 and "You need to supply the 'mcast-interface' option" in r.stderr,
          "--start-daemon without --mcast-interface on two ports is refused", r.stderr)
    r = adm("--start-daemon", "master", "--syncid", "300")
    check(r.returncode == 2 and r.stderr.startswith("illegal syncid specified"),
          "--syncid 300: ipvsadm's usage error, exit 2", r.stderr)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--ulvsadm", required=True)
    ap.add_argument("--prefix", default="ulvs-cliword", help="EAL --file-prefix (plus the pid)")
    a = ap.parse_args()
    if os.environ.get("ULVS_CLIWORD_NETNS") != "1":
        env = dict(os.environ, ULVS_CLIWORD_NETNS="1")
        return subprocess.run(["unshare", "-n", "/usr/bin/python3", *sys.argv], env=env).returncode
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.TemporaryDirectory(prefix="ulvs-cliword-") as d:
        cfg = f"{d}/ulvs.yaml"
        with open(cfg, "w") as f:
            f.write(config_text(d, a.prefix))
        env = {k: v for k, v in os.environ.items() if k not in ("ULVS_SOCKET", "ULVS_CONFIG")}
        env["ULVS_CONFIG"] = cfg

        def adm(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([os.path.abspath(a.ulvsadm), *args], capture_output=True,
                                  text=True, env=env, timeout=30)

        log = open(f"{d}/ulvsd.log", "w")
        proc = subprocess.Popen(["timeout", "-s", "TERM", "120", os.path.abspath(a.ulvsd), "-c",
                                 cfg], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            r = adm("status")
            while r.returncode != 0 and time.time() < deadline and proc.poll() is None:
                time.sleep(0.2)
                r = adm("status")
            check(r.returncode == 0,
                  "no --socket, no ULVS_SOCKET: ulvsadm finds management.socket of the config",
                  r.stderr)
            if r.returncode != 0:
                print(open(f"{d}/ulvsd.log").read()[-2000:])
                return 1
            # 2. ipvsadm's EEXIST wording, with our detail.
            r = adm("-a", "-t", "203.0.113.100:80", "-r", "198.51.100.11:80", "-g")
            check(r.returncode == 1 and r.stderr.startswith("Destination already exists")
                  and "198.51.100.11:8080" in r.stderr and "virtual_servers" not in r.stderr,
                  "-a of a DR server the file lists with another port: Destination already "
                  "exists", r.stderr)
            r = adm("-a", "-t", "203.0.113.100:80", "-r", "198.51.100.12:80", "-g")
            check(r.returncode == 1 and r.stderr.startswith("Destination already exists"),
                  "-a of an existing destination: Destination already exists", r.stderr)
            r = adm("-d", "-t", "203.0.113.100:80", "-r", "198.51.100.99:80")
            check(r.returncode == 1 and r.stderr.startswith("No such destination"),
                  "-d of an unknown destination: No such destination", r.stderr)
            # 3. The validator's refusal, named as ipvsadm names services.
            r = adm("-a", "-t", "203.0.113.100:80", "-r", "198.51.100.13:80", "-g", "-x", "10",
                    "-y", "20")
            check(r.returncode == 1
                  and r.stderr.startswith('service TCP 203.0.113.100:80 ("web"): '),
                  "a refused -a names the service TCP VIP:port", r.stderr)
            # 4. -e on the down server: accepted, and said.
            time.sleep(1.5)  # its check has failed by now
            r = adm("-e", "-t", "203.0.113.100:80", "-r", "198.51.100.12:80", "-g", "-w", "5")
            saved = adm("-S", "-n").stdout
            check(r.returncode == 0 and "198.51.100.12 is not in service" in r.stderr
                  and "198.51.100.12:80 -g -w 5" in saved
                  and "198.51.100.12" not in adm("-Ln").stdout,
                  "-e on a down server: done, and the reply says it is not in service",
                  r.stderr + saved)
            r = adm("-e", "-t", "203.0.113.100:80", "-r", "198.51.100.11:80", "-g", "-w", "2")
            check(r.returncode == 0 and r.stderr == "", "-e on an up server: no note", r.stderr)
            sync_daemons(adm)
        finally:
            proc.send_signal(signal.SIGTERM)  # we started it: stopped by its pid
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            if failures:
                print(open(f"{d}/ulvsd.log").read()[-2000:])
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
