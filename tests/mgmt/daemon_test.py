#!/usr/bin/python3
"""The management plane end to end through a running ulvsd (issue 6, acceptance 1-3).

    daemon_test.py --ulvsd PATH --ulvsadm PATH

Runs in a private network namespace (re-executes itself under `unshare -n`), so the metrics
endpoint on 127.0.0.1 cannot collide with anything. ulvsd runs with two ports:
  wan: net_pcap replaying a generated pcap of client traffic forever (infinite_rx), i.e.
       continuous traffic to the VIP; lan: net_null (transmits vanish).
Checks, each printed PASS/FAIL:
  1. an ipvsadm-style script (ipvsadm_script.sh, `ipvsadm` = ulvsadm) works unchanged, and its
     -Ln / --stats / -S listings match ipvsadm 1.31's printf layouts column by column; -S | -R
     rebuilds the same services; typed errors and exit codes; no-daemon message;
  2. live changes and reloads while traffic flows: no drop counter moves, the forwarded count
     keeps growing, a bad file or a restart-only change is refused and the old config runs;
     every change shows in save-yaml;
  3. /metrics scrape (Prometheus text, ulvs_..._total names, per server and per worker) and a
     table of malformed requests (garbage, oversized, half-closed, idle) while others are served.
Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))

VIP = "203.0.113.100"
WAN_MAC = "02:70:63:61:70:00"  # net_pcap's MAC for the first pcap port
ROUTER, ROUTER_MAC = "203.0.113.1", "02:00:00:00:00:01"
RS = {"198.51.100.11": "02:00:00:00:00:11", "198.51.100.12": "02:00:00:00:00:12",
      "198.51.100.13": "02:00:00:00:00:13"}
METRICS = "127.0.0.1:9145"

failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    if not ok:
        failures.append(what)
    return ok


def config_text(d: str, services: str, mtu: int = 1500) -> str:
    neigh = ", ".join(f'{{address: {a}, mac: "{m}", port: lan}}' for a, m in RS.items())
    return f"""
dpdk: {{eal_args: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "ulvs-mgmt-{os.getpid()}"], mbufs: 8191}}
lcores: {{control: 0, workers: [1]}}
ports:
  - {{name: wan, device: "net_pcap0,rx_pcap={d}/traffic.pcap,infinite_rx=1,tx_pcap=/dev/null", addresses: [203.0.113.10/24], mtu: {mtu}}}
  - {{name: lan, device: "net_null0,no-rx=1", addresses: [198.51.100.1/24]}}
routes: [{{prefix: 0.0.0.0/0, via: {ROUTER}}}]
neighbors: [{{address: {ROUTER}, mac: "{ROUTER_MAC}", port: wan}}, {neigh}]
connections: {{max: 65536}}
virtual_servers:
{services}
management: {{socket: "{d}/ulvsd.sock", metrics: "{METRICS}"}}
"""


WEB = """  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: wrr
    real_servers:
      - {address: 198.51.100.11, port: 80, weight: 3}
      - {address: 198.51.100.12, port: 80, weight: 1}
"""


def write_traffic(path: str) -> None:
    """Established-looking TCP flows from many clients to VIP:80 (SYN, then data), DR."""
    from scapy.all import IP, TCP, Ether, Raw, wrpcap  # noqa: E402 (slow import, only here)
    frames = []
    for i in range(256):
        client = f"203.0.113.{130 + i % 100}"
        sport = 20000 + i
        base = Ether(src=ROUTER_MAC, dst=WAN_MAC) / IP(src=client, dst=VIP, ttl=63)
        frames.append(base / TCP(sport=sport, dport=80, flags="S", seq=1000))
        for k in range(3):
            frames.append(base / TCP(sport=sport, dport=80, flags="PA", seq=1001 + k * 10,
                                     ack=5000) / Raw(b"x" * 10))
    wrpcap(path, frames)


class daemon:
    def __init__(self, ulvsd: str, adm: str, d: str):
        self.adm, self.d = adm, d
        self.sock = f"{d}/ulvsd.sock"
        self.log = open(f"{d}/ulvsd.log", "w")
        self.proc = subprocess.Popen(["timeout", "-s", "TERM", "300", ulvsd, "-c", f"{d}/ulvs.yaml"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
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
                              env=env, timeout=60)

    def counters(self) -> dict[str, int]:
        out = {}
        for line in scrape().splitlines():
            m = re.match(r'ulvs_worker_(\w+)_total\{worker="\d+"(?:,reason="(\w+)")?\} (\d+)',
                         line)
            if m:
                key = m.group(1) + ("." + m.group(2) if m.group(2) else "")
                out[key] = out.get(key, 0) + int(m.group(3))
        return out

    def stop(self) -> int:
        # timeout(1) forwards SIGTERM to ulvsd; we started both and stop them by pid.
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -1


def scrape() -> str:
    with urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=10) as r:
        return r.read().decode()


def dest_line(addr: str, fwd: str, weight: int, active: int = 0, inactive: int = 0) -> str:
    return "  -> %-28s %-7s %-6d %-10u %-10u" % (addr, fwd, weight, active, inactive)


def stats_line(name: str, vals: list[int], dest: bool) -> str:
    s = ("  -> %-28s" % name) if dest else ("%-33s" % name)
    return s + "".join("%9u" % v for v in vals)


def test_script(dm: daemon, d: str) -> None:
    shim = f"{d}/bin"
    os.makedirs(shim, exist_ok=True)
    os.symlink(dm.adm, f"{shim}/ipvsadm")
    env = dict(os.environ, ULVS_SOCKET=dm.sock, PATH=shim + ":" + os.environ["PATH"])
    r = subprocess.run(["sh", f"{HERE}/ipvsadm_script.sh", d], capture_output=True, text=True,
                       env=env, timeout=120)
    if not check(r.returncode == 0, "ipvsadm script runs unchanged", r.stderr):
        return
    parts = dict(re.findall(r"== (.+?)\n(.*?)(?=\n== |\Z)", r.stdout, re.S))
    ln = parts.get("-Ln", "").splitlines()
    want = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "TCP  203.0.113.100:80 wrr",
        dest_line("198.51.100.11:80", "Route", 3),
        dest_line("198.51.100.12:80", "Route", 0),
        "TCP  203.0.113.100:443 wrr persistent 120 mask 255.255.255.0",
        dest_line("198.51.100.13:443", "Route", 1),
        "UDP  203.0.113.100:53 rr",
        dest_line("198.51.100.12:53", "Route", 2),
    ]
    # ActiveConn/InActConn of web's servers depend on the traffic: compare those columns apart.
    ok = len(ln) == len(want)
    for got, exp in zip(ln, want):
        if exp.startswith("  -> ") and "198.51.100.1" in exp and ":80 " in exp:
            ok = ok and got[:49] == exp[:49] and re.fullmatch(r"\d+ +\d+ +", got[49:] + " ")
        else:
            ok = ok and got == exp
    check(bool(ok), "-Ln matches ipvsadm's layout column by column",
          "\n".join(ln) + "\n--- want ---\n" + "\n".join(want))
    st = parts.get("--stats", "").splitlines()
    ok = len(st) == 10 and st[1] == "%-33s %8s %8s %8s %8s %8s" % (
        "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
    ok = ok and st[2] == "  -> RemoteAddress:Port"
    ok = ok and st[6] == stats_line("TCP  203.0.113.100:443", [0] * 5, False)
    ok = ok and st[7] == stats_line("198.51.100.13:443", [0] * 5, True)
    # web carries the generated traffic: right-aligned numbers, 9 columns each (K/M suffixes).
    ok = ok and re.fullmatch(r"TCP  203\.0\.113\.100:80 {15}( {0,8}\d+[KMGT ]?){5}", st[3] + " ")
    check(bool(ok), "--stats matches ipvsadm's layout", "\n".join(st))
    saved = parts.get("-S", "").strip().splitlines()
    want_rules = [
        "-A -t 203.0.113.100:80 -s wrr",
        "-a -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 3",
        "-a -t 203.0.113.100:80 -r 198.51.100.12:80 -g -w 0",
        "-A -t 203.0.113.100:443 -s wrr -p 120 -M 255.255.255.0",
        "-a -t 203.0.113.100:443 -r 198.51.100.13:443 -g -w 1",
        "-A -u 203.0.113.100:53 -s rr",
        "-a -u 203.0.113.100:53 -r 198.51.100.12:53 -g -w 2",
    ]
    check(saved == want_rules, "-S output as ipvsadm's", "\n".join(saved))
    check(parts.get("restored", "").strip().splitlines() == want_rules,
          "-S output fed to -R rebuilds the same services", parts.get("restored", ""))
    check(parts.get("timeout", "").strip() == "Timeout (tcp tcpfin udp): 900 120 300",
          "--timeout layout")


def test_errors(dm: daemon, d: str) -> None:
    cases = [
        (["-a", "-t", "203.0.113.100:81", "-r", "198.51.100.11"], 1, "Service not defined"),
        (["-A", "-t", "203.0.113.100:80", "-s", "rr"], 1, "Service already exists"),
        (["-D", "-t", "203.0.113.100:8"], 1, "No such service"),
        (["-d", "-t", "203.0.113.100:80", "-r", "198.51.100.99"], 1, "No such destination"),
        (["-a", "-t", "203.0.113.100:80", "-r", "192.0.2.1"], 1, "192.0.2.1"),
        (["-E", "-t", "203.0.113.100:80", "-s", "bogus"], 1, "bogus"),
        (["-A", "-t", "203.0.113.100"], 1, "port"),  # port 0: the validator's 1..65535
        (["-A", "-t", "203.0.113.300:80"], 2, "address"),
        (["--frob"], 2, "unknown option"),
    ]
    before = dm.run("-S", "-n").stdout
    for args, rc, msg in cases:
        r = dm.run(*args)
        check(r.returncode == rc and (msg is None or msg in r.stderr)
              and len(r.stderr.strip().splitlines()) >= 1,
              f"error: ulvsadm {' '.join(args)} -> exit {rc}", f"exit {r.returncode}: {r.stderr}")
    check(dm.run("-S", "-n").stdout == before, "refused changes change nothing")
    env = dict(os.environ, ULVS_SOCKET=f"{d}/nothing.sock")
    r = subprocess.run([dm.adm, "-Ln"], capture_output=True, text=True, env=env, timeout=10)
    check(r.returncode == 1 and r.stderr.startswith(f"ulvsadm: cannot reach ulvsd at {d}/nothing.sock: "),
          "no daemon: 'cannot reach ulvsd at PATH: REASON', exit 1", r.stderr)
    r = subprocess.run([dm.adm, "--socket", dm.sock, "status"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0 and "virtual servers" in r.stdout, "--socket PATH and status")
    check(oct(os.stat(dm.sock).st_mode & 0o777) == "0o600", "socket mode 0600")


def forwarded_and_drops(dm: daemon) -> tuple[int, int]:
    c = dm.counters()
    return c.get("tx_packets", 0), sum(v for k, v in c.items() if k.startswith("drops."))


def test_live(dm: daemon, d: str) -> None:
    """Changes and reloads under the continuous pcap traffic: no drop counter moves."""
    dm.run("-C")
    dm.run("-R", stdin="-A -t 203.0.113.100:80 -s wrr\n"
                      "-a -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 3\n"
                      "-a -t 203.0.113.100:80 -r 198.51.100.12:80 -g -w 1\n")
    time.sleep(1.0)
    tx0, drops0 = forwarded_and_drops(dm)
    steps = [
        ["-a", "-t", "203.0.113.100:80", "-r", "198.51.100.13:80", "-w", "2"],
        ["-e", "-t", "203.0.113.100:80", "-r", "198.51.100.11:80", "-w", "0"],
        ["-E", "-t", "203.0.113.100:80", "-s", "rr"],
        ["-A", "-u", "203.0.113.100:53", "-s", "rr"],
        ["-a", "-u", "203.0.113.100:53", "-r", "198.51.100.11:53"],
        ["-d", "-t", "203.0.113.100:80", "-r", "198.51.100.12:80"],
        ["-e", "-t", "203.0.113.100:80", "-r", "198.51.100.11:80", "-w", "5"],
        ["-D", "-u", "203.0.113.100:53"],
        ["--set", "600", "60", "120"],
    ]
    ok = True
    for s in steps:
        r = dm.run(*s)
        ok = ok and r.returncode == 0
        time.sleep(0.2)
    check(ok, "live changes accepted while traffic flows")
    y = dm.run("save-yaml").stdout
    check("{address: 198.51.100.13, port: 80, weight: 2}" in y
          and "{address: 198.51.100.12, port: 80" not in y and 'scheduler: "rr"' in y
          and "tcp: 600s" in y and "203.0.113.100-53" not in y, "every change shows in save-yaml", y)
    # Reload: a good file (the saved YAML with web's weight changed) applies as a diff.
    with open(f"{d}/ulvs.yaml", "w") as f:
        f.write(y.replace("weight: 5", "weight: 7"))
    r = dm.run("reload")
    check(r.returncode == 0 and "-w 7" in dm.run("-S", "-n").stdout, "ulvsadm reload applies a file",
          r.stderr)
    with open(f"{d}/ulvs.yaml", "w") as f:
        f.write(y.replace("weight: 5", "weight: 8"))
    os.kill(dm.proc.pid, 0)
    ulvsd_pid = int(subprocess.run(["pgrep", "-P", str(dm.proc.pid)], capture_output=True,
                                   text=True).stdout.split()[0])
    os.kill(ulvsd_pid, signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and "-w 8" not in dm.run("-S", "-n").stdout:
        time.sleep(0.1)
    check("-w 8" in dm.run("-S", "-n").stdout, "SIGHUP reloads the file")
    running = dm.run("-S", "-n").stdout
    with open(f"{d}/ulvs.yaml", "w") as f:
        f.write(y.replace("weight: 5", "weight: 99999").replace("protocol: tcp", "protocol: sctp"))
    r = dm.run("reload")
    check(r.returncode == 1 and "weight" in r.stderr and "protocol" in r.stderr
          and f"{d}/ulvs.yaml:" in r.stderr,
          "a bad file is refused whole, every error returned", r.stderr)
    with open(f"{d}/ulvs.yaml", "w") as f:
        f.write(y.replace("mtu: 1500", "mtu: 1400", 1))
    r = dm.run("reload")
    check(r.returncode == 1 and "restart" in r.stderr, "a ports change needs a restart", r.stderr)
    os.kill(ulvsd_pid, signal.SIGHUP)  # the restart-only file again, by signal: logged, refused
    time.sleep(0.5)
    check(dm.run("-S", "-n").stdout == running, "refused reloads leave the old config running")
    time.sleep(1.0)
    tx1, drops1 = forwarded_and_drops(dm)
    check(tx1 > tx0 and drops1 == drops0,
          "zero drops caused by changes and reloads under continuous traffic",
          f"tx {tx0} -> {tx1}, drops {drops0} -> {drops1}, counters {dm.counters()}")


def test_views(dm: daemon) -> None:
    """--rate (IPVS' 2 s estimator over the continuous traffic), the other listings, status."""
    r = dm.run("-Ln", "--rate").stdout.splitlines()
    ok = len(r) >= 4 and r[1] == "%-33s %8s %8s %8s %8s %8s" % (
        "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
    m = re.fullmatch(r"(TCP  203\.0\.113\.100:80) +(\d+) +(\d+)[KMGT]? +(\d+) +(\d+)[KMGT]? +"
                     r"(\d+)", r[3]) if ok else None
    check(bool(m) and int(m.group(3)) > 0 and int(m.group(5)) > 0,
          "--rate shows the traffic's packet and byte rates", "\n".join(r))
    ok = re.fullmatch(r"  -> 198\.51\.100\.11:80 {15}" + r" +\d+" * 3 + r" +\d+[KMGT]?" * 2,
                      r[4]) if len(r) > 4 else None
    check(bool(ok), "--rate server line layout", "\n".join(r))
    t = dm.run("-Ln", "--thresholds").stdout.splitlines()
    check(len(t) > 4 and t[4].startswith("  -> %-28s %-10u %-10u " % ("198.51.100.11:80", 0, 0)),
          "--thresholds layout", "\n".join(t))
    p = dm.run("-Ln", "--persistent-conn").stdout.splitlines()
    check(len(p) > 4 and p[4].startswith("  -> %-28s %-9u %-11u " % ("198.51.100.11:80", 8, 0)),
          "--persistent-conn layout", "\n".join(p))
    one = dm.run("-L", "-n", "-t", "203.0.113.100:80").stdout.splitlines()
    check(len(one) == 5 and one[0].startswith("Prot "), "-L -t VIP:PORT lists one service",
          "\n".join(one))
    for cmd, want in [("status", "virtual servers 1"), ("health", "198.51.100.11:80 up"),
                      ("vrrp", "VRRP")]:
        r = dm.run(cmd)
        check(r.returncode == 0 and want in r.stdout, f"ulvsadm {cmd}", r.stdout + r.stderr)
    r = dm.run("-Lnc")
    if r.returncode == 1 and "not available" in r.stderr:
        print("SKIP ulvsadm -Lnc: the worker loop has no conn_dump hook yet")
    else:
        lines = r.stdout.splitlines()
        flows = []
        for l in lines[2:]:
            m = re.fullmatch(r"TCP (\d\d:\d\d) +ESTABLISHED +(203\.0\.113\.\d+:\d+) +"
                             r"203\.0\.113\.100:80 +(198\.51\.100\.1[123]:80)", l)
            if m and l == "%-3s %-6s %-11s %-18s %-18s %s" % (
                    "TCP", m.group(1), "ESTABLISHED", m.group(2), "203.0.113.100:80", m.group(3)):
                flows.append(m.group(2))
        check(r.returncode == 0 and lines[:2] == [
            "IPVS connection entries",
            "pro expire %-11s %-18s %-18s %s" % ("state", "source", "virtual", "destination")]
            and len(set(flows)) == 256, "ulvsadm -Lnc lists the 256 flows in ipvsadm's layout",
            r.stderr + "\n".join(lines[:5]))


def test_metrics(dm: daemon) -> None:
    text = scrape()
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    # Prometheus' text format: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names without ':'.
    sample_re = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*'
                           r'(\{[a-zA-Z_]\w*="[^"\\]*"(,[a-zA-Z_]\w*="[^"\\]*")*\})?'
                           r' -?\d+(\.\d+)?([eE][-+]?\d+)?')
    check(all(sample_re.fullmatch(l) for l in lines), "metrics: every sample line is valid",
          "\n".join(l for l in lines if not sample_re.fullmatch(l))[:500])
    for name in ["ulvs_virtual_server_connections_total", "ulvs_virtual_server_packets_total",
                 "ulvs_virtual_server_bytes_total", "ulvs_real_server_active_connections",
                 "ulvs_real_server_inactive_connections", "ulvs_real_server_connections_total",
                 "ulvs_real_server_packets_total", "ulvs_real_server_bytes_total",
                 "ulvs_real_server_up", "ulvs_worker_rx_packets_total",
                 "ulvs_worker_tx_packets_total", "ulvs_worker_drops_total",
                 "ulvs_worker_redirected_packets_total", "ulvs_worker_connection_table_entries"]:
        check(f"# TYPE {name} " in text and any(l.startswith(name) for l in lines),
              f"metrics: {name}")
    m = re.search(r'ulvs_virtual_server_packets_total\{virtual_server="[^"]+",vip="203.0.113.100",'
                  r'port="80",proto="tcp",direction="in"\} (\d+)', text)
    check(bool(m) and int(m.group(1)) > 0, "metrics: web's packets counted")
    m = re.search(r'ulvs_worker_drops_total\{worker="0",reason="no_service"\} (\d+)', text)
    check(bool(m), "metrics: drops by reason")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        f"http://{METRICS}/nope"], capture_output=True, text=True, timeout=10)
    check(r.stdout == "404", "metrics: other paths 404", r.stdout)


def raw(dm: daemon, data: bytes, shut: bool = False, timeout: float = 5) -> bytes:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(dm.sock)
    try:
        s.sendall(data)
    except OSError:
        pass
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while b"\n" not in out or shut:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, OSError):
        pass
    s.close()
    return out


def test_malformed(dm: daemon) -> None:
    idle = [socket.socket(socket.AF_UNIX) for _ in range(5)]
    for s in idle:
        s.connect(dm.sock)  # connected and silent for the whole table
    half = socket.socket(socket.AF_UNIX)
    half.connect(dm.sock)
    half.sendall(b'{"v":1,"cmd":"li')  # half a request, then nothing
    table = [
        (b"garbage\n", "bad_request"),
        (b"\x00\xff\xfe\n", "bad_request"),
        (b"{}\n", "bad_request"),
        (b'{"v":1}\n', "bad_request"),
        (b'{"v":99,"cmd":"list"}\n', "unsupported_version"),
        (b'{"v":1,"cmd":"frobnicate"}\n', "unknown_command"),
        (b'{"v":1,"cmd":"add_service","service":"x"}\n', "bad_request"),
        (b'{"v":1,"cmd":"add_dest","service":{"proto":"tcp","vip":"203.0.113.100","port":80},'
         b'"dest":{"addr":"198.51.100.11","port":80},"fwd":"dr","weight":-1}\n', "bad_request"),
        (b'{"v":1,"cmd":"batch","ops":[{"cmd":"batch","ops":[]}]}\n', "bad_request"),
        (b'{"v":1,"cmd":"list","service":7}\n', None),  # any typed reply, no crash
        (b"x" * (2 << 20) + b"\n", "too_large"),
    ]
    for data, code in table:
        out = raw(dm, data)
        ok = out.startswith(b'{"') and b'"ok":false' in out or (code is None and out)
        if code:
            ok = ok and f'"code":"{code}"'.encode() in out
        check(bool(ok), f"malformed {data[:40]!r}... -> {code}", out[:200].decode(errors="replace"))
        check(dm.run("-Ln").returncode == 0, "  ...and others are still served")
    # A stuck client: floods requests and never reads a reply.
    stuck = socket.socket(socket.AF_UNIX)
    stuck.connect(dm.sock)
    stuck.setblocking(False)
    flood = b'{"v":1,"cmd":"list"}\n' * 5000
    try:
        stuck.send(flood)
    except BlockingIOError:
        pass
    t0 = time.time()
    r = dm.run("-Ln")
    check(r.returncode == 0 and time.time() - t0 < 2,
          "a stuck client does not slow others down", f"{time.time() - t0:.2f} s")
    # Many clients at once.
    env = dict(os.environ, ULVS_SOCKET=dm.sock)
    procs = [subprocess.Popen([dm.adm, "-Ln", "--stats"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) for _ in range(40)]
    outs = [p.communicate(timeout=30) for p in procs]
    check(all(p.returncode == 0 and o[0].startswith(b"IP Virtual Server") for p, o in
              zip(procs, outs)), "40 clients at once are all served")
    out = raw(dm, b'{"v":1,"cmd":"status"}', shut=True)
    check(b'"ok":true' in out, "half-closed client gets its reply")
    r = dm.run("status")
    check(r.returncode == 0, "served while 5 idle and 1 half-sent clients hold connections")
    # server_limits::idle_ms = 10 s; the margin covers a slow (sanitizer) build's control loop.
    time.sleep(13)
    closed = 0
    for s in idle + [half, stuck]:
        s.setblocking(True)
        s.settimeout(5)
        try:
            while True:  # drain what it was sent, then expect EOF
                chunk = s.recv(1 << 20)
                if not chunk:
                    closed += 1
                    break
        except ConnectionResetError:
            closed += 1
        except OSError:
            pass
        s.close()
    check(closed == 7, "idle and stuck clients are closed after the timeout", f"{closed}/7 closed")
    check(dm.proc.poll() is None and dm.run("-Ln").returncode == 0, "ulvsd survived the table")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--ulvsadm", required=True)
    a = ap.parse_args()
    if os.environ.get("ULVS_MGMT_NETNS") != "1":
        env = dict(os.environ, ULVS_MGMT_NETNS="1")
        return subprocess.run(["unshare", "-n", "/usr/bin/python3", *sys.argv], env=env).returncode
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.TemporaryDirectory(prefix="ulvs-mgmt-") as d:
        write_traffic(f"{d}/traffic.pcap")
        with open(f"{d}/ulvs.yaml", "w") as f:
            f.write(config_text(d, WEB))
        dm = daemon(os.path.abspath(a.ulvsd), os.path.abspath(a.ulvsadm), d)
        try:
            test_script(dm, d)
            test_errors(dm, d)
            test_live(dm, d)
            test_views(dm)
            test_metrics(dm)
            test_malformed(dm)
        finally:
            rc = dm.stop()
            check(rc == 0, "ulvsd stops cleanly on SIGTERM", f"exit {rc}")
            check(not os.path.exists(dm.sock), "socket removed at exit")
            if failures:
                print(open(f"{d}/ulvsd.log").read()[-3000:])
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
