#!/usr/bin/python3
"""Identifier pools under churn, through a real ulvsd's management socket (issue 12).

    churn_test.py --ulvsd PATH [--servers N] [--batch K] [--addresses A]

Stats ids (65536 in a run) and neighbour slots (4096) were never given back, so after enough
changes every change was refused. This adds and removes N (default 100000) real servers, each
with its own address (so each also takes a neighbour slot), in -R style batches of K through the
socket, then adds one more: every request must succeed. --addresses A cycles the real servers
over A addresses and spreads them over ceil(N / A) virtual servers (VIP ports 80, 81, ...), to
churn stats ids with few neighbour slots. ulvsd runs on net_null ports (no
hugepages, no devices, no packets). Prints PASS/FAIL per check, exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

VIP = "203.0.113.100"
SERVICE = {"proto": "tcp", "vip": VIP, "port": 80}

failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    if not ok:
        failures.append(what)
    return ok


def config_text(d: str) -> str:
    prefix = f"ulvs-churn-pools-{os.getpid()}"
    return f"""
dpdk: {{eal_args: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "{prefix}"], mbufs: 8191}}
lcores: {{control: 0, workers: [1]}}
ports:
  - {{name: wan, device: "net_null0,no-rx=1", addresses: [203.0.113.10/24]}}
  - {{name: lan, device: "net_null1,no-rx=1", addresses: [10.0.0.1/8]}}
neighbors: [{{address: {STATIC_RS}, mac: "02:00:00:00:00:fe", port: lan}}]
connections: {{max: 4096}}
virtual_servers:
  - name: web
    address: {VIP}
    port: 80
    protocol: tcp
    scheduler: wlc
    forwarding: dr
    real_servers: []
management: {{socket: "{d}/ulvsd.sock", metrics: ""}}
"""


ADDRESSES = 1 << 24
STATIC_RS = "10.255.255.254"  # resolved at once: its snapshot is published, the worker asked


def rip(i: int) -> str:
    i = i % ADDRESSES + 2  # 10.0.0.2 onwards: by default each server its own neighbour slot
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def vport(i: int) -> int:
    return 80 + i // ADDRESSES


class client:
    def __init__(self, path: str):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def call(self, req: dict) -> dict:
        req = dict(req, v=1)
        self.s.sendall(json.dumps(req, separators=(",", ":")).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise RuntimeError("ulvsd closed the socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def dest_op(cmd: str, i: int) -> dict:
    # DR: the real server's port is the service's (ipvsadm and IPVS force it on -a/-e).
    op = {"cmd": cmd, "service": dict(SERVICE, port=vport(i)),
          "dest": {"addr": rip(i), "port": vport(i)}}
    if cmd == "add_dest":
        op.update(fwd="dr", weight=1, upper=0, lower=0)
    return op


def published_server(c: client) -> None:
    op = {"cmd": "add_dest", "service": SERVICE, "dest": {"addr": STATIC_RS, "port": 80},
          "fwd": "dr", "weight": 1, "upper": 0, "lower": 0}
    in_use0 = c.call({"cmd": "status"}).get("stats_ids_in_use", 0)
    r = c.call(op)
    check(bool(r.get("published")), "a server with a resolved next hop is published at once",
          json.dumps(r)[:300])
    r = c.call(dict(op, cmd="del_dest"))
    deadline = time.time() + 5
    in_use = None
    while time.time() < deadline:
        in_use = c.call({"cmd": "status"}).get("stats_ids_in_use")
        if in_use == in_use0:
            break
        time.sleep(0.05)
    check(bool(r.get("ok")) and in_use == in_use0,
          "removed, its id goes back once the worker answered",
          f"stats ids in use: {in_use0} before, {in_use} after")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--servers", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=4000)  # <= 4096: one neighbour slot each
    ap.add_argument("--addresses", type=int, default=1 << 24)
    a = ap.parse_args()
    global ADDRESSES
    ADDRESSES = a.addresses
    with tempfile.TemporaryDirectory(prefix="ulvs-churn-") as d:
        with open(f"{d}/ulvs.yaml", "w") as f:
            f.write(config_text(d))
        log = open(f"{d}/ulvsd.log", "w")
        proc = subprocess.Popen([a.ulvsd, "-c", f"{d}/ulvs.yaml"], stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            while not os.path.exists(f"{d}/ulvsd.sock"):
                if proc.poll() is not None or time.time() > deadline:
                    print(open(f"{d}/ulvsd.log").read())
                    check(False, "ulvsd starts")
                    return 1
                time.sleep(0.1)
            c = client(f"{d}/ulvsd.sock")
            extra = [{"cmd": "add_service", "service": dict(SERVICE, port=p), "scheduler": "wlc",
                      "flags": [], "persistent": None}
                     for p in range(81, vport(a.servers) + 1)]
            if extra:
                r = c.call({"cmd": "batch", "ops": extra})
                check(bool(r.get("ok")), f"{len(extra)} more virtual servers", json.dumps(r)[:300])
            in_use0 = c.call({"cmd": "status"}).get("stats_ids_in_use")
            start = time.time()
            done = 0
            refused = None
            while done < a.servers and refused is None:
                n = min(a.batch, a.servers - done)
                for cmd in ("add_dest", "del_dest"):
                    r = c.call({"cmd": "batch",
                                "ops": [dest_op(cmd, done + k) for k in range(n)]})
                    if not r.get("ok"):
                        refused = (cmd, done, r.get("error"))
                        break
                done += n
            check(refused is None,
                  f"{a.servers} real servers added and removed in batches of {a.batch}",
                  f"{refused[0]} batch at server {refused[1]} refused: {str(refused[2])[:300]}"
                  if refused else "")
            print(f"     {done} added and removed in {time.time() - start:.1f} s")
            # A batch that was never published gives its ids back at once; one that was (a health
            # change publishes at once, e.g. the service regaining quorum when servers come) gives
            # them back once the worker said no connection names them (id_check.h): poll.
            deadline = time.time() + 5
            while True:
                in_use = c.call({"cmd": "status"}).get("stats_ids_in_use")
                if in_use == in_use0 or time.time() > deadline:
                    break
                time.sleep(0.05)
            check(in_use0 is not None and in_use == in_use0,
                  "every real server's stats id went back to the pool",
                  f"stats ids in use: {in_use0} before, {in_use} after")
            # A published server (static neighbour): its id comes back once the worker said that
            # no connection names it (id_check.h), within a few check periods.
            published_server(c)
            r = c.call({"cmd": "add_dest", **dest_op("add_dest", a.servers)})
            check(bool(r.get("ok")), "then one more real server is added", json.dumps(r)[:300])
            r = c.call({"cmd": "list"})
            listed = json.dumps(r)
            check(bool(r.get("ok")) and rip(a.servers) in listed,
                  "and it is listed", listed[:300])
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            if failures:
                print("ulvsd log (tail):\n" + "".join(open(f"{d}/ulvsd.log").readlines()[-20:]))
    print("churn: " + ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
