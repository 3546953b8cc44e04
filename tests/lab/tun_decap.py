#!/usr/bin/python3
"""IPIP decapsulation for a TUN real server of the netns lab (the kernel here has no ipip module).

    tun_decap.py [--dev ipipd0] [--pidfile FILE]

Run inside a real server's namespace. A raw socket for IP protocol 4 receives the IPIP packets
sent to this host (the load balancer's TUN forwarding); the outer IPv4 header is stripped and
the inner packet written into a tun device (IFF_TUN | IFF_NO_PI), so the kernel receives it as
if it had come in on a tunnel interface: the VIP on lo accepts it and the answer leaves through
the ordinary routing (the lab routes VIP-sourced traffic back through the router). Reverse-path
filtering is switched off on the device (and all/default) so the kernel accepts the client's
source address on it. Since a raw socket took the packets, the kernel sends no ICMP protocol-
unreachable for them.

Malformed packets (truncated, not IPv4 inside, inner length past the data) are dropped silently;
nothing is logged per packet. The pid file is written once the device is up and the socket
bound; SIGTERM ends the process at once (the tun device disappears with it). Standard library
only.
"""

import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFF_UP = 0x1
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IPPROTO_IPIP = 4


def open_tun(name: str) -> tuple[int, str]:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI)
    res = fcntl.ioctl(fd, TUNSETIFF, ifr)
    dev = res[:16].rstrip(b"\0").decode()
    return fd, dev


def set_up(dev: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sH", dev.encode(), 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifr)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", dev.encode(), flags | IFF_UP))


def sysctl(path: str, value: str) -> None:
    with open(os.path.join("/proc/sys/net/ipv4/conf", path), "w") as f:
        f.write(value)


def inner_packet(outer: bytes) -> bytes | None:
    """The inner IPv4 packet of an IPIP packet, or None when malformed."""
    if len(outer) < 20 or outer[0] >> 4 != 4:
        return None
    ihl = (outer[0] & 0x0F) * 4
    inner = outer[ihl:]
    if ihl < 20 or len(inner) < 20 or inner[0] >> 4 != 4 or (inner[0] & 0x0F) < 5:
        return None
    total = struct.unpack("!H", inner[2:4])[0]
    if total < (inner[0] & 0x0F) * 4 or total > len(inner):
        return None
    return inner[:total]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", default="ipipd0", help="tun device name")
    ap.add_argument("--pidfile")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tun_fd, dev = open_tun(args.dev)
    for conf in ("all", "default", dev):
        sysctl(f"{conf}/rp_filter", "0")
    set_up(dev)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)

    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)
    poller.register(tun_fd, select.POLLIN)
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == tun_fd:
                    os.read(tun_fd, 65535)  # nothing is routed into the device: discard
                    continue
                inner = inner_packet(raw.recv(65535))
                if inner is not None:
                    try:
                        os.write(tun_fd, inner)
                    except OSError:
                        pass  # e.g. the kernel refused a malformed inner packet
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
