"""Packet tables for issue 19: routed forwarding (`forwarding_rules`) and SNAT (`snat`).

Wire behaviour (README "Routing and SNAT", docs/architecture.md "A routed or SNAT packet's way"):
- A packet of an SNAT connection leaves with TTL - 1, routed; the inside host's packets get the
  SNAT address and port as source (an echo request: the identifier), the outside host's replies
  the inside host's address and port as destination; checksums as from scratch.
- ICMP errors about a connection's packets are translated back: the quoted packet's translated
  end and the outer address on the inside host's side; the quote's IP checksum recomputed, its
  L4 checksum left; the outer ICMP checksum recomputed; TTL - 1.
- A rule's range exhausted for a (protocol, remote address, remote port): drop, snat_exhausted.
- Routed packets with TTL <= 1: ICMP time exceeded (11/0) from the receiving port's address,
  back to the sender's MAC, drop ttl_exceeded. No route: ICMP unreachable (3/0), drop no_route.
  A source no rule allows: drop forward_denied, nothing sent.
The port is deterministic here because every rule's range holds one port (20000); the spread
over a range and the ownership across workers are checked by packet-snat (snat_test.cc).

Most cases masquerade hosts behind wan to lan's address: the runners feed wan before lan, and an
SNAT connection starts at its inside host. snat_rs_outbound takes the real servers' way (lan to
wan) alongside a NAT service.
"""

from __future__ import annotations

from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # type: ignore

from tables import (CLIENT, ETH, LAN_ADDR, LAN_MAC, NAT_WEB, PING_PAYLOAD, PORT_MAC, ROUTER_MAC,
                    RS, VIP_NAT, WAN_ADDR, WAN_MAC, WEB, Case, b, from_router, icmp_error,
                    ip_fragments, nat_in, nat_out, ping, quoted, rs_tcp, tcp, translate_quote, udp)

LANHOST, LANHOST_MAC = "198.51.100.50", "02:00:00:00:01:50"  # the outside host, on lan
REMOTE = "203.0.113.200"  # beyond the router on wan (wan is a /25)
SNAT_PORT = 20000
LANHOST_NEIGH = [{"address": LANHOST, "mac": LANHOST_MAC, "port": "lan"}]
# Hosts behind wan masqueraded to lan's address (LAN_ADDR), one port.
WAN_TO_LAN = {"snat": [{"sources": ["203.0.113.0/24"], "out_port": "lan",
                        "ports": f"{SNAT_PORT}-{SNAT_PORT}"}]}
# The real servers masqueraded to wan's address (the LVS-NAT director's MASQUERADE).
RS_TO_WAN = {"snat": [{"sources": ["198.51.100.0/24"], "out_port": "wan",
                       "ports": f"{SNAT_PORT}-{SNAT_PORT}"}]}


def routed(frame: bytes, out_port: str, dst_mac: str, src: str | None = None,
           sport: int | None = None, dst: str | None = None, dport: int | None = None,
           echo_id: int | None = None) -> bytes:
    """`frame` routed out of `out_port`: TTL - 1, the given fields replaced, checksums by scapy."""
    e = Ether(frame)
    ip = e[IP]
    ip.ttl -= 1
    if src:
        ip.src = src
    if dst:
        ip.dst = dst
    del ip.chksum
    if TCP in e or UDP in e:
        l4 = e[TCP] if TCP in e else e[UDP]
        if sport is not None:
            l4.sport = sport
        if dport is not None:
            l4.dport = dport
        del l4.chksum
    elif ICMP in e:
        if echo_id is not None:
            e[ICMP].id = echo_id
        del e[ICMP].chksum
    return b(Ether(dst=dst_mac, src=PORT_MAC[out_port]) / ip)


def from_lanhost(l3) -> bytes:
    return b(Ether(src=LANHOST_MAC, dst=LAN_MAC) / l3)


def rs_frame(rs: str, l3) -> bytes:
    return b(Ether(src=RS[rs][1], dst=LAN_MAC) / l3)


def icmp_about(frame: bytes, icmp_type: int, src: str, port: str) -> bytes:
    """ICMP `icmp_type`/0 from `src` about a frame received on `port`, back to its sender."""
    e = Ether(frame)
    ihl = (frame[ETH] & 0x0F) * 4
    return b(Ether(dst=e.src, src=PORT_MAC[port])
             / IP(tos=0, id=0, flags=0, frag=0, ttl=64, src=src, dst=e[IP].src)
             / ICMP(type=icmp_type, code=0) / Raw(frame[ETH:ETH + ihl + 8]))


def snat_cases() -> list[Case]:
    cases = []
    get = b"GET / HTTP/1.0\r\n\r\n"

    # TCP both ways.
    syn = tcp(40000, "S", dst=LANHOST, ip_id=1, options=[("MSS", 1460)])
    ack = tcp(40000, "PA", seq=1001, ack=9001, dst=LANHOST, ip_id=2, payload=get)
    synack = from_lanhost(IP(src=LANHOST, dst=LAN_ADDR, ttl=64, id=0x501, flags="DF")
                          / TCP(sport=80, dport=SNAT_PORT, flags="SA", seq=9000, ack=1001))
    data = from_lanhost(IP(src=LANHOST, dst=LAN_ADDR, ttl=64, id=0x502, flags="DF")
                        / TCP(sport=80, dport=SNAT_PORT, flags="PA", seq=9001, ack=1001 + len(get))
                        / Raw(b"HTTP/1.0 200 OK\r\n\r\nhi\n"))
    cases.append(Case(
        "snat_tcp_both_ways", "SNAT TCP: the inside host's segments leave lan from 198.51.100.1:"
        "20000, the outside host's come back to it, TTL - 1 both ways",
        [WEB], "", {"wan": [syn, ack], "lan": [synack, data]},
        {"lan": [routed(f, "lan", LANHOST_MAC, src=LAN_ADDR, sport=SNAT_PORT) for f in (syn, ack)],
         "wan": [routed(f, "wan", ROUTER_MAC, dst=CLIENT, dport=40000) for f in (synack, data)]},
        neighbors=LANHOST_NEIGH, extra=WAN_TO_LAN))

    # UDP both ways.
    q = udp(40000, b"\x12\x34query", dport=53, dst=LANHOST, ip_id=3)
    ans = from_lanhost(IP(src=LANHOST, dst=LAN_ADDR, ttl=64, id=0x503)
                       / UDP(sport=53, dport=SNAT_PORT) / Raw(b"\x12\x34answer"))
    cases.append(Case(
        "snat_udp_both_ways", "SNAT UDP: a query from 198.51.100.1:20000 and its answer back to "
        "the inside host's port", [WEB], "", {"wan": [q], "lan": [ans]},
        {"lan": [routed(q, "lan", LANHOST_MAC, src=LAN_ADDR, sport=SNAT_PORT)],
         "wan": [routed(ans, "wan", ROUTER_MAC, dst=CLIENT, dport=40000)]},
        neighbors=LANHOST_NEIGH, extra=WAN_TO_LAN))

    # ICMP echo both ways: the identifier is translated.
    req = ping(LANHOST)  # id 0x1234 from CLIENT
    rep = from_lanhost(IP(src=LANHOST, dst=LAN_ADDR, ttl=64, id=0x504)
                       / ICMP(type=0, id=SNAT_PORT, seq=1) / Raw(bytes(range(0x10, 0x48))))
    # An ICMP error about the translated request (LANHOST: host unreachable) reaches the inside
    # host quoting the request as it sent it: address, identifier and the quote's checksums.
    sent = IP(src=LAN_ADDR, dst=LANHOST, ttl=62, id=0x4D2, tos=0x10, flags="DF") / ICMP(
        type=8, id=SNAT_PORT, seq=1) / Raw(PING_PAYLOAD)
    as_sent = IP(src=CLIENT, dst=LANHOST, ttl=62, id=0x4D2, tos=0x10, flags="DF") / ICMP(
        type=8, id=0x1234, seq=1) / Raw(PING_PAYLOAD)
    err = from_lanhost(icmp_error(LANHOST, LAN_ADDR, 3, 1, quoted(sent), ttl=64))
    cases.append(Case(
        "snat_icmp_echo_error", "ICMP unreachable about an SNAT echo request goes back to the "
        "inside host quoting its own address and identifier 0x1234",
        [WEB], "", {"wan": [req], "lan": [err]},
        {"lan": [routed(req, "lan", LANHOST_MAC, src=LAN_ADDR, echo_id=SNAT_PORT)],
         "wan": [b(Ether(dst=ROUTER_MAC, src=WAN_MAC)
                   / icmp_error(LANHOST, CLIENT, 3, 1, quoted(as_sent), ttl=63))]},
        neighbors=LANHOST_NEIGH, extra=WAN_TO_LAN))
    cases.append(Case(
        "snat_icmp_echo_both_ways", "SNAT ICMP echo: the request leaves with identifier 20000 "
        "from 198.51.100.1, the reply comes back with 0x1234 to the inside host",
        [WEB], "", {"wan": [req], "lan": [rep]},
        {"lan": [routed(req, "lan", LANHOST_MAC, src=LAN_ADDR, echo_id=SNAT_PORT)],
         "wan": [routed(rep, "wan", ROUTER_MAC, dst=CLIENT, echo_id=0x1234)]},
        neighbors=LANHOST_NEIGH, extra=WAN_TO_LAN))

    # ICMP errors both ways.
    u = udp(40001, b"q", dport=53, dst=LANHOST, ip_id=4)
    q_out = quoted(IP(src=LANHOST, dst=CLIENT, ttl=63, id=0x505) / UDP(sport=53, dport=40001)
                   / Raw(b"answer"))
    err_out = from_router(icmp_error(CLIENT, LANHOST, 3, 3, q_out, ttl=63))
    q_in = quoted(IP(src=LAN_ADDR, dst=LANHOST, ttl=62, id=4) / UDP(sport=SNAT_PORT, dport=53)
                  / Raw(b"q"))
    err_in = from_lanhost(icmp_error(LANHOST, LAN_ADDR, 3, 1, q_in, ttl=64))
    cases.append(Case(
        "snat_icmp_errors_both_ways", "ICMP errors about an SNAT connection: the inside host's "
        "about a reply leaves from 198.51.100.1 quoting port 20000; the outside's about a request "
        "reaches the inside host quoting its own address and port",
        [WEB], "", {"wan": [u, err_out], "lan": [err_in]},
        {"lan": [routed(u, "lan", LANHOST_MAC, src=LAN_ADDR, sport=SNAT_PORT),
                 b(Ether(dst=LANHOST_MAC, src=LAN_MAC)
                   / icmp_error(LAN_ADDR, LANHOST, 3, 3,
                                translate_quote(q_out, dst=LAN_ADDR, dport=SNAT_PORT), ttl=62))],
         "wan": [b(Ether(dst=ROUTER_MAC, src=WAN_MAC)
                   / icmp_error(LANHOST, CLIENT, 3, 1,
                                translate_quote(q_in, src=CLIENT, sport=40001), ttl=63))]},
        neighbors=LANHOST_NEIGH, extra=WAN_TO_LAN))

    # Exhaustion: one port per (protocol, remote address, remote port).
    s1 = tcp(40000, "S", dst=LANHOST, ip_id=5)
    s2 = tcp(40001, "S", dst=LANHOST, ip_id=6)
    s3 = tcp(40001, "S", dst=LANHOST, dport=81, ip_id=7)
    cases.append(Case(
        "snat_port_exhaustion", "SNAT range of one port: a second connection to the same "
        "LANHOST:80 is dropped (snat_exhausted); one to LANHOST:81 gets the port again",
        [WEB], "wan", [s1, s2, s3],
        {"lan": [routed(f, "lan", LANHOST_MAC, src=LAN_ADDR, sport=SNAT_PORT) for f in (s1, s3)]},
        drops={"snat_exhausted": 1}, neighbors=LANHOST_NEIGH, extra=WAN_TO_LAN))

    # The real servers' own traffic beside a NAT service (the LVS-NAT director's MASQUERADE).
    nat_syn = tcp(41000, "S", dst=VIP_NAT, ip_id=8)
    nat_synack = rs_tcp("rs1", 41000, "SA", seq=5000, ack=1001, ip_id=0x601)
    rs_syn = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=64, id=0x602, flags="DF")
                      / TCP(sport=34000, dport=443, flags="S", seq=77))
    rs_ping = rs_frame("rs2", IP(src=RS["rs2"][0], dst=REMOTE, ttl=64, id=0x603)
                       / ICMP(type=8, id=0x99, seq=1) / Raw(b"ping"))
    cases.append(Case(
        "snat_rs_outbound", "rs1's connection to 203.0.113.200:443 and rs2's ping leave wan from "
        "203.0.113.10 (port/identifier 20000) while the NAT service goes on",
        [NAT_WEB], "", {"wan": [nat_syn], "lan": [nat_synack, rs_syn, rs_ping]},
        {"lan": [nat_in(nat_syn, "rs1", 8080)],
         "wan": [nat_out(nat_synack, VIP_NAT, 80),
                 routed(rs_syn, "wan", ROUTER_MAC, src=WAN_ADDR, sport=SNAT_PORT),
                 routed(rs_ping, "wan", ROUTER_MAC, src=WAN_ADDR, echo_id=SNAT_PORT)]},
        extra=RS_TO_WAN))

    # TTL expiry, routed by an SNAT rule: time exceeded from lan's address back to rs1.
    dying = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=1, id=0x604)
                     / UDP(sport=34001, dport=53) / Raw(b"q"))
    last = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=2, id=0x605)
                    / UDP(sport=34002, dport=53) / Raw(b"q"))
    cases.append(Case(
        "snat_ttl_expiry", "rs1's datagram with TTL 1 is answered with time exceeded from "
        "198.51.100.1 (ttl_exceeded); with TTL 2 it leaves wan translated with TTL 1",
        [WEB], "lan", [dying, last],
        {"lan": [icmp_about(dying, 11, LAN_ADDR, "lan")],
         "wan": [routed(last, "wan", ROUTER_MAC, src=WAN_ADDR, sport=SNAT_PORT)]},
        drops={"ttl_exceeded": 1}, extra=RS_TO_WAN))

    # The egress MTU (wan 1280), as for the other modes: DF too big is refused with
    # fragmentation needed (from lan's address, quoting the packet as sent, no connection made);
    # without DF the translated packet leaves in fragments.
    big_df = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=64, id=0x60b, flags="DF")
                      / UDP(sport=34010, dport=53) / Raw(bytes(1400)))
    big = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=64, id=0x60c)
                   / UDP(sport=34011, dport=53) / Raw(bytes(range(256)) * 5 + bytes(120)))
    e = Ether(big_df)
    frag_needed = b(Ether(dst=e.src, src=LAN_MAC)
                    / IP(tos=0, id=0, flags=0, frag=0, ttl=64, src=LAN_ADDR, dst=RS["rs1"][0])
                    / ICMP(type=3, code=4, nexthopmtu=1280) / Raw(big_df[ETH:ETH + 28]))
    cases.append(Case(
        "snat_mtu", "wan MTU 1280: rs1's DF datagram of 1428 bytes gets fragmentation needed "
        "(too_big); a non-DF one leaves translated, in fragments",
        [WEB], "lan", [big_df, big],
        {"lan": [frag_needed],
         "wan": ip_fragments(routed(big, "wan", ROUTER_MAC, src=WAN_ADDR, sport=SNAT_PORT), 1280)},
        drops={"too_big": 1}, mtu={"wan": 1280}, extra=RS_TO_WAN))

    # No route: only the connected subnets.
    lost = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=64, id=0x606)
                    / UDP(sport=34003, dport=53) / Raw(b"q"))
    cases.append(Case(
        "routed_no_route", "no route to 203.0.113.200: rs1 hears ICMP unreachable (3/0) from "
        "198.51.100.1 (no_route)", [WEB], "lan", [lost],
        {"lan": [icmp_about(lost, 3, LAN_ADDR, "lan")]},
        drops={"no_route": 1}, routes=[], extra=RS_TO_WAN))

    # Plain forwarding for allowed sources only.
    fwd = {"forwarding_rules": [{"sources": ["198.51.100.11/32"],
                                 "destinations": ["203.0.113.0/24"], "in_port": "lan",
                                 "out_port": "wan"}]}
    ok_udp = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=64, id=0x607)
                      / UDP(sport=34004, dport=53) / Raw(b"q"))
    ok_ping = rs_frame("rs1", IP(src=RS["rs1"][0], dst=REMOTE, ttl=64, id=0x608)
                       / ICMP(type=8, id=0x77, seq=1) / Raw(b"ping"))
    denied = rs_frame("rs2", IP(src=RS["rs2"][0], dst=REMOTE, ttl=64, id=0x609)
                      / UDP(sport=34005, dport=53) / Raw(b"q"))
    denied_ping = rs_frame("rs2", IP(src=RS["rs2"][0], dst=REMOTE, ttl=64, id=0x60a)
                           / ICMP(type=8, id=0x78, seq=1) / Raw(b"ping"))
    cases.append(Case(
        "routed_source_not_allowed", "forwarding_rules allow rs1 to 203.0.113.0/24: its datagram "
        "and ping are routed unchanged (TTL - 1); rs2's are dropped (forward_denied)",
        [WEB], "lan", [ok_udp, denied, ok_ping, denied_ping],
        {"wan": [routed(ok_udp, "wan", ROUTER_MAC), routed(ok_ping, "wan", ROUTER_MAC)]},
        drops={"forward_denied": 2}, extra=fwd))
    return cases
