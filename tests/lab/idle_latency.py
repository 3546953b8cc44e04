#!/usr/bin/env python3
"""Forwarding latency of the first packet after an idle spell (issue 16, acceptance 3).

Usage: idle_latency.py CLIENT_NS LB_NS LB_IFACE RS_NS RS_IFACE VIP PORT TRIALS IDLE_S
Sends TRIALS single UDP datagrams from CLIENT_NS to VIP:PORT, each after IDLE_S seconds without
any traffic, each from a new source port (a new connection: scheduled, then forwarded). The
latency of each is taken from kernel receive timestamps (SO_TIMESTAMPNS) of two AF_PACKET
sockets: the datagram arriving on the appliance's interface LB_IFACE in LB_NS (where ulvsd's
af_packet port reads it) and the forwarded datagram arriving on the real server's RS_IFACE in
RS_NS. Prints one line per trial and a last line "latency_us max=... median=..."; exits 1 when a
datagram was not forwarded within 2 s.
"""
import ctypes
import os
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
ETH_P_IP = 0x0800
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4
LIBC = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    """Move this thread into network namespace `ns` (ip netns)."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
    finally:
        os.close(fd)


def sniffer(ns, iface):
    enter(ns)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((iface, ETH_P_IP))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setblocking(False)
    return s


def marker_of(frame, port):
    """The payload of a UDP datagram to `port` in an Ethernet frame, else None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    if frame[14 + 9] != 17:
        return None
    udp = 14 + ihl
    if struct.unpack("!H", frame[udp + 2:udp + 4])[0] != port:
        return None
    return bytes(frame[udp + 8:])


def wait_for(s, marker, port, deadline):
    """Kernel timestamp (ns) of the incoming frame carrying `marker`, or None at deadline."""
    while time.monotonic() < deadline:
        if not select.select([s], [], [], max(0.0, deadline - time.monotonic()))[0]:
            continue
        while True:
            try:
                data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(16))
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING or marker_of(data, port) != marker:
                continue
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    return sec * 1_000_000_000 + nsec
    return None


def main():
    client_ns, lb_ns, lb_if, rs_ns, rs_if, vip, port, trials, idle_s = sys.argv[1:10]
    port, trials, idle_s = int(port), int(trials), float(idle_s)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    at_lb = sniffer(lb_ns, lb_if)
    at_rs = sniffer(rs_ns, rs_if)
    lat = []
    ok = True
    for i in range(trials):
        time.sleep(idle_s)
        for s in (at_lb, at_rs):  # nothing else should have come; drop it if it did
            while select.select([s], [], [], 0)[0]:
                s.recv(2048)
        marker = f"idle-probe-{os.getpid()}-{i}".encode()
        enter(client_ns)  # a new socket, a new source port: a new connection each time
        src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        LIBC.setns(home, CLONE_NEWNET)
        src.sendto(marker, (vip, port))
        deadline = time.monotonic() + 2.0
        t_in = wait_for(at_lb, marker, port, deadline)
        t_out = wait_for(at_rs, marker, port, deadline)
        src.close()
        if t_in is None or t_out is None:
            print(f"trial {i + 1}: not forwarded within 2 s (seen at the appliance: "
                  f"{t_in is not None}, at the real server: {t_out is not None})")
            ok = False
            continue
        us = (t_out - t_in) / 1000
        lat.append(us)
        print(f"trial {i + 1}: after {idle_s:g} s idle, forwarded in {us:.0f} us")
    if lat:
        s = sorted(lat)
        print(f"latency_us max={s[-1]:.0f} median={s[len(s) // 2]:.0f} min={s[0]:.0f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
