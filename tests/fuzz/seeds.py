#!/usr/bin/python3
"""Write the fuzz targets' seed corpora from what the tests already hold.

    seeds.py --cases BUILD/tests/packet/cases --out DIR

DIR/burst/   one input per packet-table case: its frames, port by port (wan, then lan, as the
             runners feed them), each RX queue of a multi-worker case to that worker, in
             fuzz_burst.cc's record format; plus each case replayed after a long pause (the
             clock jumps between its ports) so expiry is in reach from the start.
DIR/config/  config/*.yaml, the YAML files under tests/, every case's config.yaml, and the YAML
             held in the tests' C++ raw strings.
DIR/<target>.dict  a libFuzzer dictionary for config and mgmt: the short string literals of
             the code that parses their input (keys, scheduler names, commands, options).
DIR/mgmt/    sample socket requests, ipvsadm command lines (tests/mgmt/ipvsadm_script.sh's and
             more) and an ipvsadm -R rule file, each behind fuzz_mgmt.cc's selector byte.
DIR/sync/    IPVS sync v1 datagrams (fuzz_sync.cc): each kind of entry, the sequence option,
             padding between entries, IPv6 and optional/unknown options, a version 0 message.
Files are named by content hash, so rerunning adds nothing twice. Seeds are written at fuzz time
from the generated cases rather than committed, so they follow the tables.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "packet"))
from gen import read_pcap  # noqa: E402  (tests/packet/gen.py; pulls in scapy via tables.py)

PORTS = ["wan", "lan"]  # tables.PORTS: port index 0, 1
MAX_BURST = 32
END_BURST = 4
# Recompute the IPv4 header checksum: the seeds' are right already, and mutants then still get
# past the check to the deeper paths (clearing the bit reaches ip_bad_checksum).
FIX_CSUM = 16
PAUSE = 0xC0 | 20  # fuzz_burst delta byte: 20 << 15 ms, about 11 minutes


def record(port: int, worker: int, frame: bytes, end: bool, delta: int = 0) -> bytes:
    ctl = port | (worker << 1) | (END_BURST if end else 0) | FIX_CSUM
    return struct.pack(">BBH", ctl, delta, len(frame)) + frame


def burst_input(case_dir: str, pause: bool) -> bytes:
    out = b""
    for p, port in enumerate(PORTS):
        queues = sorted(glob.glob(os.path.join(case_dir, f"in_{port}_q*.pcap")))
        queues = queues or [os.path.join(case_dir, f"in_{port}.pcap")]
        first = True
        for q, path in enumerate(queues):
            if not os.path.exists(path):
                continue
            frames = read_pcap(path)
            for i, f in enumerate(frames):
                end = i == len(frames) - 1 or i % MAX_BURST == MAX_BURST - 1
                delta = PAUSE if pause and first and p > 0 else 0
                out += record(p, q % 2, f, end, delta)
                first = False
    return out


YAML_HINT = re.compile(r"^\s*(virtual_servers|ports|lcores|timeouts|routes|neighbors)\s*:", re.M)
RAW_STRING = re.compile(r'R"\((.*?)\)"', re.S)


def config_texts() -> list[bytes]:
    texts = []
    files = glob.glob(os.path.join(ROOT, "config", "*.yaml"))
    files += glob.glob(os.path.join(ROOT, "tests", "**", "*.yaml"), recursive=True)
    for path in sorted(files):
        with open(path, "rb") as f:
            texts.append(f.read())
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.cc"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            for s in RAW_STRING.findall(f.read()):
                if YAML_HINT.search(s):
                    texts.append(s.encode())
    return texts


VIP = "203.0.113.100"
SVC = '{"proto":"tcp","vip":"%s","port":80}' % VIP
REQUESTS = [
    '{"v":1,"cmd":"ping"}',
    '{"v":1,"cmd":"list"}',
    '{"v":1,"cmd":"add_service","service":{"proto":"tcp","vip":"%s","port":8080},'
    '"scheduler":"wrr","persistent":300,"netmask":"255.255.255.0"}' % VIP,
    '{"v":1,"cmd":"edit_service","service":%s,"scheduler":"sh","flags":["sh-port"]}' % SVC,
    '{"v":1,"cmd":"del_service","service":%s}' % SVC,
    '{"v":1,"cmd":"add_dest","service":%s,"dest":{"addr":"198.51.100.14","port":80},'
    '"fwd":"nat","weight":2,"upper":10,"lower":5}' % SVC,
    '{"v":1,"cmd":"edit_dest","service":%s,"dest":{"addr":"198.51.100.11","port":80},'
    '"weight":0}' % SVC,
    '{"v":1,"cmd":"del_dest","service":%s,"dest":{"addr":"198.51.100.12","port":80}}' % SVC,
    '{"v":1,"cmd":"set_timeouts","tcp":900,"tcpfin":120,"udp":300}',
    '{"v":1,"cmd":"clear"}',
    '{"v":1,"cmd":"zero","service":%s}' % SVC,
    '{"v":1,"cmd":"batch","ops":[{"cmd":"clear"},{"cmd":"add_service","service":%s,'
    '"scheduler":"rr"}]}' % SVC,
    '{"v":1,"ok":true,"text":"x"}',
    '{"v":1,"ok":false,"error":{"code":"not_found","message":"No such service","details":[]}}',
]
IPVSADM = [
    "-A -t 203.0.113.100:8080 -s wrr -p 120 -M 255.255.255.0",
    "-A -u 203.0.113.100:5353 -s sh -b sh-port,sh-fallback",
    "-E -t 203.0.113.100:80 -s mh -b mh-port",
    "-a -t 203.0.113.100:80 -r 198.51.100.14:80 -m -w 3 -x 10 -y 5",
    "-a -t 203.0.113.100:80 -r 198.51.100.15 -i",
    "-e -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 0",
    "-d -t 203.0.113.100:80 -r 198.51.100.12:80",
    "-D -u 203.0.113.100:53",
    "-C",
    "-Z -t 203.0.113.100:80",
    "--set 900 120 300",
    "-Ln --stats",
    "-L -n -c",
    "-S -n",
    "-lcn --rate",
    "-L --timeout",
    "status",
    "save-yaml --write",
]
RESTORE = """-A -t 203.0.113.100:80 -s wrr
-a -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 3
-a -t 203.0.113.100:80 -r 198.51.100.12:80 -g -w 1
# a comment
-A -u 203.0.113.100:53 -s rr -p 60
-a -u 203.0.113.100:53 -r 198.51.100.11:53 -m -w 1
--set 900 120 300
"""


def mgmt_inputs() -> list[bytes]:
    out = [b"\x00" + r.encode() for r in REQUESTS]
    lines = list(IPVSADM)
    with open(os.path.join(ROOT, "tests", "mgmt", "ipvsadm_script.sh")) as f:
        for line in f:
            if line.startswith("ipvsadm "):
                lines.append(line[len("ipvsadm "):].replace("$VIP", VIP).split(">")[0].strip())
    out += [b"\x01" + line.encode() for line in lines]
    out.append(b"\x02" + RESTORE.encode())
    return out


def sync_entry(proto: int, flags: int, state: int, ports: tuple[int, int, int], fwmark: int,
               timeout: int, addrs: tuple[int, int, int], opts: bytes = b"", v6: bool = False
               ) -> bytes:
    """One struct ip_vs_sync_v4 (or _v6 with 16-byte addresses), options appended."""
    size = (72 if v6 else 36) + len(opts)
    head = struct.pack(">BBHIHHHHII", 1 if v6 else 0, proto, size, flags, state, *ports, fwmark,
                       timeout)
    if v6:
        tail = b"".join(b"\x20\x01\x0d\xb8" + bytes(8) + struct.pack(">I", a) for a in addrs)
    else:
        tail = struct.pack(">III", *addrs)
    return head + tail + opts


def sync_message(entries: list[bytes], syncid: int = 0) -> bytes:
    """struct ip_vs_sync_mesg and the entries, each after the first on a 4-byte boundary."""
    body = b""
    for e in entries:
        body += bytes(-(8 + len(body)) % 4) + e
    return struct.pack(">BBHBBH", 0, syncid, 8 + len(body), len(entries), 1, 0) + body


def sync_inputs() -> list[bytes]:
    c, v, d = 0xCB007105, 0xCB007164, 0xC633640B  # 203.0.113.5, .100, 198.51.100.11
    seq = b"\x01\x18" + struct.pack(">6I", 1, 2, 3, 4, 5, 6)
    tcp = [sync_entry(6, 3, s, (40000 + s, 80, 80), 0, 900, (c, v, d)) for s in range(11)]
    out = [sync_message([e]) for e in tcp]
    out.append(sync_message(tcp, syncid=7))
    out.append(sync_message([
        sync_entry(17, 0, 0, (5353, 53, 5300), 0, 300, (c, v, d)),
        sync_entry(6, 0x1003, 0, (0, 443, 443), 0, 360, (c & ~0xFF, v, d)),  # template
        sync_entry(6, 0x1803, 1, (0, 0, 0), 0, 300, (c, v, d)),  # NO_CPORT, port 0
        sync_entry(6, 2, 1, (40001, 8080, 8080), 7, 900, (c, v, d)),  # fwmark service
        sync_entry(0, 0x1002, 0, (0, 0, 0), 7, 300, (c, 7, d)),  # fwmark template
        sync_entry(6, 0x603, 1, (40002, 21, 21), 0, 900, (c, v, d), seq),  # seq option
        sync_entry(6, 3, 1, (40003, 80, 80), 0, 900, (c, v, d), b"\x45\x02ab"),  # optional
        sync_entry(6, 3, 1, (40004, 80, 80), 0, 900, (c, v, d), b"\x02\x03abc\x03\x03sip"),
        sync_entry(6, 3, 1, (40005, 80, 80), 0, 900, (1, 2, 3), v6=True),
    ]))
    out.append(sync_message([]))
    out.append(struct.pack(">BBH", 1, 0, 28) + bytes(24))  # version 0
    return out


LITERAL = re.compile(r'"([A-Za-z0-9_.:/-]{2,24})"')
DICT_SOURCES = {
    "config": ["lib/config/*.cc"],
    "mgmt": ["lib/mgmt/protocol.cc", "lib/mgmt/config_edit.cc", "lib/mgmt/ipvsadm_*.cc"],
}


def dictionary(target: str) -> str:
    words = set()
    for pattern in DICT_SOURCES[target]:
        for path in glob.glob(os.path.join(ROOT, pattern)):
            with open(path, encoding="utf-8") as f:
                words.update(LITERAL.findall(f.read()))
    if target == "config":
        words.update(w + ":" for w in list(words))
    return "".join(f'"{w}"\n' for w in sorted(words))


def write_all(d: str, items: list[bytes]) -> int:
    os.makedirs(d, exist_ok=True)
    for data in items:
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    return len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", required=True, help="the packet tables' generated case folders")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    case_dirs = sorted(d for d in glob.glob(os.path.join(args.cases, "*")) if os.path.isdir(d))
    if not case_dirs:
        sys.exit(f"seeds.py: no case folders in {args.cases} (build the packet_cases target)")
    burst = [burst_input(d, p) for d in case_dirs for p in (False, True)]
    configs = config_texts()
    for d in case_dirs:
        with open(os.path.join(d, "config.yaml"), "rb") as f:
            configs.append(f.read())
    n = write_all(os.path.join(args.out, "burst"), [b for b in burst if b])
    n += write_all(os.path.join(args.out, "config"), configs)
    n += write_all(os.path.join(args.out, "mgmt"), mgmt_inputs())
    n += write_all(os.path.join(args.out, "sync"), sync_inputs())
    for target in DICT_SOURCES:
        with open(os.path.join(args.out, target + ".dict"), "w") as f:
            f.write(dictionary(target))
    print(f"seeds.py: {n} seeds from {len(case_dirs)} cases in {args.out}")


if __name__ == "__main__":
    main()
