// The forwarding benchmark's yardstick: the least a forwarder must do per packet — read the
// Ethernet, IPv4 and L4 headers, swap MACs, addresses and ports (a 5-tuple swap, l2fwd's macswap
// one layer deeper) and stage the packet for TX. Measured over the very packets the real burst
// path gets, in the same run, so their ratio cancels most of the machine's noise.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

namespace ulvs::perf {

// Swaps every packet of `pkts` in place and appends it to `out` (room for n). Returns n.
inline uint16_t swap_burst(rte_mbuf** pkts, uint16_t n, rte_mbuf** out) noexcept {
    for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
        auto* f = rte_pktmbuf_mtod(pkts[i], uint8_t*);
        uint8_t mac[6];
        std::memcpy(mac, f, 6);
        std::memcpy(f, f + 6, 6);
        std::memcpy(f + 6, mac, 6);
        uint8_t* ip = f + 14;
        uint8_t* l4 = ip + (ip[0] & 0x0f) * 4;
        uint32_t a, b;
        std::memcpy(&a, ip + 12, 4);
        std::memcpy(&b, ip + 16, 4);
        std::memcpy(ip + 12, &b, 4);
        std::memcpy(ip + 16, &a, 4);
        uint16_t p, q;
        std::memcpy(&p, l4, 2);
        std::memcpy(&q, l4 + 2, 2);
        std::memcpy(l4, &q, 2);
        std::memcpy(l4 + 2, &p, 2);
        out[i] = pkts[i];
    }
    return n;
}

} // namespace ulvs::perf
