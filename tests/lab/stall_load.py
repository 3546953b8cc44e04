#!/usr/bin/python3
"""Load and probes of the control-stall scenario (tests/lab/control_stall.sh).

    stall_load.py adverts IFACE SRC OUT           VRRP adverts from SRC seen on IFACE: one
                                                   kernel timestamp (s) per line in OUT
    stall_load.py udp DST PORT COUNT RATE SRC...  COUNT UDP datagrams to DST:PORT, each from its
                                                   own (SRC, port), RATE per second
    stall_load.py flap FIRST N FLAP PERIOD PIDFILE ADDR...
                                                   listen on ports FIRST..FIRST+N-1 of every ADDR;
                                                   every PERIOD s close (then reopen) the first
                                                   FLAP of them
    stall_load.py metrics HOST PORT HOLD SCRAPERS SECONDS
                                                   HOLD clients keep the port open (a request
                                                   never finished, a byte every 2 s, reconnecting
                                                   when closed), SCRAPERS GET /metrics in a loop;
                                                   prints a summary line
    stall_load.py ln SECONDS INTERVAL CMD...       run CMD every INTERVAL s; prints each run's
                                                   latency in ms ("timeout" past 5 s, "failed")

Standard library only; nothing is logged per packet or request.
"""

import asyncio
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

SO_TIMESTAMPNS = 35
ETH_P_IP = 0x0800


def adverts(iface: str, src: str, out: str) -> int:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    want = socket.inet_aton(src)
    with open(out, "a", buffering=1) as f:
        while True:
            data, anc, _, _ = s.recvmsg(2048, 64)
            if len(data) < 34 or data[23] != 112 or data[26:30] != want:
                continue
            ts = None
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    ts = sec + nsec / 1e9
            f.write(f"{ts if ts is not None else time.time():.6f}\n")


def udp(dst: str, port: int, count: int, rate: int, srcs: list) -> int:
    sent = 0
    t0 = time.monotonic()
    payload = b"stall"
    per_src = (count + len(srcs) - 1) // len(srcs)
    for src in srcs:
        for sport in range(1024, 1024 + per_src):
            if sent == count:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src, sport))
            try:
                s.sendto(payload, (dst, port))
            except OSError:
                pass  # an ICMP error of an earlier datagram: the next one goes out
            s.close()
            sent += 1
            ahead = sent / rate - (time.monotonic() - t0)
            if ahead > 0.01:
                time.sleep(ahead)
    print(f"udp: {sent} datagrams in {time.monotonic() - t0:.1f} s")
    return 0


async def flap_main(first: int, n: int, flap: int, period: float, pidfile: str, addrs: list):
    async def close_at_once(_reader, writer):
        writer.close()

    servers = {}

    async def listen(addr, p):
        servers[(addr, p)] = await asyncio.start_server(close_at_once, addr, p, backlog=64,
                                                        reuse_address=True)

    for addr in addrs:
        for p in range(first, first + n):
            await listen(addr, p)
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, pidfile)
    flapping = [(addrs[i % len(addrs)], first + i // len(addrs)) for i in range(flap)]
    down = False
    while True:
        await asyncio.sleep(period)
        for key in flapping:
            if down:
                await listen(*key)
            else:
                servers[key].close()
        down = not down


def flap(args: list) -> int:
    first, n, nflap, period, pidfile = int(args[0]), int(args[1]), int(args[2]), \
        float(args[3]), args[4]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio.run(flap_main(first, n, nflap, period, pidfile, args[5:]))
    return 0


async def metrics_main(host: str, port: int, hold: int, scrapers: int, seconds: float):
    stats = {"scrapes": 0, "failed": 0, "max_ms": 0.0, "held": 0, "reconnects": 0}
    end = time.monotonic() + seconds

    async def holder():
        first = True
        while time.monotonic() < end:
            try:
                _, w = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.5)
                continue
            if first:
                stats["held"] += 1
                first = False
            else:
                stats["reconnects"] += 1
            try:
                w.write(b"GET /metrics HTTP/1.1\r\n")
                while time.monotonic() < end:
                    await asyncio.sleep(2)
                    w.write(b"X")
                    await w.drain()
            except OSError:
                pass
            w.close()

    async def scraper():
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
                w.write(f"GET /metrics HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
                body = await asyncio.wait_for(r.read(), 10)
                w.close()
                if not body.startswith(b"HTTP/1.") or b" 200 " not in body[:16]:
                    raise OSError("not a 200")
                stats["scrapes"] += 1
                stats["max_ms"] = max(stats["max_ms"], (time.monotonic() - t0) * 1000)
            except (OSError, asyncio.TimeoutError):
                stats["failed"] += 1
                await asyncio.sleep(0.2)

    await asyncio.gather(*[holder() for _ in range(hold)], *[scraper() for _ in range(scrapers)])
    print(f"metrics: {stats['held']} held, {stats['reconnects']} holder reconnects, "
          f"{stats['scrapes']} scrapes, {stats['failed']} failed, "
          f"slowest {stats['max_ms']:.0f} ms")


def ln(seconds: float, interval: float, cmd: list) -> int:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                timeout=5).returncode
            ms = (time.monotonic() - t0) * 1000
            print(f"{ms:.1f}" if rc == 0 else "failed", flush=True)
        except subprocess.TimeoutExpired:
            print("timeout", flush=True)
        time.sleep(max(0.0, interval - (time.monotonic() - t0)))
    return 0


def main() -> int:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "adverts":
        return adverts(args[0], args[1], args[2])
    if cmd == "udp":
        return udp(args[0], int(args[1]), int(args[2]), int(args[3]), args[4:])
    if cmd == "flap":
        return flap(args)
    if cmd == "metrics":
        asyncio.run(metrics_main(args[0], int(args[1]), int(args[2]), int(args[3]),
                                 float(args[4])))
        return 0
    if cmd == "ln":
        return ln(float(args[0]), float(args[1]), args[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
