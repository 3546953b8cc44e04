// Internal to lib/dataplane/fwd: NAT rewrites with incremental checksum updates (RFC 1624). The
// packet's checksums were verified nowhere — NAT, like IPVS, updates them incrementally, so a
// corrupt segment stays corrupt for the end host to notice.
#pragma once

#include "ulvs/dataplane/pkt/csum.h"
#include "ulvs/dataplane/pkt/parse.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

namespace ulvs::dp::detail {

// The fields are read and written through memcpy: rte_ipv4_hdr is packed, and a packed field
// cannot bind to the uint16_t& the checksum helpers take.
inline uint16_t load16(const void* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
inline uint32_t load32(const void* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline void store16(void* p, uint16_t v) noexcept {
    std::memcpy(p, &v, 2);
}
inline void store32(void* p, uint32_t v) noexcept {
    std::memcpy(p, &v, 4);
}

// Byte offsets inside the IPv4 and L4 headers.
constexpr size_t ip_ttl = 8, ip_csum = 10, ip_src = 12, ip_dst = 16;
constexpr size_t l4_sport = 0, l4_dport = 2, tcp_csum = 16, udp_csum = 6;

// Replace the source (src = true) or destination address and port of an IPv4 + TCP/UDP packet.
// `l3` is the IPv4 header, `l4` the TCP/UDP header, both inside the same buffer. `fix_l4`: false
// for a header embedded in an ICMP error (its L4 checksum is left alone, as IPVS does: it covers
// a payload that is usually truncated there).
inline void rewrite_endpoint(uint8_t* l3, uint8_t* l4, uint8_t proto, bool src, uint32_t ip,
                             uint16_t port, bool fix_l4 = true) noexcept {
    uint8_t* ip_at = l3 + (src ? ip_src : ip_dst);
    uint8_t* port_at = l4 + (src ? l4_sport : l4_dport);
    const uint32_t old_ip = load32(ip_at);
    const uint16_t old_port = load16(port_at);
    uint16_t sum = load16(l3 + ip_csum);
    csum_replace4(sum, old_ip, ip);
    store16(l3 + ip_csum, sum);
    store32(ip_at, ip);
    store16(port_at, port);
    if (!fix_l4)
        return;
    if (proto == IPPROTO_TCP) {
        uint16_t l4sum = load16(l4 + tcp_csum);
        csum_replace4(l4sum, old_ip, ip); // the pseudo-header holds the addresses
        csum_replace2(l4sum, old_port, port);
        store16(l4 + tcp_csum, l4sum);
    } else if (proto == IPPROTO_UDP) {
        uint16_t l4sum = load16(l4 + udp_csum);
        udp_csum_replace4(l4sum, old_ip, ip);
        udp_csum_replace2(l4sum, old_port, port);
        store16(l4 + udp_csum, l4sum);
    }
}

// Decrement the TTL of a packet we route (NAT replies). False when it would reach 0.
inline bool decrement_ttl(uint8_t* l3) noexcept {
    if (l3[ip_ttl] <= 1)
        return false;
    // TTL and protocol share a 16-bit word (TTL its high byte in network order): one load, one
    // store. (A byte store then a load of the word stalled on store forwarding: issue 17.)
    const uint16_t before = load16(l3 + ip_ttl);
    const uint16_t after =
        rte_cpu_to_be_16(static_cast<uint16_t>(rte_be_to_cpu_16(before) - 0x100));
    store16(l3 + ip_ttl, after);
    uint16_t sum = load16(l3 + ip_csum);
    csum_replace2(sum, before, after);
    store16(l3 + ip_csum, sum);
    return true;
}

// Full header checksum, for headers that are rewritten more than incrementally.
inline void set_ip_checksum(uint8_t* l3, uint8_t ihl_bytes) noexcept {
    store16(l3 + ip_csum, 0);
    store16(l3 + ip_csum, inet_checksum(l3, ihl_bytes));
}

} // namespace ulvs::dp::detail
