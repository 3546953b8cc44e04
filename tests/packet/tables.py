"""Packet tables for ulvs (ARCHITECTURE "Tests", STYLE item 10).

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
Run with /usr/bin/python3 (Debian's, it has scapy).
"""

from __future__ import annotations

import dataclasses
import struct

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
)

# --- the lab: port 0 = wan, port 1 = lan (net_pcap0, net_pcap1 give these MACs) -----------------
PORTS = ["wan", "lan"]
WAN_MAC = "02:70:63:61:70:00"
LAN_MAC = "02:70:63:61:70:01"
PORT_MAC = {"wan": WAN_MAC, "lan": LAN_MAC}
WAN_ADDR, WAN_PREFIX = "203.0.113.10", "203.0.113.10/25"
LAN_ADDR, LAN_PREFIX = "198.51.100.1", "198.51.100.1/24"
ROUTER, ROUTER_MAC = "203.0.113.1", "02:00:00:00:00:01"
CLIENT = "203.0.113.130"  # outside wan's /25: reaches us through the router
VIP = "203.0.113.100"
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
    "udp_bad_len", "not_for_us", "no_service", "no_conn", "no_dest", "conn_table_full",
    "neigh_unresolved", "ctrl_ring_full", "tx_full",
]


@dataclasses.dataclass
class Case:
    name: str
    description: str
    virtual_servers: list[dict]
    in_port: str
    inputs: list[bytes]
    expected: dict[str, list[bytes]]  # port -> frames; a port not listed expects nothing
    drops: dict[str, int] = dataclasses.field(default_factory=dict)
    order: dict[str, str] = dataclasses.field(default_factory=dict)  # port -> exact|set

    def order_of(self, port: str) -> str:
        return self.order.get(port, "exact")


# --- config --------------------------------------------------------------------------------------
def real_servers(port: int, weights=(1, 1, 1)) -> list[dict]:
    return [{"address": addr, "port": port, "weight": w}
            for (addr, _), w in zip(RS.values(), weights)]


def vs(name: str, port: int, protocol: str = "tcp", scheduler: str = "rr",
       weights=(1, 1, 1)) -> dict:
    return {"name": name, "address": VIP, "port": port, "protocol": protocol,
            "scheduler": scheduler, "forwarding": "dr",
            "real_servers": real_servers(port, weights)}


WEB = vs("web", 80)


def config_for(case: Case, case_dir: str) -> dict:
    """The ulvsd config of a case (SPEC section 3 keys only). `case_dir` must be absolute."""
    def device(i: int, port: str) -> str:
        return f"net_pcap{i},rx_pcap={case_dir}/in_{port}.pcap,tx_pcap={case_dir}/out_{port}.pcap"

    return {
        "dpdk": {"eal_args": ["--no-huge", "-m", "256", "--no-pci",
                              "--file-prefix", f"ulvs-pkt-{case.name}"]},
        "lcores": {"control": 0, "workers": [1]},
        "ports": [
            {"name": "wan", "device": device(0, "wan"), "addresses": [WAN_PREFIX]},
            {"name": "lan", "device": device(1, "lan"), "addresses": [LAN_PREFIX]},
        ],
        "routes": [{"prefix": "0.0.0.0/0", "via": ROUTER}],
        "neighbors": [{"address": ROUTER, "mac": ROUTER_MAC, "port": "wan"}]
        + [{"address": a, "mac": m, "port": "lan"} for a, m in RS.values()],
        "connections": {"max": 4096},
        "virtual_servers": case.virtual_servers,
        # metrics "" disables the HTTP endpoint so parallel runs do not fight over a TCP port.
        "management": {"socket": f"{case_dir}/ulvsd.sock", "metrics": ""},
        "logging": {"level": "info"},
    }


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
        drop("drop_ip_fragment", "first fragment (MF) and later fragment (offset 185): ip_fragment",
             [from_router(client_ip(flags="MF", id=7) / TCP(sport=46601, dport=80, flags="S")
                          / Raw(b"a" * 16)),
              from_router(client_ip(frag=185, id=7, proto=6) / Raw(b"b" * 16))],
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


def all_cases() -> list[Case]:
    cases = arp_cases() + ping_cases() + dr_cases() + drop_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    for c in cases:
        assert c.in_port in PORTS, c.name
        assert set(c.expected) <= set(PORTS), c.name
        assert set(c.drops) <= set(DROP_REASONS), (c.name, c.drops)
        assert all(v > 0 for v in c.drops.values()), c.name
        assert all(o in ("exact", "set") for o in c.order.values()), c.name
    return cases
