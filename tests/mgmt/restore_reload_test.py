#!/usr/bin/python3
"""keepalived + ipvsadm semantics through a running ulvsd (issues 13 and 16).

    restore_reload_test.py --ulvsd PATH --ulvsadm PATH [--prefix NAME]

Runs in a private network namespace (re-executes itself under `unshare -n`). ulvsd runs on two
net_null ports (no traffic is needed); health checks are misc scripts (/bin/true up, /bin/false
down), so which servers are down is known. Checks, each printed PASS/FAIL:
  1. -S saves the configured servers and weights, not the health-adjusted view (a down server is
     saved, an inhibited one at its weight, the sorry server is not a real server), and
     `-S > rules; -C; -R < rules` restores exactly the configured state: save-yaml is the same
     (names, checks, sorry server, forwarding), health and the metrics' labels are back, and the
     down servers are down again;
  2. (a second ulvsd) VRRP follows a reload as keepalived's reload does: tracked services are
     those of the last reload (one moved to another port is followed); a reload that adds a
     tracked virtual server whose servers are all down puts the instance in FAULT; a removed
     instance is gone.
Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True

METRICS = "127.0.0.1:9146"
failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    if not ok:
        failures.append(what)
    return ok


def misc(path: str) -> str:
    return f"{{type: misc, path: {path}, delay_loop: 1s, timeout: 1s, retry: 0}}"


WEB = f"""  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: wrr
    forwarding: nat
    health_check: {misc("/bin/true")}
    real_servers:
      - {{address: 198.51.100.11, port: 80, weight: 3}}
      - {{address: 198.51.100.12, port: 80, weight: 2, health_check: {misc("/bin/false")}}}
      - address: 198.51.100.13
        port: 80
        weight: 1
        inhibit_on_failure: true
        health_check: {misc("/bin/false")}
"""
API = f"""  - name: api
    address: 203.0.113.100
    port: 8080
    protocol: tcp
    scheduler: rr
    forwarding: nat
    sorry_server: {{address: 198.51.100.99, port: 8080}}
    health_check: {misc("/bin/false")}
    real_servers:
      - {{address: 198.51.100.12, port: 8080, weight: 1}}
"""


def config_text(d: str, prefix: str, services: str, vrrp: str = "") -> str:
    rs = ", ".join(f'{{address: 198.51.100.{i}, mac: "02:00:00:00:00:{i}", port: lan}}'
                   for i in (11, 12, 13, 99))
    eal = f'["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "{prefix}-{os.getpid()}"]'
    return f"""
dpdk: {{eal_args: {eal}, mbufs: 8191}}
lcores: {{control: 0, workers: [1]}}
ports:
  - {{name: wan, device: "net_null0,no-rx=1", addresses: [203.0.113.10/24]}}
  - {{name: lan, device: "net_null1,no-rx=1", addresses: [198.51.100.1/24]}}
neighbors: [{rs}]
virtual_servers:
{services}
{vrrp}
management: {{socket: "{d}/ulvsd.sock", metrics: "{METRICS}"}}
"""


class daemon:
    def __init__(self, ulvsd: str, adm: str, d: str):
        self.adm, self.d = adm, d
        self.sock = f"{d}/ulvsd.sock"
        self.log = open(f"{d}/ulvsd.log", "w")
        self.proc = subprocess.Popen(["timeout", "-s", "TERM", "200", ulvsd, "-c",
                                      f"{d}/ulvs.yaml"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.run("status").returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("ulvsd did not come up: " + open(f"{d}/ulvsd.log").read())

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, ULVS_SOCKET=self.sock)
        return subprocess.run([self.adm, *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=30)

    def until(self, what, seconds: float = 15) -> bool:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if what():
                return True
            time.sleep(0.2)
        return what()

    def stop(self) -> int:
        # timeout(1) forwards SIGTERM to ulvsd; we started both and stop them by pid.
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -1


def dest_line(addr: str, weight: int) -> str:
    return "  -> %-28s %-7s %-6d %-10u %-10u" % (addr, "Masq", weight, 0, 0)


# -Ln once health settled: .12 (down) removed, .13 (down, inhibited) at weight 0, api (quorum
# lost: its only server is down) on its sorry server.
SETTLED = [
    "TCP  203.0.113.100:80 wrr",
    dest_line("198.51.100.11:80", 3),
    dest_line("198.51.100.13:80", 0),
    "TCP  203.0.113.100:8080 rr",
    dest_line("198.51.100.99:8080", 1),
]
# -S: what is configured, whatever health says.
RULES = [
    "-A -t 203.0.113.100:80 -s wrr",
    "-a -t 203.0.113.100:80 -r 198.51.100.11:80 -m -w 3",
    "-a -t 203.0.113.100:80 -r 198.51.100.12:80 -m -w 2",
    "-a -t 203.0.113.100:80 -r 198.51.100.13:80 -m -w 1",
    "-A -t 203.0.113.100:8080 -s rr",
    "-a -t 203.0.113.100:8080 -r 198.51.100.12:8080 -m -w 1",
]


def scrape() -> str:
    with urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=10) as r:
        return r.read().decode()


def test_save_restore(dm: daemon) -> None:
    settled = lambda: dm.run("-Ln").stdout.splitlines()[3:] == SETTLED  # noqa: E731
    if not check(dm.until(settled), "health settles: -Ln shows the health-adjusted view",
                 dm.run("-Ln").stdout):
        return
    saved = dm.run("-S", "-n").stdout
    check(saved.splitlines() == RULES,
          "-S saves the configured servers and weights (down and inhibited ones as configured, "
          "no sorry server)", saved + "--- want ---\n" + "\n".join(RULES))
    yaml0 = dm.run("save-yaml").stdout
    r = dm.run("-C")
    check(r.returncode == 0 and dm.run("-S", "-n").stdout == "", "-C clears", r.stderr)
    r = dm.run("-R", stdin=saved)
    check(r.returncode == 0, "-R < rules accepted", r.stderr)
    yaml1 = dm.run("save-yaml").stdout
    check(yaml1 == yaml0, "-S / -C / -R restores exactly the configured state (save-yaml equal: "
          "names, checks, sorry server, forwarding)", yaml1 + "\n--- before ---\n" + yaml0)
    check(dm.run("-S", "-n").stdout == saved, "-S after the round trip is the same")
    check(dm.until(settled), "after -R health settles again to the same view (down servers down)",
          dm.run("-Ln").stdout)
    h = dm.run("health").stdout
    check(re.search(r"^web 198\.51\.100\.12:80 down \(misc", h, re.M) is not None
          and re.search(r"^web 198\.51\.100\.11:80 up \(misc", h, re.M) is not None
          and "api: quorum lost" in h, "health checks and names are back after -R", h)
    m = scrape()
    check(re.search(r'ulvs_real_server_up\{virtual_server="web",[^}]*address="198\.51\.100\.12"'
                    r'[^}]*\} 0', m) is not None
          and 'virtual_server="tcp-203.0.113.100-80"' not in m,
          "metrics keep the service's name as label after -R",
          "\n".join(l for l in m.splitlines() if "real_server_up" in l))


def vrrp_state(dm: daemon, name: str) -> str:
    for line in dm.run("vrrp").stdout.splitlines():
        f = line.split()
        if f and f[0] == name:
            return f[4]
    return "absent"


def vrrp_block(track: str) -> str:
    return ("vrrp_instances:\n"
            "  - {name: VI_1, port: wan, vrid: 51, priority: 255, advert_int: 1s,\n"
            "     virtual_addresses: [203.0.113.200/24],\n"
            f"     track: {{virtual_servers: [{track}]}}}}\n")


# A service every server of which is down, and no sorry server.
DB = f"""  - name: db
    address: 203.0.113.100
    port: 3306
    protocol: tcp
    scheduler: rr
    forwarding: nat
    health_check: {misc("/bin/false")}
    real_servers:
      - {{address: 198.51.100.12, port: 3306, weight: 1}}
"""


def test_vrrp_reload(dm: daemon, d: str, prefix: str) -> None:
    """ulvsd started with VI_1 (the owner: MASTER at once) tracking web."""
    def reload(services: str, vrrp: str) -> subprocess.CompletedProcess:
        with open(f"{d}/ulvs.yaml", "w") as f:
            f.write(config_text(d, prefix, services, vrrp))
        return dm.run("reload")

    def stays(state: str) -> bool:  # 1 s: 20 tracking samples
        return all(vrrp_state(dm, "VI_1") == state or time.sleep(0.1) for _ in range(10))

    check(dm.until(lambda: vrrp_state(dm, "VI_1") == "MASTER", 5),
          "VRRP: the owner tracking web (up) is MASTER", dm.run("vrrp").stdout)
    # The tracked service moves to another port (vrrp_instances unchanged): the instance tracks
    # the service of the reloaded file, which is up there, not the start-up file's address.
    r = reload(WEB.replace("port: 80\n", "port: 81\n", 1), vrrp_block("web"))
    check(r.returncode == 0 and stays("MASTER"),
          "VRRP: tracking follows a reload that moves the tracked service (still MASTER)",
          r.stderr + dm.run("vrrp").stdout + dm.run("-Ln").stdout)
    # keepalived's reload applies changed instances: a reload that adds db (all servers down)
    # and tracks it puts the instance in FAULT.
    r = reload(WEB + DB, vrrp_block("web, db"))
    check(r.returncode == 0 and dm.until(lambda: vrrp_state(dm, "VI_1") == "FAULT", 5),
          "VRRP: a reload that adds a tracked service whose servers are all down -> FAULT",
          r.stderr + dm.run("vrrp").stdout)
    r = reload(WEB + DB, vrrp_block("web"))
    check(r.returncode == 0 and dm.until(lambda: vrrp_state(dm, "VI_1") == "MASTER", 5),
          "VRRP: a reload that stops tracking db -> MASTER again", r.stderr + dm.run("vrrp").stdout)
    r = reload(WEB, "")
    check(r.returncode == 0 and vrrp_state(dm, "VI_1") == "absent",
          "VRRP: a reload that removes the instance removes it", r.stderr + dm.run("vrrp").stdout)


def run_daemon(a: argparse.Namespace, config: str, test) -> None:
    with tempfile.TemporaryDirectory(prefix="ulvs-restore-") as d:
        with open(f"{d}/ulvs.yaml", "w") as f:
            f.write(config_text(d, a.prefix, *config))
        dm = daemon(os.path.abspath(a.ulvsd), os.path.abspath(a.ulvsadm), d)
        before = len(failures)
        try:
            test(dm, d)
        finally:
            rc = dm.stop()
            check(rc == 0, "ulvsd stops cleanly on SIGTERM", f"exit {rc}")
            if len(failures) > before:
                print(open(f"{d}/ulvsd.log").read()[-3000:])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--ulvsadm", required=True)
    ap.add_argument("--prefix", default="ulvs-restore", help="EAL --file-prefix (plus the pid)")
    a = ap.parse_args()
    if os.environ.get("ULVS_RESTORE_NETNS") != "1":
        env = dict(os.environ, ULVS_RESTORE_NETNS="1")
        return subprocess.run(["unshare", "-n", "/usr/bin/python3", *sys.argv], env=env).returncode
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    run_daemon(a, (WEB + API,), lambda dm, d: test_save_restore(dm))
    run_daemon(a, (WEB, vrrp_block("web")), lambda dm, d: test_vrrp_reload(dm, d, a.prefix))
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
