"""Packet tables for ulvs (tests/packet/meson.build says how they run).

Every case is data: a name, a one-line description, the virtual servers of its ulvsd config, the
input frames on one port, the exact frames expected out of every port, the expected non-zero drop
counters and the ordering per output port. gen.py turns them into case folders that two runners
read: run_e2e.py (ulvsd with net_pcap vdevs) and the C++ runner over the worker's burst function.

Expected outputs follow the rules the daemon implements (see the brief of the foundation issue):
- ARP requests for one of the receiving port's addresses, or for a VIP inside one of its subnets,
  get a 42-byte reply from that port's MAC; other ARP is handed to control and ignored.
- ICMP echo to our addresses or a VIP is answered out of the receiving port, to the sender's MAC,
  with addresses swapped, TTL 64, id/tos/flags kept, both checksums recomputed.
- DR rewrites only the Ethernet addresses (dst = real server, src = lan MAC): every other byte,
  Ethernet padding included, is forwarded as received.
NAT, TUN, routing and ICMP errors (issue 3) follow the wire behaviour written down before each
group of cases below. Every expected checksum is computed by scapy from scratch (never by editing
the input incrementally), so the tables check the daemon's incremental updates independently;
rewrites are also checked to touch only the bytes they may touch.

Inputs on several ports: the runners feed the ports in PORTS order (the worker polls wan before
lan in every loop iteration, and a burst holds max_burst = 32 frames), so a case may give inputs on
wan and lan when every port but the last holds at most 32 frames: e.g. requests on wan, then the
real server's replies on lan. Multi-worker cases (workers > 1) give inputs per RX queue; the burst
runner skips them, run_e2e.py runs them with one RX queue per worker on every port.
Run with /usr/bin/python3 (Debian's, it has scapy).
"""

from __future__ import annotations

import dataclasses
import struct
import zlib

from scapy.all import (  # type: ignore
    ARP,
    ICMP,
    IP,
    TCP,
    UDP,
    Dot1Q,
    Ether,
    IPOption_NOP,
    IPOption_Router_Alert,
    IPv6,
    Raw,
    fragment,
)
from scapy.utils import checksum as scapy_checksum  # type: ignore

# --- the lab: port 0 = wan, port 1 = lan (net_pcap0, net_pcap1 give these MACs) -----------------
PORTS = ["wan", "lan"]
WAN_MAC = "02:70:63:61:70:00"
LAN_MAC = "02:70:63:61:70:01"
PORT_MAC = {"wan": WAN_MAC, "lan": LAN_MAC}
WAN_ADDR, WAN_PREFIX = "203.0.113.10", "203.0.113.10/25"
LAN_ADDR, LAN_PREFIX = "198.51.100.1", "198.51.100.1/24"
ROUTER, ROUTER_MAC = "203.0.113.1", "02:00:00:00:00:01"
CLIENT = "203.0.113.130"  # outside wan's /25: reaches us through the router
VIP = "203.0.113.100"  # DR services
VIP_NAT = "203.0.113.101"  # NAT services (as in config/lab.yaml)
VIP_TUN = "203.0.113.102"  # TUN services
ROUTER2, ROUTER2_MAC = "203.0.113.2", "02:00:00:00:00:02"  # a second router on wan (routing)
NEAR, NEAR_MAC = "203.0.113.50", "02:00:00:00:00:50"  # a client on wan's own subnet
MAX_BURST = 32  # dp::max_burst: frames of one rx burst
STRANGER = "203.0.113.77"  # neither ours nor a VIP
RS = {  # real servers, in config order
    "rs1": ("198.51.100.11", "02:00:00:00:00:11"),
    "rs2": ("198.51.100.12", "02:00:00:00:00:12"),
    "rs3": ("198.51.100.13", "02:00:00:00:00:13"),
}
FOREIGN_MAC = "02:00:00:00:99:99"
BCAST_MAC = "ff:ff:ff:ff:ff:ff"

# Drop reasons, exactly ULVS_FOREACH_DROP in include/ulvs/dataplane/counters.h (gen.py checks the
# header when it can find it).
DROP_REASONS = [
    "eth_truncated", "not_our_mac", "unknown_ethertype", "ip_truncated", "ip_bad_version",
    "ip_bad_ihl", "ip_bad_len", "ip_bad_checksum", "ip_fragment", "l4_truncated", "tcp_bad_doff",
    "udp_bad_len", "not_for_us", "no_service", "vip_not_owned", "no_conn", "no_dest",
    "conn_table_full", "neigh_unresolved", "ctrl_ring_full", "ctrl_prio_ring_full",
    "police_icmp_echo", "police_exception", "tx_full", "ttl_exceeded", "no_route", "too_big",
    "frag_failed", "icmp_no_conn", "redirect_ring_full", "frag_timeout", "frag_table_full",
    "frag_invalid", "vip_ping_refused", "frame_cut", "police_sync",
]


@dataclasses.dataclass
class Case:
    name: str
    description: str
    virtual_servers: list[dict]
    # The port of `inputs` when it is a list; "" when `inputs` is a dict port -> frames (one RX
    # queue), or, for workers > 1, port -> one list of frames per RX queue.
    in_port: str
    inputs: list[bytes] | dict[str, list]
    expected: dict[str, list[bytes]]  # port -> frames; a port not listed expects nothing
    drops: dict[str, int] = dataclasses.field(default_factory=dict)
    order: dict[str, str] = dataclasses.field(default_factory=dict)  # port -> exact|set
    workers: int = 1  # worker lcores (and RX queues per port)
    # Counters of the `counters:` line (other than drops) that must be at least this.
    min_counters: dict[str, int] = dataclasses.field(default_factory=dict)
    mtu: dict[str, int] = dataclasses.field(default_factory=dict)  # port -> MTU (default 1500)
    routes: list[dict] | None = None  # None: the default route via ROUTER
    neighbors: list[dict] = dataclasses.field(default_factory=list)  # extra static neighbours

    def order_of(self, port: str) -> str:
        return self.order.get(port, "exact")

    def queues(self) -> dict[str, list[list[bytes]]]:
        """Inputs as port -> RX queue -> frames, every port and queue present."""
        if isinstance(self.inputs, dict):
            src = self.inputs
        else:
            src = {self.in_port: self.inputs}
        out = {}
        for port in PORTS:
            got = src.get(port, [])
            if self.workers == 1:
                out[port] = [list(got)]
            else:
                got = list(got) or [[] for _ in range(self.workers)]
                out[port] = [list(q) for q in got]
        return out


# --- config --------------------------------------------------------------------------------------
def real_servers(port: int, weights=(1, 1, 1), rports=None, servers=None) -> list[dict]:
    names = servers or list(RS)
    rports = rports or (port,) * len(names)
    return [{"address": RS[n][0], "port": rp, "weight": w}
            for n, w, rp in zip(names, weights, rports)]


def vs(name: str, port: int, protocol: str = "tcp", scheduler: str = "rr",
       weights=(1, 1, 1), address: str = VIP, forwarding: str = "dr", rports=None,
       servers=None) -> dict:
    return {"name": name, "address": address, "port": port, "protocol": protocol,
            "scheduler": scheduler, "forwarding": forwarding,
            "real_servers": real_servers(port, weights, rports, servers)}


WEB = vs("web", 80)
NAT_WEB = vs("nat_web", 80, address=VIP_NAT, forwarding="nat", rports=(8080, 8080, 8080))
NAT_DNS = vs("nat_dns", 53, protocol="udp", address=VIP_NAT, forwarding="nat",
             rports=(5353, 5353, 5353))
TUN_WEB = vs("tun_web", 80, address=VIP_TUN, forwarding="tun")
TUN_DNS = vs("tun_dns", 53, protocol="udp", address=VIP_TUN, forwarding="tun")


def config_for(case: Case, case_dir: str) -> dict:
    """The ulvsd config of a case (documented keys only). `case_dir` must be absolute."""
    def device(i: int, port: str) -> str:
        if case.workers == 1:
            return (f"net_pcap{i},rx_pcap={case_dir}/in_{port}.pcap,"
                    f"tx_pcap={case_dir}/out_{port}.pcap")
        # One RX queue per worker, one TX queue per worker plus the control lcore's.
        rx = [f"rx_pcap={case_dir}/{f}" for f in in_pcaps(case, port)]
        tx = [f"tx_pcap={case_dir}/{f}" for f in out_pcaps(case, port)]
        return ",".join([f"net_pcap{i}"] + rx + tx)

    # The prefix names the case folder too, so two build trees (or clones) running their packet
    # tests at once never share a DPDK runtime directory.
    tree = zlib.crc32(case_dir.encode()) & 0xffff
    eal = ["--no-huge", "-m", "256", "--no-pci",
           "--file-prefix", f"ulvs-pkt-{case.name}-{tree:04x}"]
    lcores = {"control": 0, "workers": list(range(1, case.workers + 1))}
    if case.workers > 1:
        # Workers share CPU 1 (the test machine may have two CPUs).
        eal += ["--lcores", "0@0," + ",".join(f"{w}@1" for w in lcores["workers"])]

    def port_cfg(i: int, port: str, prefix: str) -> dict:
        p = {"name": port, "device": device(i, port), "addresses": [prefix]}
        if port in case.mtu:
            p["mtu"] = case.mtu[port]
        return p

    return {
        "dpdk": {"eal_args": eal},
        "lcores": lcores,
        "ports": [port_cfg(0, "wan", WAN_PREFIX), port_cfg(1, "lan", LAN_PREFIX)],
        "routes": ([{"prefix": "0.0.0.0/0", "via": ROUTER}] if case.routes is None
                   else case.routes),
        "neighbors": [{"address": ROUTER, "mac": ROUTER_MAC, "port": "wan"}]
        + [{"address": a, "mac": m, "port": "lan"} for a, m in RS.values()] + case.neighbors,
        "connections": {"max": 4096},
        "virtual_servers": case.virtual_servers,
        # metrics "" disables the HTTP endpoint so parallel runs do not fight over a TCP port.
        "management": {"socket": f"{case_dir}/ulvsd.sock", "metrics": ""},
        "logging": {"level": "info"},
    }


def in_pcaps(case: Case, port: str) -> list[str]:
    """Input pcap file names of a port: one per RX queue."""
    if case.workers == 1:
        return [f"in_{port}.pcap"]
    return [f"in_{port}_q{q}.pcap" for q in range(case.workers)]


def out_pcaps(case: Case, port: str) -> list[str]:
    """Output pcap file names of a port: one per TX queue (workers + control when > 1)."""
    if case.workers == 1:
        return [f"out_{port}.pcap"]
    return [f"out_{port}_q{q}.pcap" for q in range(case.workers + 1)]


# --- packet builders ------------------------------------------------------------------------------
def b(pkt) -> bytes:
    return bytes(pkt)


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def from_router(l3, dst_mac: str = WAN_MAC) -> bytes:
    """A frame the router forwards to us on wan."""
    return b(Ether(src=ROUTER_MAC, dst=dst_mac) / l3)


def client_ip(dst: str = VIP, **kw):
    kw.setdefault("ttl", 63)  # one hop after the client's 64
    return IP(src=CLIENT, dst=dst, **kw)


def tcp(sport: int, flags: str, seq: int = 1000, ack: int = 0, payload: bytes = b"",
        dport: int = 80, dst: str = VIP, ip_id: int = 1, ip_kw=None, **tcp_kw) -> bytes:
    ip_kw = dict(ip_kw or {})
    ip_kw.setdefault("flags", "DF")
    pkt = client_ip(dst, id=ip_id, **ip_kw) / TCP(sport=sport, dport=dport, flags=flags, seq=seq,
                                                  ack=ack, window=64240, **tcp_kw)
    if payload:
        pkt = pkt / Raw(payload)
    return from_router(pkt)


def udp(sport: int, payload: bytes, dport: int = 53, dst: str = VIP, ip_id: int = 1) -> bytes:
    return from_router(client_ip(dst, id=ip_id) / UDP(sport=sport, dport=dport) / Raw(payload))


def dr_out(frame: bytes, rs: str) -> bytes:
    """What DR sends on lan: new Ethernet addresses, every other byte as received."""
    return mac_bytes(RS[rs][1]) + mac_bytes(LAN_MAC) + frame[12:]


def arp_request(target: str, sender: str = ROUTER, sender_mac: str = ROUTER_MAC,
                pad_to: int = 0) -> bytes:
    frame = b(Ether(src=sender_mac, dst=BCAST_MAC)
              / ARP(op=1, hwsrc=sender_mac, psrc=sender, hwdst="00:00:00:00:00:00", pdst=target))
    return frame + bytes(max(0, pad_to - len(frame)))  # real NICs pad to 60 bytes


def arp_reply(request: bytes, port: str) -> bytes:
    req = Ether(request)[ARP]
    mac = PORT_MAC[port]
    return b(Ether(src=mac, dst=Ether(request).src, type=0x0806)
             / ARP(hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=2, hwsrc=mac, psrc=req.pdst,
                   hwdst=req.hwsrc, pdst=req.psrc))


PING_PAYLOAD = bytes(range(0x10, 0x10 + 56))  # 56 bytes, as ping(8) sends


def ping(dst: str, src: str = CLIENT, src_mac: str = ROUTER_MAC, port: str = "wan",
         seq: int = 1) -> bytes:
    return b(Ether(src=src_mac, dst=PORT_MAC[port])
             / IP(src=src, dst=dst, ttl=63, id=0x4d2, tos=0x10, flags="DF")
             / ICMP(type=8, code=0, id=0x1234, seq=seq) / Raw(PING_PAYLOAD))


def echo_reply(request: bytes, port: str) -> bytes:
    e = Ether(request)
    ip, icmp = e[IP], e[ICMP]
    return b(Ether(src=PORT_MAC[port], dst=e.src)
             / IP(tos=ip.tos, id=ip.id, flags=ip.flags, frag=0, ttl=64, proto=1, src=ip.dst,
                  dst=ip.src)
             / ICMP(type=0, code=0, id=icmp.id, seq=icmp.seq) / Raw(bytes(icmp.payload)))


# --- raw edits for malformed frames ---------------------------------------------------------------
ETH = 14


def csum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fix_ip_csum(frame: bytearray, hdr_len: int = 20) -> bytes:
    frame[ETH + 10:ETH + 12] = b"\0\0"
    frame[ETH + 10:ETH + 12] = struct.pack("!H", csum16(bytes(frame[ETH:ETH + hdr_len])))
    return bytes(frame)


def edit(frame: bytes, offset: int, data: bytes, fix_csum: bool = True) -> bytes:
    """Overwrite bytes at `offset` (from the frame start), then fix the IPv4 header checksum."""
    f = bytearray(frame)
    f[offset:offset + len(data)] = data
    return fix_ip_csum(f) if fix_csum else bytes(f)


def set_ip_total_len(frame: bytes, total: int) -> bytes:
    return edit(frame, ETH + 2, struct.pack("!H", total))


def ip_raw(proto: int, l4: bytes, dst: str = VIP) -> bytes:
    """A frame from the router whose IPv4 payload is `l4` as given (no scapy fix-ups)."""
    return from_router(IP(src=CLIENT, dst=dst, ttl=63, proto=proto) / Raw(l4))


# --- the cases ------------------------------------------------------------------------------------
def arp_cases() -> list[Case]:
    vip_req = arp_request(VIP)
    own_req = arp_request(WAN_ADDR, pad_to=60)
    lan_req = arp_request(LAN_ADDR, sender=RS["rs1"][0], sender_mac=RS["rs1"][1])
    return [
        Case("arp_vip", "ARP who-has VIP on wan is answered with wan's MAC", [WEB], "wan",
             [vip_req], {"wan": [arp_reply(vip_req, "wan")]}),
        Case("arp_own_wan", "ARP who-has 203.0.113.10 (padded to 60 bytes) answered, 42-byte reply",
             [WEB], "wan", [own_req], {"wan": [arp_reply(own_req, "wan")]}),
        Case("arp_own_lan", "ARP who-has 198.51.100.1 from rs1 on lan answered with lan's MAC",
             [WEB], "lan", [lan_req], {"lan": [arp_reply(lan_req, "lan")]}),
        Case("arp_unanswered",
             "ARP for a stranger, for lan's address asked on wan, and an ARP reply: no output",
             [WEB], "wan",
             [arp_request("203.0.113.99"), arp_request(LAN_ADDR),
              b(Ether(src=ROUTER_MAC, dst=WAN_MAC)
                / ARP(op=2, hwsrc=ROUTER_MAC, psrc=ROUTER, hwdst=WAN_MAC, pdst=WAN_ADDR))],
             {}),
        Case("arp_vip_on_lan", "ARP who-has VIP on lan is not answered (VIP outside lan's subnet)",
             [WEB], "lan", [arp_request(VIP, sender=RS["rs2"][0], sender_mac=RS["rs2"][1])], {}),
    ]


def ping_cases() -> list[Case]:
    to_vip, to_wan = ping(VIP), ping(WAN_ADDR, seq=7)
    to_lan = ping(LAN_ADDR, src=RS["rs3"][0], src_mac=RS["rs3"][1], port="lan")
    return [
        Case("ping_vip", "ICMP echo to the VIP answered out of wan to the router", [WEB], "wan",
             [to_vip], {"wan": [echo_reply(to_vip, "wan")]}),
        Case("ping_own_wan", "ICMP echo to 203.0.113.10 answered", [WEB], "wan", [to_wan],
             {"wan": [echo_reply(to_wan, "wan")]}),
        Case("ping_own_lan", "ICMP echo from rs3 to 198.51.100.1 answered out of lan", [WEB],
             "lan", [to_lan], {"lan": [echo_reply(to_lan, "lan")]}),
    ]


def dr_cases() -> list[Case]:
    cases = []

    # One whole TCP connection: every packet to rs1, byte-exact apart from the MACs.
    sp, c, s = 40000, 1000, 5000
    flow = [
        tcp(sp, "S", seq=c, ip_id=1, options=[("MSS", 1460)]),
        tcp(sp, "A", seq=c + 1, ack=s + 1, ip_id=2),
        tcp(sp, "PA", seq=c + 1, ack=s + 1, ip_id=3, payload=b"GET / HTTP/1.0\r\n\r\n"),
        tcp(sp, "FA", seq=c + 19, ack=s + 1, ip_id=4),
        tcp(sp, "A", seq=c + 20, ack=s + 2, ip_id=5),
    ]
    cases.append(Case("dr_tcp_flow", "DR: SYN, ACK, data, FIN, ACK of one flow all go to rs1",
                      [WEB], "wan", flow, {"lan": [dr_out(f, "rs1") for f in flow]}))

    # Six flows, SYNs first then interleaved later packets: rr spreads, flows stick.
    ports = [41001, 41002, 41003, 41004, 41005, 41006]
    owner = dict(zip(ports, ["rs1", "rs2", "rs3", "rs1", "rs2", "rs3"]))
    seq = [(p, tcp(p, "S", ip_id=10 + i)) for i, p in enumerate(ports)]
    for i, p in enumerate([41004, 41001, 41006, 41002, 41005, 41003]):
        seq.append((p, tcp(p, "A", seq=1001, ack=1, ip_id=20 + i)))
    for i, p in enumerate([41003, 41006, 41001]):
        seq.append((p, tcp(p, "PA", seq=1001, ack=1, ip_id=30 + i, payload=b"x" * (i + 1))))
    cases.append(Case("dr_rr_sticky",
                      "DR rr: 6 SYNs go rs1 rs2 rs3 rs1 rs2 rs3, later packets follow their SYN",
                      [WEB], "wan", [f for _, f in seq],
                      {"lan": [dr_out(f, owner[p]) for p, f in seq]}))

    syns = [tcp(42001 + i, "S", ip_id=40 + i) for i in range(6)]
    cases.append(Case("dr_wrr", "DR wrr weights 3,2,1: 6 SYNs go rs1 rs1 rs2 rs1 rs2 rs3",
                      [vs("web", 80, scheduler="wrr", weights=(3, 2, 1))], "wan", syns,
                      {"lan": [dr_out(f, r) for f, r in
                               zip(syns, ["rs1", "rs1", "rs2", "rs1", "rs2", "rs3"])]}))

    syns = [tcp(43001 + i, "S", ip_id=50 + i) for i in range(4)]
    cases.append(Case("dr_weight0", "DR rr with rs2 at weight 0: SYNs go rs1 rs3 rs1 rs3",
                      [vs("web", 80, weights=(1, 0, 1))], "wan", syns,
                      {"lan": [dr_out(f, r) for f, r in
                               zip(syns, ["rs1", "rs3", "rs1", "rs3"])]}))

    # UDP: every packet may start a connection; later packets of a flow stick to its server.
    udp_seq = [(50001, "rs1"), (50002, "rs2"), (50001, "rs1"), (50003, "rs3"), (50002, "rs2"),
               (50004, "rs1"), (50003, "rs3")]
    frames = [(udp(p, b"q%d" % i, ip_id=60 + i), r) for i, (p, r) in enumerate(udp_seq)]
    cases.append(Case("dr_udp", "DR rr on VIP:53/udp: flows spread rs1 rs2 rs3 rs1 and stick",
                      [WEB, vs("dns", 53, protocol="udp")], "wan", [f for f, _ in frames],
                      {"lan": [dr_out(f, r) for f, r in frames]}))

    opts = [
        tcp(44001, "S", ip_id=70, ip_kw={"options": [IPOption_NOP()] * 4}),
        tcp(44001, "A", seq=1001, ack=1, ip_id=71, ip_kw={"options": [IPOption_Router_Alert()]}),
    ]
    cases.append(Case("dr_ip_options", "DR: packets with IP options (4 NOPs, router alert) "
                      "are forwarded unchanged", [WEB], "wan", opts,
                      {"lan": [dr_out(f, "rs1") for f in opts]}))

    syn = tcp(45001, "S", ip_id=80)
    padded = [syn + bytes(60 - len(syn)),
              tcp(45001, "A", seq=1001, ack=1, ip_id=81) + b"\xee" * 6]
    cases.append(Case("dr_eth_padding",
                      "DR: frames with Ethernet padding after IP total length are valid; "
                      "forwarded with the padding as received", [WEB], "wan", padded,
                      {"lan": [dr_out(f, "rs1") for f in padded]}))
    return cases


def drop_cases() -> list[Case]:
    def drop(name, description, frames, drops, vss=None):
        return Case(name, description, vss or [WEB], "wan", frames, {}, drops)

    syn = tcp(46001, "S", ip_id=90)
    # Three real TCP segments with (then without) bytes cut away; IP total length kept consistent.
    syn_ip = syn[ETH:]

    cases = [
        # IPVS schedules a SYN+ACK (active FTP) but never a SYN+RST: see tcp_starts_conn.
        drop("drop_no_conn", "TCP ACK, data, FIN, SYN+RST and RST with no connection: no_conn",
             [tcp(46101, "A", seq=1001, ack=1), tcp(46102, "PA", seq=1001, ack=1, payload=b"hi"),
              tcp(46103, "FA", seq=1000, ack=1), tcp(46104, "SR", seq=1000),
              tcp(46105, "R", seq=1001)],
             {"no_conn": 5}),
        drop("drop_no_service", "TCP to VIP:81 and UDP to VIP:80 (only tcp/80 configured)",
             [tcp(46201, "S", dport=81), udp(46202, b"x", dport=80)], {"no_service": 2}),
        drop("drop_not_for_us", "IPv4 to 203.0.113.77 (TCP, ICMP) and to 198.51.100.50: not_for_us",
             [tcp(46301, "S", dst=STRANGER), ping(STRANGER),
              tcp(46302, "S", dst="198.51.100.50")], {"not_for_us": 3}),
        drop("drop_not_our_mac",
             "unicast to a foreign MAC and to lan's MAC on wan: not_our_mac; broadcast and "
             "multicast frames are judged on their content",
             [from_router(client_ip() / TCP(sport=46401, dport=80, flags="S"), FOREIGN_MAC),
              from_router(client_ip() / TCP(sport=46402, dport=80, flags="S"), LAN_MAC),
              from_router(client_ip(STRANGER) / UDP(sport=46403, dport=9), BCAST_MAC),
              b(Ether(src=ROUTER_MAC, dst="33:33:00:00:00:01")
                / IPv6(src="fe80::1", dst="ff02::1") / UDP(sport=46404, dport=9))],
             {"not_our_mac": 2, "not_for_us": 1, "unknown_ethertype": 1}),
        drop("drop_unknown_ethertype", "IPv6, VLAN-tagged IPv4 and LLDP frames: unknown_ethertype",
             [b(Ether(src=ROUTER_MAC, dst=WAN_MAC) / IPv6(src="2001:db8::1", dst="2001:db8::2")
                / UDP(sport=1, dport=2)),
              b(Ether(src=ROUTER_MAC, dst=WAN_MAC) / Dot1Q(vlan=10)
                / client_ip() / TCP(sport=46501, dport=80, flags="S")),
              b(Ether(src=ROUTER_MAC, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(bytes(46)))],
             {"unknown_ethertype": 3}),
        drop("drop_eth_truncated",
             "frames of 10 and 13 bytes, and an ARP frame too short for its body: eth_truncated",
             [syn[:10], syn[:13], arp_request(VIP)[:ETH + 20]], {"eth_truncated": 3}),
        drop("drop_ip_truncated", "type 0x0800 with 19 and 0 bytes of IPv4: ip_truncated",
             [syn[:ETH + 19], syn[:ETH]], {"ip_truncated": 2}),
        drop("drop_ip_bad_version", "version 6 in an 0x0800 frame (checksum right): ip_bad_version",
             [edit(syn, ETH, b"\x65")], {"ip_bad_version": 1}),
        drop("drop_ip_bad_ihl", "IHL 4, and IHL 15 past the end of the frame: ip_bad_ihl",
             [edit(syn, ETH, b"\x44"), edit(syn, ETH, b"\x4f", fix_csum=False)],
             {"ip_bad_ihl": 2}),
        drop("drop_ip_bad_len",
             "total length 19 (< IHL*4), one byte past the frame, and 1500: ip_bad_len",
             [set_ip_total_len(syn, 19), set_ip_total_len(syn, len(syn_ip) + 1),
              set_ip_total_len(syn, 1500)], {"ip_bad_len": 3}),
        drop("drop_ip_bad_checksum", "TCP SYN to VIP:80 with a wrong IP header checksum",
             [edit(syn, ETH + 10, bytes(x ^ 0x01 for x in syn_ip[10:12]), fix_csum=False)],
             {"ip_bad_checksum": 1}),
        # TCP and UDP fragments are reassembled (frag_cases); the others are not forwarded.
        drop("drop_ip_fragment", "ICMP first fragment (MF) and a GRE later fragment (offset "
             "185): ip_fragment",
             [from_router(client_ip(flags="MF", id=7) / ICMP(type=8) / Raw(b"a" * 16)),
              from_router(client_ip(frag=185, id=7, proto=47) / Raw(b"b" * 16))],
             {"ip_fragment": 2}),
        drop("drop_l4_truncated", "TCP header of 10 bytes, UDP of 4, ICMP of 4: l4_truncated",
             [ip_raw(6, syn_ip[20:30]), ip_raw(17, struct.pack("!HH", 46701, 53)),
              ip_raw(1, b"\x08\x00\xf7\xff"), ip_raw(1, b"\x08\x00\xf7\xff", dst=WAN_ADDR)],
             {"l4_truncated": 4}),
        drop("drop_tcp_bad_doff", "TCP data offset 4, and 15 past the packet: tcp_bad_doff",
             [ip_raw(6, syn_ip[20:32] + b"\x40" + syn_ip[33:40]),
              ip_raw(6, syn_ip[20:32] + b"\xf0" + syn_ip[33:40])],
             {"tcp_bad_doff": 2}),
        drop("drop_udp_bad_len", "UDP length field 4, and UDP length past the IP payload",
             [ip_raw(17, struct.pack("!HHHH", 46801, 53, 4, 0) + b"abcd"),
              ip_raw(17, struct.pack("!HHHH", 46802, 53, 13, 0) + b"abcd")],
             {"udp_bad_len": 2}),
    ]
    return cases


# --- issue 3: helpers for NAT, TUN and ICMP errors ------------------------------------------------
def _ihl(frame: bytes) -> int:
    return (frame[ETH] & 0x0F) * 4


def _ip_total(frame: bytes) -> int:
    return struct.unpack("!H", frame[ETH + 2:ETH + 4])[0]


def _check_only(before: bytes, after: bytes, allowed: set[int], what: str) -> None:
    """Self-check of a table: `after` differs from `before` only at `allowed` offsets."""
    assert len(before) == len(after), (what, len(before), len(after))
    bad = [i for i in range(len(before)) if before[i] != after[i] and i not in allowed]
    assert not bad, f"{what}: rewrite touched offsets {bad}"


def _l4(pkt):
    return pkt[TCP] if TCP in pkt else pkt[UDP]


def _recompute(pkt) -> None:
    """Let scapy compute the IP and L4 checksums from scratch (a UDP checksum of 0 stays 0)."""
    del pkt[IP].chksum
    l4 = _l4(pkt)
    if not (isinstance(l4, UDP) and l4.chksum == 0):
        del l4.chksum


def _rewrite_offsets(frame: bytes, ip_fields: tuple, l4_fields: tuple) -> set[int]:
    ihl = _ihl(frame)
    ip_off = {"ttl": [8], "csum": [10, 11], "src": [12, 13, 14, 15], "dst": [16, 17, 18, 19]}
    proto = frame[ETH + 9]
    l4_off = {"sport": [0, 1], "dport": [2, 3], "csum": [16, 17] if proto == 6 else [6, 7]}
    allowed = set(range(12))
    for f in ip_fields + ("csum",):
        allowed |= {ETH + i for i in ip_off[f]}
    for f in l4_fields + ("csum",):
        allowed |= {ETH + ihl + i for i in l4_off[f]}
    return allowed


def nat_in(frame: bytes, rs: str, rport: int | None) -> bytes:
    """NAT request out on lan: dst -> RIP, dport -> rport (None or 0: unchanged), checksums."""
    e = Ether(frame)
    e[IP].dst = RS[rs][0]
    if rport:
        _l4(e).dport = rport
    _recompute(e)
    out = b(Ether(dst=RS[rs][1], src=LAN_MAC) / e[IP])
    _check_only(frame, out, _rewrite_offsets(frame, ("dst",), ("dport",)), "nat_in")
    return out


def nat_out(frame: bytes, vip: str, vport: int, next_hop_mac: str = ROUTER_MAC) -> bytes:
    """NAT reply out on wan: src -> VIP, sport -> vport, TTL - 1, to the next hop's MAC."""
    e = Ether(frame)
    e[IP].src = vip
    e[IP].ttl -= 1
    _l4(e).sport = vport
    _recompute(e)
    out = b(Ether(dst=next_hop_mac, src=WAN_MAC) / e[IP])
    _check_only(frame, out, _rewrite_offsets(frame, ("src", "ttl"), ("sport",)), "nat_out")
    return out


def from_rs(rs: str, l3) -> bytes:
    return b(Ether(src=RS[rs][1], dst=LAN_MAC) / l3)


def rs_tcp(rs: str, cport: int, flags: str, rport: int = 8080, seq: int = 5000, ack: int = 1001,
           payload: bytes = b"", ttl: int = 64, ip_id: int = 0x100, client: str = CLIENT,
           **tcp_kw) -> bytes:
    pkt = IP(src=RS[rs][0], dst=client, ttl=ttl, id=ip_id, flags="DF") / TCP(
        sport=rport, dport=cport, flags=flags, seq=seq, ack=ack, window=65160, **tcp_kw)
    if payload:
        pkt = pkt / Raw(payload)
    return from_rs(rs, pkt)


def rs_udp(rs: str, cport: int, payload: bytes, rport: int = 5353, ip_id: int = 0x200,
           chksum: int | None = None) -> bytes:
    u = UDP(sport=rport, dport=cport) if chksum is None else UDP(sport=rport, dport=cport,
                                                                   chksum=chksum)
    return from_rs(rs, IP(src=RS[rs][0], dst=CLIENT, ttl=64, id=ip_id) / u / Raw(payload))


def tcp_sized(sport: int, total: int, df: bool, dst: str = VIP_TUN, ip_id: int = 1,
              seq: int = 1001, ip_kw=None) -> bytes:
    """A client data segment (PA) whose IP total length is `total` (IP options count)."""
    ip_kw = dict(ip_kw or {})
    ip_kw["flags"] = "DF" if df else 0
    probe = tcp(sport, "PA", seq=seq, ack=1, dst=dst, ip_id=ip_id, ip_kw=ip_kw)
    pad = total - (len(probe) - ETH)
    assert pad > 0
    return tcp(sport, "PA", seq=seq, ack=1, dst=dst, ip_id=ip_id, ip_kw=ip_kw,
               payload=bytes((i * 7) & 0xFF for i in range(pad)))


def tun_outer(frame: bytes, rs: str, outer_id: int | None = None):
    """The outer IPv4 packet TUN sends for a received frame (the inner packet as received).
    A DF inner makes an atomic outer packet, which keeps the inner's IP ID; a fragmentable one
    gets the worker's own ID (RFC 6864): `outer_id`, 0, 1, 2, ... per worker from its start."""
    inner = frame[ETH:ETH + _ip_total(frame)]
    iip = IP(inner)
    if iip.flags.DF:
        assert outer_id is None, "a DF inner keeps its ID"
        outer_id = iip.id
    assert outer_id is not None, "a non-DF inner needs the worker's next outer ID"
    return IP(version=4, ihl=5, tos=iip.tos, id=outer_id, flags="DF" if iip.flags.DF else 0,
              frag=0, ttl=64, proto=4, src=LAN_ADDR, dst=RS[rs][0]) / Raw(inner)


def tun_out(frame: bytes, rs: str, outer_id: int | None = None) -> bytes:
    return b(Ether(dst=RS[rs][1], src=LAN_MAC, type=0x0800) / tun_outer(frame, rs, outer_id))


def tun_frags(frame: bytes, rs: str, mtu: int, outer_id: int | None = None) -> list[bytes]:
    """The encapsulated packet fragmented to `mtu`, checked against the layout rte_ip_frag makes."""
    outer = tun_outer(frame, rs, outer_id)
    size = (mtu - 20) // 8 * 8
    frags = fragment(outer, fragsize=size)
    data = bytes(outer)[20:]
    off = 0
    for i, f in enumerate(frags):
        raw = bytes(f)
        last = i == len(frags) - 1
        n = len(raw) - 20
        assert n == (len(data) - off if last else size), (i, n)
        assert raw[20:] == data[off:off + n]
        flags_frag = struct.unpack("!H", raw[6:8])[0]
        assert flags_frag == ((0 if last else 0x2000) | off // 8), (i, hex(flags_frag))
        assert raw[4:6] == bytes(outer)[4:6] and len(raw) <= mtu
        assert scapy_checksum(raw[:20]) == 0  # header checksum right
        off += n
    assert off == len(data) and len(frags) >= 2
    return [b(Ether(dst=RS[rs][1], src=LAN_MAC, type=0x0800) / f) for f in frags]


def frag_needed(frame: bytes, mtu: int, src: str = WAN_ADDR, port: str = "wan") -> bytes:
    """ICMP fragmentation-needed from `src` for a frame received on `port`, back out of it to the
    sender's MAC, quoting the packet as received."""
    e = Ether(frame)
    quote = frame[ETH:ETH + _ihl(frame) + 8]
    return b(Ether(dst=e.src, src=PORT_MAC[port])
             / IP(tos=0, id=0, flags=0, frag=0, ttl=64, src=src, dst=e[IP].src)
             / ICMP(type=3, code=4, nexthopmtu=mtu) / Raw(quote))


def icmp_fields(icmp_type: int, code: int, mtu: int = 0, ptr: int = 0):
    if icmp_type == 3 and code == 4:
        return ICMP(type=3, code=4, nexthopmtu=mtu)
    if icmp_type == 12:
        return ICMP(type=12, code=code, ptr=ptr)
    return ICMP(type=icmp_type, code=code)


def quoted(pkt, n: int | None = 8) -> bytes:
    """An ICMP error's quote of `pkt`: its IP header and the first n bytes of its payload."""
    raw = bytes(pkt)
    ihl = (raw[0] & 0x0F) * 4
    return raw if n is None else raw[:ihl + n]


def translate_quote(quote: bytes, src: str | None = None, dst: str | None = None,
                    sport: int | None = None, dport: int | None = None) -> bytes:
    """The quoted packet with addresses/ports replaced and its IP header checksum recomputed
    (by scapy's checksum); the quoted L4 checksum is left as it is."""
    q = bytearray(quote)
    ihl = (q[0] & 0x0F) * 4
    if src:
        q[12:16] = bytes(int(x) for x in src.split("."))
    if dst:
        q[16:20] = bytes(int(x) for x in dst.split("."))
    if sport is not None:
        q[ihl:ihl + 2] = struct.pack("!H", sport)
    if dport is not None:
        q[ihl + 2:ihl + 4] = struct.pack("!H", dport)
    q[10:12] = b"\0\0"
    q[10:12] = struct.pack("!H", scapy_checksum(bytes(q[:ihl])))
    return bytes(q)


def icmp_error(src: str, dst: str, icmp_type: int, code: int, quote: bytes, ttl: int = 64,
               ip_id: int = 0x300, **kw):
    return IP(src=src, dst=dst, ttl=ttl, id=ip_id) / icmp_fields(icmp_type, code, **kw) / Raw(
        quote)


# --- NAT ------------------------------------------------------------------------------------------
# Requests (client -> VIP:vport on wan) leave lan to the real server's MAC with IP dst = RIP and
# L4 dport = rport (unchanged for port 0); TTL, id, TOS, flags unchanged; checksums recomputed
# (a UDP checksum of 0 stays 0). Replies (RIP:rport -> client on lan, matching a connection) get
# IP src = VIP, sport = vport, TTL - 1, and are routed (longest prefix) out of wan; TTL <= 1:
# ttl_exceeded. From a real server, matching no connection: no_conn, never forwarded.
def nat_cases() -> list[Case]:
    cases = []
    get = b"GET / HTTP/1.0\r\n\r\n"
    resp = b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nrs1\n"
    sp = 40000
    req = [tcp(sp, "S", dst=VIP_NAT, ip_id=1, options=[("MSS", 1460), ("SAckOK", b"")]),
           tcp(sp, "A", seq=1001, ack=5001, dst=VIP_NAT, ip_id=2),
           tcp(sp, "PA", seq=1001, ack=5001, dst=VIP_NAT, ip_id=3, payload=get,
               ip_kw={"tos": 0x10})]
    rep = [rs_tcp("rs1", sp, "SA", seq=5000, ack=1001, ip_id=0x101, options=[("MSS", 1460)]),
           rs_tcp("rs1", sp, "PA", seq=5001, ack=1001 + len(get), ip_id=0x102, payload=resp),
           rs_tcp("rs1", sp, "FA", seq=5001 + len(resp), ack=1001 + len(get), ip_id=0x103)]
    cases.append(Case(
        "nat_tcp_flow", "NAT: a TCP connection's requests to rs1:8080 and its replies back "
        "from VIP:80 via the router, TTL-1 on replies, checksums recomputed",
        [NAT_WEB], "", {"wan": req, "lan": rep},
        {"lan": [nat_in(f, "rs1", 8080) for f in req],
         "wan": [nat_out(f, VIP_NAT, 80) for f in rep]}))

    # Port mapping per real server, port 0 keeping the client's port, and a reply from the right
    # server but the wrong port (no connection).
    pm = vs("nat_pm", 80, address=VIP_NAT, forwarding="nat", rports=(8080, 8081, 0))
    syns = [tcp(40100 + i, "S", dst=VIP_NAT, ip_id=10 + i) for i in range(3)]
    reps = [rs_tcp("rs1", 40100, "SA", rport=8080, ip_id=0x110),
            rs_tcp("rs2", 40101, "SA", rport=8081, ip_id=0x111),
            rs_tcp("rs3", 40102, "SA", rport=80, ip_id=0x112)]
    wrong = rs_tcp("rs2", 40101, "SA", rport=8080, ip_id=0x113)
    cases.append(Case(
        "nat_port_map", "NAT rr with real server ports 8080, 8081 and 0 (client's port): "
        "requests and replies mapped; a reply from rs2:8080 (conn is rs2:8081): no_conn",
        [pm], "", {"wan": syns, "lan": reps + [wrong]},
        {"lan": [nat_in(syns[0], "rs1", 8080), nat_in(syns[1], "rs2", 8081),
                 nat_in(syns[2], "rs3", None)],
         "wan": [nat_out(f, VIP_NAT, 80) for f in reps]},
        drops={"no_conn": 1}))

    # UDP, with a zero checksum (stays zero) each way.
    u1 = udp(50001, b"query-one", dport=53, dst=VIP_NAT, ip_id=20)
    u2 = from_router(client_ip(VIP_NAT, id=21) / UDP(sport=50002, dport=53, chksum=0)
                     / Raw(b"query-two"))
    u3 = udp(50001, b"query-three", dport=53, dst=VIP_NAT, ip_id=22)
    r1 = rs_udp("rs1", 50001, b"answer-one", ip_id=0x120)
    r2 = rs_udp("rs2", 50002, b"answer-two", ip_id=0x121, chksum=0)
    assert Ether(u2)[UDP].chksum == 0 and Ether(r2)[UDP].chksum == 0
    cases.append(Case(
        "nat_udp", "NAT udp VIP:53 -> :5353: two flows rr to rs1, rs2 (the second with UDP "
        "checksum 0, kept 0 both ways), a later datagram sticks, replies mapped back",
        [NAT_DNS], "", {"wan": [u1, u2, u3], "lan": [r1, r2]},
        {"lan": [nat_in(u1, "rs1", 5353), nat_in(u2, "rs2", 5353), nat_in(u3, "rs1", 5353)],
         "wan": [nat_out(r1, VIP_NAT, 53), nat_out(r2, VIP_NAT, 53)]}))

    syn = tcp(40200, "S", dst=VIP_NAT, ip_id=30)
    ttl2 = rs_tcp("rs1", 40200, "SA", ttl=2, ip_id=0x130)
    cases.append(Case(
        "nat_reply_ttl", "NAT replies with TTL 1 and 0 are dropped (ttl_exceeded); TTL 2 "
        "leaves with TTL 1",
        [NAT_WEB], "", {"wan": [syn], "lan": [rs_tcp("rs1", 40200, "SA", ttl=1, ip_id=0x131),
                                              rs_tcp("rs1", 40200, "SA", ttl=0, ip_id=0x132),
                                              ttl2]},
        {"lan": [nat_in(syn, "rs1", 8080)], "wan": [nat_out(ttl2, VIP_NAT, 80)]},
        drops={"ttl_exceeded": 2}))

    cases.append(Case(
        "nat_no_conn_reply", "NAT: TCP SYN+ACK, data and UDP from real servers matching no "
        "connection are dropped (no_conn), never leaked with the server's address",
        [NAT_WEB, NAT_DNS], "lan",
        [rs_tcp("rs1", 40300, "SA"), rs_tcp("rs2", 40301, "PA", payload=b"leak"),
         rs_udp("rs3", 50300, b"leak")],
        {}, drops={"no_conn": 3}))

    # Longest-prefix match: connected /25 direct, a static /26 via a second router, default.
    c_near = b(Ether(src=NEAR_MAC, dst=WAN_MAC) / IP(src=NEAR, dst=VIP_NAT, ttl=64, id=40,
                                                       flags="DF")
               / TCP(sport=40400, dport=80, flags="S", seq=1000, window=64240))
    c_26 = tcp(40401, "S", dst=VIP_NAT, ip_id=41)  # CLIENT .130 is in 203.0.113.128/26
    far = "203.0.113.200"
    c_def = b(Ether(src=ROUTER_MAC, dst=WAN_MAC) / IP(src=far, dst=VIP_NAT, ttl=63, id=42,
                                                        flags="DF")
              / TCP(sport=40402, dport=80, flags="S", seq=1000, window=64240))
    r_near = rs_tcp("rs1", 40400, "SA", client=NEAR, ip_id=0x140)
    r_26 = rs_tcp("rs2", 40401, "SA", ip_id=0x141)
    r_def = rs_tcp("rs3", 40402, "SA", client=far, ip_id=0x142)
    cases.append(Case(
        "nat_route_lpm", "NAT replies routed by longest prefix: 203.0.113.50 on wan's /25 "
        "directly, .130 by 203.0.113.128/26 via 203.0.113.2, .200 by the default route",
        [NAT_WEB], "", {"wan": [c_near, c_26, c_def], "lan": [r_near, r_26, r_def]},
        {"lan": [nat_in(c_near, "rs1", 8080), nat_in(c_26, "rs2", 8080),
                 nat_in(c_def, "rs3", 8080)],
         "wan": [nat_out(r_near, VIP_NAT, 80, NEAR_MAC), nat_out(r_26, VIP_NAT, 80, ROUTER2_MAC),
                 nat_out(r_def, VIP_NAT, 80, ROUTER_MAC)]},
        routes=[{"prefix": "0.0.0.0/0", "via": ROUTER},
                {"prefix": "203.0.113.128/26", "via": ROUTER2}],
        neighbors=[{"address": ROUTER2, "mac": ROUTER2_MAC, "port": "wan"},
                   {"address": NEAR, "mac": NEAR_MAC, "port": "wan"}]))

    syn = tcp(40500, "S", dst=VIP_NAT, ip_id=50)
    cases.append(Case(
        "nat_no_route", "NAT without a default route: the request goes out, the reply to "
        "203.0.113.130 (outside every connected subnet) is dropped: no_route",
        [NAT_WEB], "", {"wan": [syn], "lan": [rs_tcp("rs1", 40500, "SA", ip_id=0x150)]},
        {"lan": [nat_in(syn, "rs1", 8080)]}, drops={"no_route": 1}, routes=[]))

    to_nat, to_tun = ping(VIP_NAT, seq=3), ping(VIP_TUN, seq=4)
    cases.append(Case(
        "ping_vip_nat_tun", "ICMP echo to the NAT and TUN VIPs answered by the appliance",
        [NAT_WEB, TUN_WEB], "wan", [to_nat, to_tun],
        {"wan": [echo_reply(to_nat, "wan"), echo_reply(to_tun, "wan")]}))

    # Two workers: owner = hash(client IP, client port) % 2. Each RX queue holds the requests
    # of its flows on wan and their replies on lan: one worker receives both, in order, and
    # hands the flows it does not own to the owner over the one ring between them (FIFO), so
    # every reply finds its connection. (Requests on one worker and replies on the other would
    # race: the two workers run concurrently.) One real server: which worker's rr cursor
    # schedules a flow does not matter.
    one = vs("nat_one", 80, address=VIP_NAT, forwarding="nat", rports=(8080,),
             weights=(1,), servers=["rs1"])
    q_req, q_rep = [[], []], [[], []]
    for q in range(2):
        for i in range(16):
            cp = 47000 + 100 * q + i
            q_req[q].append(tcp(cp, "S", dst=VIP_NAT, ip_id=0x700 + 32 * q + i))
            q_rep[q].append(rs_tcp("rs1", cp, "SA", ip_id=0x800 + 32 * q + i))
    all_req, all_rep = q_req[0] + q_req[1], q_rep[0] + q_rep[1]
    cases.append(Case(
        "nat_two_workers", "NAT on 2 workers: 32 flows over both RX queues; every request "
        "reaches rs1 and every reply the client, flows owned by the other worker redirected",
        [one], "", {"wan": q_req, "lan": q_rep},
        {"lan": [nat_in(f, "rs1", 8080) for f in all_req],
         "wan": [nat_out(f, VIP_NAT, 80) for f in all_rep]},
        order={"wan": "set", "lan": "set"}, workers=2, min_counters={"redirected": 1}))
    return cases


# --- TUN ------------------------------------------------------------------------------------------
# Out on lan to the real server's MAC: outer IPv4 (IHL 5, TOS of the inner, DF copied, TTL 64,
# proto 4, src = lan's address, dst = RIP; the IP ID is the inner's for a DF inner and the
# worker's own, 0, 1, 2, ..., for the others: RFC 6864) + the inner packet exactly as received.
# With the lan MTU at 1400: an inner DF packet over 1380 bytes gets ICMP fragmentation-needed
# (MTU 1380) back out of wan and is counted too_big; a non-DF one is fragmented (data 1376 per
# fragment).
def tun_cases() -> list[Case]:
    cases = []
    flow = [
        tcp(40600, "S", dst=VIP_TUN, ip_id=1, options=[("MSS", 1460)]),
        tcp(40600, "A", seq=1001, ack=1, dst=VIP_TUN, ip_id=2),
        tcp(40600, "PA", seq=1001, ack=1, dst=VIP_TUN, ip_id=3, payload=b"GET / HTTP/1.0\r\n\r\n",
            ip_kw={"tos": 0xB8}),
        tcp(40601, "S", dst=VIP_TUN, ip_id=4, ip_kw={"flags": 0}),  # no DF: none outside
        tcp(40602, "S", dst=VIP_TUN, ip_id=5, ip_kw={"options": [IPOption_Router_Alert()]}),
    ]
    cases.append(Case(
        "tun_tcp_flow", "TUN: IPIP to rs1 (3 packets of one flow, TOS 0xb8 copied), rs2 (no DF: "
        "outer without DF) and rs3 (inner IP options kept), outer src 198.51.100.1",
        [TUN_WEB], "wan", flow,
        {"lan": [tun_out(flow[0], "rs1"), tun_out(flow[1], "rs1"), tun_out(flow[2], "rs1"),
                 tun_out(flow[3], "rs2", outer_id=0), tun_out(flow[4], "rs3")]}))

    dns = [udp(50600, b"tun-query", dport=53, dst=VIP_TUN, ip_id=9),
           udp(50601, b"tun-query-2", dport=53, dst=VIP_TUN, ip_id=10)]
    cases.append(Case(
        "tun_udp", "TUN udp VIP:53: datagrams encapsulated to rs1, rs2 (inner TTL unchanged)",
        [TUN_DNS], "wan", dns, {"lan": [tun_out(dns[0], "rs1", outer_id=0),
                                        tun_out(dns[1], "rs2", outer_id=1)]}))

    syn = tcp(40700, "S", dst=VIP_TUN, ip_id=20)
    fits = tcp_sized(40700, 1380, df=True, ip_id=21)
    over = tcp_sized(40700, 1381, df=True, ip_id=22, seq=1001 + 1340)
    full = tcp_sized(40700, 1500, df=True, ip_id=23, seq=1001 + 2681)
    opts = tcp_sized(40700, 1400, df=True, ip_id=24, seq=1001,
                     ip_kw={"options": [IPOption_NOP()] * 4})
    assert _ip_total(fits) == 1380 and _ip_total(over) == 1381 and _ip_total(opts) == 1400
    assert _ihl(opts) == 24
    cases.append(Case(
        "tun_too_big", "TUN, lan MTU 1400: a DF inner of 1380 bytes fits; 1381, 1500 and 1400 "
        "with IP options get ICMP frag-needed (MTU 1380) out of wan: too_big",
        [TUN_WEB], "wan", [syn, fits, over, full, opts],
        {"lan": [tun_out(syn, "rs1"), tun_out(fits, "rs1")],
         "wan": [frag_needed(over, 1380), frag_needed(full, 1380), frag_needed(opts, 1380)]},
        drops={"too_big": 3}, mtu={"lan": 1400}))

    syn = tcp(40800, "S", dst=VIP_TUN, ip_id=30, ip_kw={"flags": 0})
    small = tcp_sized(40800, 1380, df=False, ip_id=31)
    f1 = tcp_sized(40800, 1381, df=False, ip_id=32, seq=1001 + 1340)
    f2 = tcp_sized(40800, 1500, df=False, ip_id=33, seq=1001 + 2681)
    cases.append(Case(
        "tun_fragment", "TUN, lan MTU 1400: non-DF inners of 1381 and 1500 bytes are sent as "
        "fragments of the outer packet (1376 data bytes, then the rest); 1380 fits whole",
        [TUN_WEB], "wan", [syn, small, f1, f2],
        {"lan": [tun_out(syn, "rs1", outer_id=0), tun_out(small, "rs1", outer_id=1)]
         + tun_frags(f1, "rs1", 1400, outer_id=2) + tun_frags(f2, "rs1", 1400, outer_id=3)},
        mtu={"lan": 1400}))
    return cases


# --- ICMP errors about connections ----------------------------------------------------------------
# Types 3, 11, 12. Server side (on lan, from a real server about a request it got): NAT forwards
# it like a reply (outer src -> VIP, TTL - 1, routed), the quote's dst -> VIP and dport -> vport,
# quote's IP checksum recomputed, quote's L4 checksum unchanged, ICMP checksum recomputed. Client
# side (on wan to the VIP about a reply): NAT forwards it like a request (outer dst -> RIP, TTL
# unchanged), quote's src -> RIP, sport -> rport; DR forwards it unchanged but for the MACs.
# Matching no connection: icmp_no_conn.
def icmp_cases() -> list[Case]:
    cases = []

    def nat_err_out(err_frame: bytes, quote_new: bytes) -> bytes:
        e = Ether(err_frame)
        ip, ic = e[IP], e[ICMP]
        out = IP(src=VIP_NAT, dst=ip.dst, ttl=ip.ttl - 1, id=ip.id, tos=ip.tos, flags=ip.flags)
        return b(Ether(dst=ROUTER_MAC, src=WAN_MAC) / out
                 / icmp_fields(ic.type, ic.code, mtu=ic.nexthopmtu, ptr=ic.ptr) / Raw(quote_new))

    def nat_err_in(err_frame: bytes, rs: str, quote_new: bytes) -> bytes:
        e = Ether(err_frame)
        ip, ic = e[IP], e[ICMP]
        out = IP(src=ip.src, dst=RS[rs][0], ttl=ip.ttl, id=ip.id, tos=ip.tos, flags=ip.flags)
        return b(Ether(dst=RS[rs][1], src=LAN_MAC) / out
                 / icmp_fields(ic.type, ic.code, mtu=ic.nexthopmtu, ptr=ic.ptr) / Raw(quote_new))

    # (a) server side, NAT: UDP port unreachable (whole datagram quoted) and a TCP parameter
    # problem (IP header + 8 bytes quoted).
    u = udp(51000, b"dns-query", dport=53, dst=VIP_NAT, ip_id=60)
    s = tcp(41000, "S", dst=VIP_NAT, ip_id=61)
    u_at_rs = IP(nat_in(u, "rs1", 5353)[ETH:])  # what rs1 received
    s_at_rs = IP(nat_in(s, "rs1", 8080)[ETH:])
    q_u, q_s = quoted(u_at_rs, None), quoted(s_at_rs, 8)
    err_u = from_rs("rs1", icmp_error(RS["rs1"][0], CLIENT, 3, 3, q_u, ip_id=0x160))
    err_s = from_rs("rs1", icmp_error(RS["rs1"][0], CLIENT, 12, 0, q_s, ip_id=0x161, ptr=20))
    cases.append(Case(
        "nat_icmp_server_side", "NAT: rs1's port-unreachable (UDP) and parameter-problem (TCP) "
        "about requests go to the client from the VIP, quote translated back to VIP:vport",
        [NAT_WEB, NAT_DNS], "", {"wan": [u, s], "lan": [err_u, err_s]},
        {"lan": [nat_in(u, "rs1", 5353), nat_in(s, "rs1", 8080)],
         "wan": [nat_err_out(err_u, translate_quote(q_u, dst=VIP_NAT, dport=53)),
                 nat_err_out(err_s, translate_quote(q_s, dst=VIP_NAT, dport=80))]}))

    # (b) client side, NAT: the client's port unreachable about a UDP reply, the router's
    # fragmentation-needed about a TCP reply, and its time-exceeded about a UDP reply.
    u = udp(51100, b"dns-query", dport=53, dst=VIP_NAT, ip_id=70)
    s = tcp(41100, "S", dst=VIP_NAT, ip_id=71)
    u_reply = IP(src=VIP_NAT, dst=CLIENT, ttl=63, id=0x170) / UDP(sport=53, dport=51100) / Raw(
        b"dns-answer")
    s_reply = IP(src=VIP_NAT, dst=CLIENT, ttl=63, id=0x171, flags="DF") / TCP(
        sport=80, dport=41100, flags="PA", seq=5001, ack=1001) / Raw(b"x" * 1400)
    q1, q2, q3 = quoted(u_reply, None), quoted(s_reply, 8), quoted(u_reply, 8)
    e1 = from_router(icmp_error(CLIENT, VIP_NAT, 3, 3, q1, ttl=63, ip_id=0x180))
    e2 = from_router(icmp_error(ROUTER, VIP_NAT, 3, 4, q2, ip_id=0x181, mtu=1280))
    e3 = from_router(icmp_error(ROUTER, VIP_NAT, 11, 0, q3, ip_id=0x182))
    cases.append(Case(
        "nat_icmp_client_side", "NAT: port-unreachable, frag-needed (MTU 1280) and "
        "time-exceeded about replies go to rs1 with the quote translated to RIP:rport",
        [NAT_WEB, NAT_DNS], "wan", [u, s, e1, e2, e3],
        {"lan": [nat_in(u, "rs1", 5353), nat_in(s, "rs1", 8080),
                 nat_err_in(e1, "rs1", translate_quote(q1, src=RS["rs1"][0], sport=5353)),
                 nat_err_in(e2, "rs1", translate_quote(q2, src=RS["rs1"][0], sport=8080)),
                 nat_err_in(e3, "rs1", translate_quote(q3, src=RS["rs1"][0], sport=5353))]}))

    # (c) DR: forwarded unchanged but for the MACs.
    s = tcp(41200, "S", ip_id=80)
    dr_reply = IP(src=VIP, dst=CLIENT, ttl=64, id=0x190, flags="DF") / TCP(
        sport=80, dport=41200, flags="PA", seq=5001, ack=1001) / Raw(b"y" * 1400)
    e = from_router(icmp_error(ROUTER, VIP, 3, 4, quoted(dr_reply, 8), ip_id=0x191, mtu=1280))
    cases.append(Case(
        "dr_icmp_client_side", "DR: the router's frag-needed about a reply from VIP:80 goes to "
        "the connection's real server unchanged (MACs only)",
        [WEB], "wan", [s, e], {"lan": [dr_out(s, "rs1"), dr_out(e, "rs1")]}))

    # No connection.
    stray_nat = IP(src=VIP_NAT, dst=CLIENT, ttl=63) / UDP(sport=53, dport=59999) / Raw(b"z")
    stray_dr = IP(src=VIP, dst=CLIENT, ttl=64) / TCP(sport=80, dport=59998, flags="A")
    stray_rs = IP(src=CLIENT, dst=RS["rs2"][0], ttl=62) / UDP(sport=59997, dport=5353)
    cases.append(Case(
        "icmp_no_conn", "ICMP errors about no known connection (NAT and DR VIPs on wan, from a "
        "real server on lan) are dropped: icmp_no_conn",
        [WEB, NAT_WEB, NAT_DNS], "",
        {"wan": [from_router(icmp_error(CLIENT, VIP_NAT, 3, 3, quoted(stray_nat, None))),
                 from_router(icmp_error(ROUTER, VIP, 3, 4, quoted(stray_dr, 8), mtu=1280))],
         "lan": [from_rs("rs2", icmp_error(RS["rs2"][0], CLIENT, 3, 3, quoted(stray_rs, None)))]},
        {}, drops={"icmp_no_conn": 3}))
    return cases


# --- conn_reuse_mode=1 ----------------------------------------------------------------------------
# A SYN whose 5-tuple matches a connection in TIME_WAIT or CLOSE is a new connection, scheduled
# afresh; a SYN on an ESTABLISHED one is not. DR (input-only state table): SYN, ACK, RST reaches
# CLOSE; SYN, FIN reaches TIME_WAIT (SYN_RECV + FIN); SYN, ACK stays ESTABLISHED.
def reuse_cases() -> list[Case]:
    a, c, d = 41300, 41301, 41302
    seq = [
        (tcp(a, "S", ip_id=1), "rs1"),
        (tcp(a, "A", seq=1001, ack=1, ip_id=2), "rs1"),
        (tcp(a, "R", seq=1001, ip_id=3), "rs1"),  # CLOSE
        (tcp(a, "S", seq=9000, ip_id=4), "rs2"),  # rescheduled
        (tcp(c, "S", ip_id=5), "rs3"),
        (tcp(c, "F", seq=1001, ip_id=6), "rs3"),  # SYN_RECV + FIN: TIME_WAIT
        (tcp(c, "S", seq=9000, ip_id=7), "rs1"),  # rescheduled
        (tcp(d, "S", ip_id=8), "rs2"),
        (tcp(d, "A", seq=1001, ack=1, ip_id=9), "rs2"),  # ESTABLISHED
        (tcp(d, "S", seq=9000, ip_id=10), "rs2"),  # not rescheduled
        (tcp(41303, "S", ip_id=11), "rs3"),  # rr went on only for the rescheduled SYNs
    ]
    return [Case(
        "dr_conn_reuse", "DR rr, conn_reuse_mode=1: a SYN on a CLOSE (after RST) or TIME_WAIT "
        "connection goes to the next server; a SYN on an ESTABLISHED one stays",
        [WEB], "wan", [f for f, _ in seq], {"lan": [dr_out(f, r) for f, r in seq]})]


# --- duplicates inside one burst (issue 12) -------------------------------------------------------
# The burst path looks a whole burst up at once; a packet's duplicate in the same burst must see
# what the first copy did (a connection it created, one it ended and replaced), in every TCP state
# and for UDP. Each sequence below reaches a state and then repeats its last packet; all of a
# port's inputs are one burst. DR (input-only table): S -> SYN_RECV, A -> ESTABLISHED, F after
# ESTABLISHED -> FIN_WAIT, S F -> TIME_WAIT, R -> CLOSE; a pure SYN on TIME_WAIT or CLOSE is a new
# connection (rr moves on) and its duplicate follows the new one.
def dup_cases() -> list[Case]:
    dr_seq = [  # (sport, flags of each packet, servers each is sent to)
        (41800, "SS", ["rs1", "rs1"]),  # SYN_RECV, duplicate SYN
        (41801, "SAA", ["rs2"] * 3),  # ESTABLISHED, duplicate ACK
        (41802, "SAFF", ["rs3"] * 4),  # FIN_WAIT, duplicate FIN
        (41803, "SARR", ["rs1"] * 4),  # CLOSE, duplicate RST
        (41804, "SARSS", ["rs2"] * 3 + ["rs3", "rs3"]),  # CLOSE, duplicate reusing SYN
        (41805, "SFSS", ["rs1"] * 2 + ["rs2", "rs2"]),  # TIME_WAIT, duplicate reusing SYN
    ]
    flag_names = {"S": "S", "A": "A", "F": "FA", "R": "R"}
    frames, outs = [], []
    ip_id = 1
    for sport, flags, servers in dr_seq:
        for fl, rs in zip(flags, servers):
            f = tcp(sport, flag_names[fl], seq=1000 if fl == "S" else 1001,
                    ack=0 if fl in "SR" else 1, ip_id=ip_id)
            ip_id += 1
            frames.append(f)
            outs.append(dr_out(f, rs))
    u = [udp(51800, b"dup-query", ip_id=100), udp(51800, b"dup-query", ip_id=100)]
    cases = [Case(
        "dr_duplicates_in_one_burst", "DR rr: in one burst, each TCP state reached and its last "
        "packet repeated (SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE, and a reusing SYN on CLOSE and "
        "on TIME_WAIT), then a UDP datagram twice: duplicates follow their connection",
        [WEB, vs("dns", 53, protocol="udp")], "wan", frames + u,
        {"lan": outs + [dr_out(u[0], "rs1"), dr_out(u[1], "rs1")]})]

    # NAT sees both sides: the requests' burst on wan, then the replies' burst on lan, each with
    # duplicates. Client side: S -> SYN_RECV, S A -> ESTABLISHED, S A F -> CLOSE_WAIT, S A R ->
    # CLOSE (and a reusing SYN twice: to the next server), S F -> TIME_WAIT (reusing SYN twice).
    nat_seq = [
        (41900, "SS", ["rs1"] * 2),
        (41901, "SAA", ["rs2"] * 3),
        (41902, "SAFF", ["rs3"] * 4),
        (41903, "SARSS", ["rs1"] * 3 + ["rs2"] * 2),
        (41904, "SFSS", ["rs3"] * 2 + ["rs1"] * 2),
    ]
    reqs, req_out, reps, rep_out = [], [], [], []
    ip_id = 1
    for sport, flags, servers in nat_seq:
        for fl, rs in zip(flags, servers):
            f = tcp(sport, flag_names[fl], seq=1000 if fl == "S" else 1001,
                    ack=0 if fl in "SR" else 5001, dst=VIP_NAT, ip_id=ip_id)
            ip_id += 1
            reqs.append(f)
            req_out.append(nat_in(f, rs, 8080))
        # The server the connection ended up on answers twice (a retransmitted SYN-ACK).
        r = rs_tcp(servers[-1], sport, "SA", ip_id=0x300 + sport % 100)
        reps += [r, r]
        rep_out += [nat_out(r, VIP_NAT, 80)] * 2
    ur = [udp(51900, b"q", dst=VIP_NAT, ip_id=200)] * 2
    ua = [rs_udp("rs1", 51900, b"a", ip_id=0x400)] * 2
    cases.append(Case(
        "nat_duplicates_in_one_burst", "NAT rr: requests with each client-side TCP state's last "
        "packet repeated (incl. reusing SYNs on CLOSE and TIME_WAIT) in one burst, then every "
        "connection's server answering twice in one burst; UDP both ways twice",
        [NAT_WEB, NAT_DNS], "", {"wan": reqs + ur, "lan": reps + ua},
        {"lan": req_out + [nat_in(f, "rs1", 5353) for f in ur],
         "wan": rep_out + [nat_out(f, VIP_NAT, 53) for f in ua]}))
    return cases


# --- persistence and match services (issue 5) ---------------------------------------------------
# Persistence: IPVS templates keyed by the client address masked by the granularity (here /25, so
# the lab's ranges give distinct client networks: 203.0.113.128/25 and 198.51.100.128/25); rr moves
# on once per template. Match services (fwmark-style) take precedence over address:port services.
OTHER_NET_CLIENT = "198.51.100.200"  # another /25 than CLIENT's, reaching us via the router


def syn_from(src: str, sport: int, dport: int = 80, dst: str = VIP, ip_id: int = 1) -> bytes:
    return from_router(IP(src=src, dst=dst, ttl=63, id=ip_id, flags="DF")
                       / TCP(sport=sport, dport=dport, flags="S", seq=1000, window=64240))


def persist_match_cases() -> list[Case]:
    cases = []
    web = dict(vs("web_p", 80), persistence={"timeout": "60s", "granularity": "255.255.255.128"})
    seq = [(syn_from(CLIENT, 41500, ip_id=1), "rs1"),
           (syn_from("203.0.113.131", 41501, ip_id=2), "rs1"),  # same /25: same server
           (syn_from(OTHER_NET_CLIENT, 41502, ip_id=3), "rs2"),  # new network: rr's next
           (syn_from(CLIENT, 41503, ip_id=4), "rs1"),
           (syn_from("198.51.100.201", 41504, ip_id=5), "rs2")]
    cases.append(Case(
        "dr_persistent", "DR rr persistent 60 s, granularity /25: connections of one client "
        "network go to its first server whatever the client address and port",
        [web], "wan", [f for f, _ in seq], {"lan": [dr_out(f, r) for f, r in seq]}))

    # A match service for CLIENT's /25 on VIP:80 beside the address:port service VIP:80: the
    # match wins for its sources (IPVS looks fwmark services up first), the rest fall through.
    match = {"name": "marked", "match": {"destinations": [VIP], "ports": [80, 443],
                                          "sources": ["203.0.113.128/25"], "protocol": "tcp"},
             "scheduler": "rr", "forwarding": "dr",
             "real_servers": [{"address": RS["rs3"][0], "port": 0, "weight": 1}]}
    plain = vs("web_plain", 80, servers=["rs1"])
    seq = [(syn_from(CLIENT, 41600, ip_id=1), "rs3"),
           (syn_from(OTHER_NET_CLIENT, 41601, ip_id=2), "rs1"),
           (syn_from(CLIENT, 41602, dport=443, ip_id=3), "rs3")]
    no_svc = [syn_from(CLIENT, 41603, dport=81, ip_id=4),  # port not in the match
              syn_from(OTHER_NET_CLIENT, 41604, dport=443, ip_id=5)]  # source not in it
    cases.append(Case(
        "match_precedence", "a match service (sources 203.0.113.128/25, ports 80 443) and the "
        "address service VIP:80: matching packets go to the match's rs3, others to rs1; a port "
        "or source outside the match with no address service: no_service",
        [match, plain], "wan", [f for f, _ in seq] + no_svc,
        {"lan": [dr_out(f, r) for f, r in seq]}, drops={"no_service": 2}))

    # NAT match service, real server port 0: each connection keeps its destination port, and
    # replies come back from VIP:that port. Persistent with port 0 templates: one server for both.
    nat_match = {"name": "nat_marked",
                 "match": {"destinations": [VIP_NAT], "ports": [80, 443], "protocol": "tcp"},
                 "scheduler": "rr", "forwarding": "nat",
                 "persistence": {"timeout": "300s"},
                 "real_servers": [{"address": RS[n][0], "port": 0, "weight": 1}
                                  for n in ("rs1", "rs2")]}
    reqs = [tcp(41700, "S", dst=VIP_NAT, dport=80, ip_id=1),
            tcp(41701, "S", dst=VIP_NAT, dport=443, ip_id=2)]
    reps = [rs_tcp("rs1", 41700, "SA", rport=80, ip_id=0x130),
            rs_tcp("rs1", 41701, "SA", rport=443, ip_id=0x131)]
    cases.append(Case(
        "nat_match_port0_persistent", "NAT match service over ports 80 and 443, real servers "
        "with port 0, persistent: both connections of the client go to rs1 on their own port; "
        "replies leave from VIP_NAT:80 and :443",
        [nat_match], "", {"wan": reqs, "lan": reps},
        {"lan": [nat_in(f, "rs1", None) for f in reqs],
         "wan": [nat_out(reps[0], VIP_NAT, 80), nat_out(reps[1], VIP_NAT, 443)]}))
    return cases


# --- issue 12: the egress MTU for DR and NAT, and fragments ---------------------------------------
# A packet too big for its egress port (lan for requests, the routed port for NAT replies): with
# DF it is dropped (too_big) and answered with ICMP fragmentation-needed carrying that port's MTU,
# quoting the packet as received: from the VIP back to the client for DR and NAT requests (IPVS),
# from the port's own address back to the real server for NAT replies (the kernel's forwarding
# path, which checks the MTU before IPVS rewrites the reply). Without DF it leaves as fragments
# of (MTU - 20) // 8 * 8 data bytes, after the NAT rewrite.
# Fragments (TCP and UDP) are reassembled, the datagram handled as one packet, and cut again when
# it exceeds the egress MTU; a datagram that fits leaves whole. Fragments of other protocols:
# ip_fragment. Bad sets: frag_invalid; no room for a new datagram (256 per worker):
# frag_table_full; never completed: frag_timeout (packet_frag_test, with injected time).
DNS_DR = vs("dns", 53, protocol="udp")


def ip_split(frame: bytes, sizes: list[int], order: list[int] | None = None) -> list[bytes]:
    """The IP packet of `frame` (no IP options) as fragments with `sizes` data bytes each (the
    last takes the rest), each behind `frame`'s Ethernet header, in `order` (default: as cut)."""
    pkt = IP(frame[ETH:ETH + _ip_total(frame)])
    assert _ihl(frame) == 20 and not pkt.flags.DF and pkt.frag == 0
    data = bytes(pkt)[20:]
    cuts, off = [], 0
    for n in sizes:
        assert n % 8 == 0 and 0 < n and off + n < len(data)
        cuts.append((off, data[off:off + n]))
        off += n
    cuts.append((off, data[off:]))
    out = []
    for i, (o, chunk) in enumerate(cuts):
        last = i == len(cuts) - 1
        hdr = IP(version=4, ihl=5, tos=pkt.tos, id=pkt.id, flags=0 if last else "MF",
                 frag=o // 8, ttl=pkt.ttl, proto=pkt.proto, src=pkt.src, dst=pkt.dst)
        f = bytes(hdr / Raw(chunk))
        assert scapy_checksum(f[:20]) == 0 and len(f) == 20 + len(chunk)
        out.append(frame[:ETH] + f)
    return [out[i] for i in order] if order else out


def ip_fragments(frame: bytes, mtu: int) -> list[bytes]:
    """What rte_ipv4_fragment_packet makes of `frame` for `mtu` (equal pieces of (mtu - 20) // 8
    * 8 data bytes), cross-checked against scapy's own fragment()."""
    size = (mtu - 20) // 8 * 8
    n = (_ip_total(frame) - 20 - 1) // size
    out = ip_split(frame, [size] * n)
    ref = fragment(IP(frame[ETH:ETH + _ip_total(frame)]), fragsize=size)
    assert [o[ETH:] for o in out] == [bytes(r) for r in ref]
    assert all(len(o) - ETH <= mtu for o in out) and len(out) >= 2
    return out


def udp_sized(sport: int, total: int, dport: int = 53, dst: str = VIP, ip_id: int = 1) -> bytes:
    """A client UDP datagram (no DF) of IP total length `total`."""
    return udp(sport, bytes((i * 13 + 5) & 0xFF for i in range(total - 28)), dport=dport,
               dst=dst, ip_id=ip_id)


def pad60(frame: bytes) -> bytes:
    return frame + bytes(max(0, 60 - len(frame)))  # Ethernet padding, as NICs add


def mtu_cases() -> list[Case]:
    cases = []
    syn = tcp(47001, "S", ip_id=1)
    fits = tcp_sized(47001, 1400, df=True, dst=VIP, ip_id=2)
    over = tcp_sized(47001, 1401, df=True, dst=VIP, ip_id=3, seq=1001 + 1360)
    nodf = tcp_sized(47001, 1500, df=False, dst=VIP, ip_id=4, seq=1001 + 1360)
    cases.append(Case(
        "dr_too_big", "DR, lan MTU 1400: DF 1400 fits; DF 1401 gets frag-needed (MTU 1400) from "
        "the VIP: too_big; non-DF 1500 leaves as fragments of 1376 data bytes",
        [WEB], "wan", [syn, fits, over, nodf],
        {"lan": [dr_out(syn, "rs1"), dr_out(fits, "rs1")] + ip_fragments(dr_out(nodf, "rs1"), 1400),
         "wan": [frag_needed(over, 1400, src=VIP)]},
        drops={"too_big": 1}, mtu={"lan": 1400}))

    syn = tcp(47101, "S", dst=VIP_NAT, ip_id=1)
    fits = tcp_sized(47101, 1400, df=True, dst=VIP_NAT, ip_id=2)
    over = tcp_sized(47101, 1401, df=True, dst=VIP_NAT, ip_id=3, seq=1001 + 1360)
    nodf = tcp_sized(47101, 1500, df=False, dst=VIP_NAT, ip_id=4, seq=1001 + 1360)
    cases.append(Case(
        "nat_too_big", "NAT, lan MTU 1400: DF 1400 fits; DF 1401 gets frag-needed (MTU 1400) from "
        "the VIP quoting VIP:80: too_big; non-DF 1500 is rewritten, then fragmented (1376)",
        [NAT_WEB], "wan", [syn, fits, over, nodf],
        {"lan": [nat_in(syn, "rs1", 8080), nat_in(fits, "rs1", 8080)]
         + ip_fragments(nat_in(nodf, "rs1", 8080), 1400),
         "wan": [frag_needed(over, 1400, src=VIP_NAT)]},
        drops={"too_big": 1}, mtu={"lan": 1400}))

    req = [tcp(47201, "S", dst=VIP_NAT, ip_id=1), udp(47202, b"q", dst=VIP_NAT, ip_id=2)]
    small = rs_tcp("rs1", 47201, "SA", ip_id=0x101)
    big_df = rs_tcp("rs1", 47201, "PA", seq=5001, ip_id=0x102, payload=bytes(1360))
    big = rs_udp("rs1", 47202, bytes((i * 3) & 0xFF for i in range(1372)), ip_id=0x103)
    assert _ip_total(big_df) == 1400 and _ip_total(big) == 1400
    cases.append(Case(
        "nat_reply_too_big", "NAT, wan MTU 1280: a DF reply of 1400 bytes gets frag-needed "
        "(MTU 1280) from lan's address back to rs1: too_big; a non-DF one is rewritten and "
        "leaves wan as fragments of 1256 data bytes",
        [NAT_WEB, NAT_DNS], "", {"wan": req, "lan": [small, big_df, big]},
        {"lan": [nat_in(req[0], "rs1", 8080), nat_in(req[1], "rs1", 5353),
                 frag_needed(big_df, 1280, src=LAN_ADDR, port="lan")],
         "wan": [nat_out(small, VIP_NAT, 80)] + ip_fragments(nat_out(big, VIP_NAT, 53), 1280)},
        drops={"too_big": 1}, mtu={"wan": 1280}))
    return cases


def frag_cases() -> list[Case]:
    cases = []
    d1 = udp_sized(48001, 2028, ip_id=0x501)  # 2 pieces in, 2 out (lan MTU 1500)
    d2 = udp_sized(48002, 1200, ip_id=0x502)  # 3 pieces out of order, leaves whole
    d3 = udp_sized(48003, 628, ip_id=0x503)  # first piece only the UDP header, padded
    inputs = (ip_split(d1, [1480]) + ip_split(d2, [400, 400], order=[2, 0, 1])
              + [pad60(f) for f in ip_split(d3, [8])])
    cases.append(Case(
        "frag_dr_udp", "DR udp VIP:53: datagrams of 2028 bytes (2 fragments), 1200 (3, out of "
        "order), 628 (a padded 8-byte first fragment) are reassembled and go to rs1, rs2, rs3; "
        "2028 leaves as 2 fragments, the others whole",
        [WEB, DNS_DR], "wan", inputs,
        {"lan": ip_fragments(dr_out(d1, "rs1"), 1500) + [dr_out(d2, "rs2"), dr_out(d3, "rs3")]},
        min_counters={"reassembled": 3, "frags_in": 7, "fragments": 2}))

    q = udp_sized(48101, 2028, dst=VIP_NAT, ip_id=0x601)
    rep = rs_udp("rs1", 48101, bytes((i * 5) & 0xFF for i in range(2500)), ip_id=0x602)
    syn = tcp(48102, "S", dst=VIP_NAT, ip_id=0x603, ip_kw={"flags": 0}, payload=bytes(120))
    cases.append(Case(
        "frag_nat", "NAT: a 2028-byte query in 2 fragments (last first) is rewritten to rs1:5353 "
        "and cut again for lan; rs1's 2528-byte answer in 2 fragments goes out of wan from "
        "VIP:53 in 2; a SYN whose first fragment holds 8 bytes of TCP header is rewritten whole",
        [NAT_DNS, NAT_WEB], "",
        {"wan": ip_split(q, [1480], order=[1, 0]) + ip_split(syn, [8]),
         "lan": ip_split(rep, [1480])},
        {"lan": ip_fragments(nat_in(q, "rs1", 5353), 1500) + [nat_in(syn, "rs1", 8080)],
         "wan": ip_fragments(nat_out(rep, VIP_NAT, 53), 1500)},
        min_counters={"reassembled": 3}))

    t1 = udp_sized(48201, 2028, dst=VIP_TUN, ip_id=0x701)
    t2 = udp_sized(48202, 1000, dst=VIP_TUN, ip_id=0x702)
    cases.append(Case(
        "frag_tun", "TUN udp: a 2028-byte datagram in 3 fragments (out of order) is reassembled, "
        "encapsulated with the worker's IP ID and cut to lan's 1500; a 1000-byte one in 2 "
        "leaves whole",
        [TUN_DNS], "wan", ip_split(t1, [680, 680], order=[2, 0, 1]) + ip_split(t2, [496]),
        {"lan": tun_frags(t1, "rs1", 1500, outer_id=0) + [tun_out(t2, "rs2", outer_id=1)]},
        min_counters={"reassembled": 2}))

    echo = b(Ether(src=ROUTER_MAC, dst=WAN_MAC) / client_ip(VIP, id=0x801)
             / ICMP(type=8, id=1, seq=1) / Raw(bytes(100)))
    gre = from_router(client_ip(VIP, id=0x802, proto=47) / Raw(bytes(64)))
    cases.append(Case(
        "frag_no_service", "fragments of a UDP datagram to VIP:54 (no service) and to a stranger "
        "are reassembled, then dropped once each (no_service, not_for_us); fragments of an ICMP "
        "echo and of GRE: ip_fragment",
        [WEB, DNS_DR], "wan",
        ip_split(udp_sized(48301, 400, dport=54, ip_id=0x803), [200])
        + ip_split(udp_sized(48302, 400, dst=STRANGER, ip_id=0x804), [200])
        + ip_split(echo, [64]) + ip_split(gre, [32]),
        {}, drops={"no_service": 1, "not_for_us": 1, "ip_fragment": 4}))

    # Invalid sets: a non-last piece whose length is no multiple of 8; overlapping pieces; a
    # duplicate first piece; a datagram of 9 pieces (one more than a table entry holds: the
    # first 8 go, the 9th starts a new datagram that never completes).
    base = udp_sized(48401, 300, ip_id=0x901)
    odd = edit(ip_split(base, [200])[0], ETH + 2, struct.pack("!H", 20 + 196))[:ETH + 216]
    odd = fix_ip_csum(bytearray(odd))
    ov = ip_split(udp_sized(48402, 100, ip_id=0x902), [16])[0]  # [0, 16) MF
    ov_last = ip_split(udp_sized(48402, 52, ip_id=0x902), [8])[1]  # [8, 24), the end
    dup = ip_split(udp_sized(48403, 100, ip_id=0x903), [16])
    nine = ip_split(udp_sized(48404, 20 + 9 * 16, ip_id=0x904), [16] * 8)
    assert len(nine) == 9
    cases.append(Case(
        "frag_invalid", "fragments that make no datagram: a 196-byte non-last piece, "
        "overlapping pieces, a duplicate first piece, 9 pieces: frag_invalid 1 + 2 + 2 + 8",
        [WEB, DNS_DR], "wan", [odd, ov, ov_last, dup[0], dup[0]] + nine,
        {}, drops={"frag_invalid": 13}))

    flood = [ip_split(udp_sized(48500 + i % 100, 100, ip_id=0xA000 + i), [16])[0]
             for i in range(300)]
    cases.append(Case(
        "frag_flood", "300 first fragments of datagrams that never complete: 256 wait in the "
        "table (its bound), 44 are dropped as frag_table_full",
        [WEB, DNS_DR], "wan", flood, {}, drops={"frag_table_full": 44},
        min_counters={"frags_in": 300}))

    # Two workers: the pieces of each datagram arrive on both RX queues; the worker of
    # frag_owner(src, dst, id) reassembles, the connection's owner forwards.
    one = vs("dns", 53, protocol="udp", servers=["rs1"])
    dg = [udp_sized(48600 + i, 2028, ip_id=0xB00 + i) for i in range(8)]
    q0, q1 = [], []
    for i, d in enumerate(dg):
        first, second = ip_split(d, [1480])
        q0.append(first if i % 2 else second)
        q1.append(second if i % 2 else first)
    cases.append(Case(
        "frag_two_workers", "DR udp on 2 workers: 8 datagrams of 2 fragments, one on each RX "
        "queue: all reassembled and forwarded (2 fragments each), none lost",
        [WEB, one], "", {"wan": [q0, q1]},
        {"lan": [f for d in dg for f in ip_fragments(dr_out(d, "rs1"), 1500)]},
        order={"lan": "set"}, workers=2, min_counters={"reassembled": 8, "redirected": 1}))
    return cases


# --- partial checksums (issue 16) -----------------------------------------------------------------
# A Linux sender with checksum offload on (a veth's default) leaves the TCP/UDP checksum field
# holding the folded pseudo-header sum (CHECKSUM_PARTIAL); through af_packet or pcap ulvsd receives
# it so. Every forwarding mode completes it: the expected frames are those the sender would have
# sent with its offload off (scapy's full checksums), rewritten as usual.
def partial(frame: bytes) -> bytes:
    """`frame` (IPv4 + TCP/UDP, right checksums) with its L4 checksum left partial."""
    ihl, total, proto = _ihl(frame), _ip_total(frame), frame[ETH + 9]
    l4_len = total - ihl
    if proto == 17:
        l4_len = struct.unpack("!H", frame[ETH + ihl + 4:ETH + ihl + 6])[0]
    pseudo = frame[ETH + 12:ETH + 20] + struct.pack("!BBH", 0, proto, l4_len)
    at = ETH + ihl + (16 if proto == 6 else 6)
    return frame[:at] + struct.pack("!H", ~csum16(pseudo) & 0xFFFF) + frame[at + 2:]


def partial_csum_cases() -> list[Case]:
    cases = []
    get = b"GET / HTTP/1.0\r\n\r\n"
    sp = 46000
    dr = [tcp(sp, "S", ip_id=1, options=[("MSS", 1460)]),
          tcp(sp, "PA", seq=1001, ack=5001, ip_id=2, payload=get),
          udp(46001, b"query", ip_id=3)]
    assert all(partial(f) != f for f in dr)
    cases.append(Case(
        "csum_partial_dr", "DR: TCP and UDP with partial checksums (a sender's offload) are "
        "forwarded with the full checksum", [WEB, DNS_DR], "wan", [partial(f) for f in dr],
        {"lan": [dr_out(dr[0], "rs1"), dr_out(dr[1], "rs1"), dr_out(dr[2], "rs1")]},
        min_counters={"csum_completed": 3}))
    req = [tcp(sp, "S", dst=VIP_NAT, ip_id=4), tcp(sp, "PA", seq=1001, ack=5001, dst=VIP_NAT,
                                                    ip_id=5, payload=get)]
    rep = [rs_tcp("rs1", sp, "SA", seq=5000, ack=1001, ip_id=0x104),
           rs_tcp("rs1", sp, "PA", seq=5001, ack=1001 + len(get), ip_id=0x105, payload=b"rs1\n")]
    cases.append(Case(
        "csum_partial_nat", "NAT: requests and replies with partial checksums are rewritten "
        "with full checksums both ways", [NAT_WEB], "",
        {"wan": [partial(f) for f in req], "lan": [partial(f) for f in rep]},
        {"lan": [nat_in(f, "rs1", 8080) for f in req],
         "wan": [nat_out(f, VIP_NAT, 80) for f in rep]},
        min_counters={"csum_completed": 4}))
    tun = tcp(sp, "S", dst=VIP_TUN, ip_id=6)
    cases.append(Case(
        "csum_partial_tun", "TUN: the inner packet of a partial-checksum SYN is sent with its "
        "full checksum", [TUN_WEB], "wan", [partial(tun)], {"lan": [tun_out(tun, "rs1")]},
        min_counters={"csum_completed": 1}))
    # A sender's TSO/GSO super-frame (IP length 4000) cut by the packet socket's ring frame to
    # 2000 bytes: over the MTU and short of its IP length, so frame_cut, not ip_bad_len; a short
    # frame with a long IP length stays ip_bad_len.
    big = tcp(sp + 1, "PA", seq=1001, ack=5001, ip_id=7, payload=b"x" * 3960)
    cut = set_ip_total_len(big[:2000], 4000)
    short = set_ip_total_len(tcp(sp + 2, "S", ip_id=8), 400)
    cases.append(Case(
        "frame_cut", "a frame over the MTU and short of its IP length (a TSO super-frame cut by "
        "the packet socket) is dropped as frame_cut; a short one as ip_bad_len", [WEB], "wan",
        [cut, short], {}, drops={"frame_cut": 1, "ip_bad_len": 1}))
    return cases


def all_cases() -> list[Case]:
    cases = (arp_cases() + ping_cases() + dr_cases() + drop_cases() + nat_cases() + tun_cases()
             + icmp_cases() + reuse_cases() + dup_cases() + persist_match_cases() + mtu_cases()
             + frag_cases() + partial_csum_cases())
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    for c in cases:
        assert (c.in_port in PORTS) if isinstance(c.inputs, list) else c.in_port == "", c.name
        assert c.workers >= 1, c.name
        queues = c.queues()
        assert set(queues) == set(PORTS), c.name
        for port in PORTS:
            assert len(queues[port]) == c.workers, (c.name, port)
        # Every port but the last fed is read in one burst before the next port's frames.
        fed = [p for p in PORTS if any(queues[p])]
        for port in fed[:-1]:
            assert all(len(q) <= MAX_BURST for q in queues[port]), (c.name, port)
        assert set(c.mtu) <= set(PORTS), c.name
        assert set(c.expected) <= set(PORTS), c.name
        assert set(c.drops) <= set(DROP_REASONS), (c.name, c.drops)
        assert all(v > 0 for v in c.drops.values()), c.name
        assert all(o in ("exact", "set") for o in c.order.values()), c.name
    return cases
