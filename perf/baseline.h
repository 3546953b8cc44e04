// The forwarding benchmark's yardsticks: the least a forwarder must do per packet. Measured over
// the very packets the real burst path gets, in the same run, so their ratio cancels most of the
// machine's noise.
//  - swap_burst: read the Ethernet, IPv4 and L4 headers, swap MACs, addresses and ports (a 5-tuple
//    swap, l2fwd's macswap one layer deeper) and stage the packet for TX. It prefetches headers
//    as far ahead as the real path does (process_burst.cc's prefetch_ahead, 8): with 1 ahead
//    (issue 4's version) every header miss of the baseline was exposed, which made it slower and
//    flattered the ratio (issue 17).
//  - io forwarding (testpmd's `io` mode: rx_burst then tx_burst, packets untouched) is the PMD
//    rows' yardstick (pmd_run.h); it needs no function.
#pragma once

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <cstring>

namespace ulvs::perf {

// As process_burst.cc's.
constexpr uint16_t baseline_prefetch_ahead = 8;

// Swaps every packet of `pkts` in place and appends it to `out` (room for n). Returns n.
inline uint16_t swap_burst(rte_mbuf** pkts, uint16_t n, rte_mbuf** out) noexcept {
    for (uint16_t i = 0; i < n && i < baseline_prefetch_ahead; ++i)
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    for (uint16_t i = 0; i < n; ++i) {
        if (i + baseline_prefetch_ahead < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + baseline_prefetch_ahead], void*));
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
