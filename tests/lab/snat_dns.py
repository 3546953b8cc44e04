#!/usr/bin/python3
"""A tiny DNS responder and client for tests/lab/snat.sh (issue 19).

    snat_dns.py serve ADDR PORT LOG    answer every A query with 203.0.113.77 (TTL 60), one line
                                       "query NAME from SRC:PORT" per query appended to LOG
    snat_dns.py query SERVER NAME      ask SERVER:53 for NAME's A record over UDP (2 s, 3 tries),
                                       print the address; exit 0 only with an answer
"""

from __future__ import annotations

import random
import socket
import struct
import sys

ANSWER = "203.0.113.77"


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_name(msg: bytes, off: int) -> tuple[str, int]:
    labels = []
    while msg[off] != 0:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), off + 1


def serve(addr: str, port: int, log: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    while True:
        msg, peer = sock.recvfrom(512)
        if len(msg) < 12:
            continue
        qid, _flags, qd = struct.unpack("!HHH", msg[:6])
        if qd != 1:
            continue
        name, end = decode_name(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[end:end + 4])
        question = msg[12:end + 4]
        with open(log, "a", encoding="ascii") as f:
            f.write(f"query {name} from {peer[0]}:{peer[1]}\n")
        if qtype != 1 or qclass != 1:
            reply = struct.pack("!HHHHHH", qid, 0x8184, 1, 0, 0, 0) + question  # NOTIMP
        else:
            reply = (struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question
                     + struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4)
                     + socket.inet_aton(ANSWER))
        sock.sendto(reply, peer)


def query(server: str, name: str) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    qid = random.randrange(65536)
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack(
        "!HH", 1, 1)
    for _ in range(3):
        sock.sendto(msg, (server, 53))
        try:
            reply, _ = sock.recvfrom(512)
        except socket.timeout:
            continue
        rid, flags, _qd, an = struct.unpack("!HHHH", reply[:8])
        if rid != qid or flags & 0xF != 0 or an < 1:
            print(f"bad answer: id {rid} flags {flags:#x} answers {an}", file=sys.stderr)
            return 1
        print(socket.inet_ntoa(reply[-4:]))
        return 0
    print(f"no answer from {server}", file=sys.stderr)
    return 1


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "query":
        return query(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
