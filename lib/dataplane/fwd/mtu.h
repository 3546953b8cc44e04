// Internal to lib/dataplane/fwd: the egress MTU (issue 12). As IPVS (ip_vs_xmit.c): a packet
// too big for the egress port with DF set is dropped and answered with ICMP
// fragmentation-needed carrying that port's MTU; without DF it is IP-fragmented (RFC 791).
// Chained mbufs (fragments, reassembled datagrams) are copied into one mbuf before staging on a
// port whose device cannot send chains (port_view::multi_seg).
#pragma once

#include "ulvs/dataplane/fwd/ip_id.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "xmit.h"

#include <rte_mbuf.h>

namespace ulvs::dp::detail {

// An ICMP error (`type`, `code`, the 32-bit `word` after the checksum: the MTU of
// fragmentation-needed) from `src` about the packet in `orig`, back out of `in_port` to the MAC
// that sent it, quoting its IP header and 8 bytes; staged, counted icmp_sent. `orig` is left to
// the caller. The routed path's callers (fwd/snat.cc) police and filter first.
void send_icmp_error(worker_ctx& w, const rte_mbuf* orig, uint8_t in_port, uint8_t type,
                     uint8_t code, uint32_t word, uint32_t src) noexcept;

// The IPv4 total length of the frame in `m` (Ethernet + IPv4, header in the first segment).
uint16_t ip_total_len(const rte_mbuf* m) noexcept;

// Stage `m` on port `out` towards neighbour `slot`, whole if its IP packet fits the port's MTU,
// else as fragments (the caller has refused DF packets). Returns false when dropped.
bool send_sized(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot) noexcept;

// send_sized after a route lookup (send_routed, xmit.h).
bool send_routed_sized(worker_ctx& w, rte_mbuf* m, uint32_t dst) noexcept;

// send_to, or send_sized when `ip_len` (the packet's IP total length) needs it: the check inline.
inline bool send_fit(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot,
                     uint16_t ip_len) noexcept {
    if (ip_len <= w.ports[out].mtu && m->nb_segs == 1)
        return send_to(w, m, out, slot);
    return send_sized(w, m, out, slot);
}

// send_routed, or send_routed_sized when `ip_len` may exceed the MTU of the port it leaves by.
inline bool send_routed_fit(worker_ctx& w, rte_mbuf* m, uint32_t dst, uint16_t ip_len) noexcept {
    if (ip_len <= w.min_mtu && m->nb_segs == 1)
        return send_routed(w, m, dst);
    return send_routed_sized(w, m, dst);
}

// Stage `m` as it is (one frame), linearised if it is chained and the port wants one segment.
bool send_whole(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot) noexcept;

// Refuse a packet of `ip_len` bytes that does not fit `mtu` and has DF set: ICMP
// fragmentation-needed (from `icmp_src`, back out of `in_port` to the sender's MAC, quoting the
// packet as received), drop counted as too_big. False (nothing done) when it fits or may be
// fragmented. Call it before rewriting the packet.
bool refuse_too_big(worker_ctx& w, rte_mbuf* m, uint16_t ip_len, uint16_t mtu, uint8_t in_port,
                    uint32_t icmp_src) noexcept;

// The same for a packet we are about to route to `dst` (NAT replies): the MTU of the port the
// route leaves by.
bool refuse_too_big_routed(worker_ctx& w, rte_mbuf* m, uint16_t ip_len, uint32_t dst,
                           uint8_t in_port, uint32_t icmp_src) noexcept;

} // namespace ulvs::dp::detail
