#!/usr/bin/python3
"""Check the TUN real servers' decapsulation without ulvsd: run in ulvs-router.

    ipip_probe.py RIP...

For every real server address, sends (from the router, outer source 198.51.100.1 as the
appliance would) an IPIP packet whose inner packet is an ICMP echo from the client
203.0.113.130 to the TUN VIP 203.0.113.102, and waits up to 3 s for the echo reply from the VIP
on its way to the client (leaving the router on rtcl): the real server decapsulated it
(tests/lab/tun_decap.py), accepted it for the VIP on lo and routed the answer back through the
router. Exit 0 when every real server answered.
"""

import sys
import time

from scapy.all import ICMP, IP, AsyncSniffer, Raw, conf, send  # type: ignore

CLIENT, VIP_TUN, APPLIANCE_LAN = "203.0.113.130", "203.0.113.102", "198.51.100.1"


def probe(rip: str, seq: int) -> bool:
    inner = IP(src=CLIENT, dst=VIP_TUN, ttl=63, id=0x4000 + seq) / ICMP(id=0x7777, seq=seq) / Raw(
        b"ulvs ipip probe")
    outer = IP(src=APPLIANCE_LAN, dst=rip, proto=4, ttl=64) / inner

    def is_answer(p) -> bool:
        return (ICMP in p and p[ICMP].type == 0 and p[IP].src == VIP_TUN and p[IP].dst == CLIENT
                and p[ICMP].id == 0x7777 and p[ICMP].seq == seq)

    sniffer = AsyncSniffer(iface="rtcl", lfilter=is_answer, count=1, timeout=3)
    sniffer.start()
    time.sleep(0.3)
    send(outer)
    sniffer.join()
    return bool(sniffer.results)


def main() -> int:
    conf.verb = 0
    ok = True
    for seq, rip in enumerate(sys.argv[1:], 1):
        answered = probe(rip, seq)
        print(f"ipip probe {rip}: echo to {VIP_TUN} through the tunnel "
              f"{'answered via the router' if answered else 'NOT answered'}")
        ok &= answered
    return 0 if ok and len(sys.argv) > 1 else 1


if __name__ == "__main__":
    sys.exit(main())
