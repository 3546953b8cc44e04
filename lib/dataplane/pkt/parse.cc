// Frame validation. Every field is read with byte loads or memcpy: the frame may start at any
// address (mbuf headroom, pcap buffers), so casting to a header struct would be unaligned UB.
#include "ulvs/dataplane/pkt/parse.h"

#include <cstddef>
#include <cstring>

namespace ulvs::dp {

namespace {

constexpr uint32_t eth_hdr_len = 14;
constexpr uint32_t arp_len = 28; // Ethernet/IPv4 ARP: htype, ptype, hlen, plen, op, 2 x (MAC, IP)
constexpr uint32_t ipv4_min_hdr = 20;
constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_arp = 0x0806;
constexpr uint8_t proto_icmp = 1, proto_tcp = 6, proto_udp = 17;
constexpr uint16_t ip_mf = 0x2000, ip_frag_offset_mask = 0x1fff;

// Both ports with one 4-byte copy (they are adjacent in the header and in parsed_pkt): the
// burst path reads them back as one 32-bit word into its lookup key, and two 2-byte stores
// read by one 4-byte load stall on store forwarding (issue 17).
static_assert(offsetof(parsed_pkt, dst_port) == offsetof(parsed_pkt, src_port) + 2);
inline void store_ports(parsed_pkt& out, const uint8_t* l4) noexcept {
    std::memcpy(reinterpret_cast<unsigned char*>(&out) + offsetof(parsed_pkt, src_port), l4, 4);
}

inline uint16_t load_be16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Network-order fields stay as they are on the wire (see parsed_pkt).
inline uint32_t load_raw32(const uint8_t* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline uint16_t load_raw16(const uint8_t* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

drop parse_arp(const uint8_t* frame, uint32_t len, parsed_pkt& out) noexcept {
    // A frame too short for a whole ARP body is a runt (the Ethernet minimum of 60 bytes always
    // holds one), so it counts as eth_truncated rather than as a new reason: l4_truncated would
    // mislead, and ARP has no header of its own to be "truncated" in the IPv4 sense.
    if (len < eth_hdr_len + arp_len)
        return drop::eth_truncated;
    const uint8_t* a = frame + eth_hdr_len;
    out = {};
    out.kind = frame_kind::arp;
    out.l3_off = eth_hdr_len;
    out.src_ip = load_raw32(a + 14); // sender protocol address
    out.dst_ip = load_raw32(a + 24); // target protocol address
    return drop::none;
}

// TCP/UDP/ICMP header presence and the length fields inside them. `l4` points at the transport
// header; `l4_len` is what the IP total length leaves for it (never past the packet), `head` what
// of it is contiguous (a reassembled datagram continues in further segments).
drop parse_l4(const uint8_t* l4, uint32_t l4_len, uint32_t head, parsed_pkt& out) noexcept {
    switch (out.ip_proto) {
    case proto_tcp: {
        if (l4_len < 20 || head < 20)
            return drop::l4_truncated;
        const uint32_t doff = l4[12] >> 4;
        if (doff < 5 || doff * 4 > l4_len)
            return drop::tcp_bad_doff;
        if (doff * 4 > head)
            return drop::l4_truncated;
        out.tcp_flags = l4[13];
        store_ports(out, l4);
        return drop::none;
    }
    case proto_udp: {
        if (l4_len < 8 || head < 8)
            return drop::l4_truncated;
        const uint32_t ulen = load_be16(l4 + 4);
        if (ulen < 8 || ulen > l4_len)
            return drop::udp_bad_len;
        store_ports(out, l4);
        return drop::none;
    }
    case proto_icmp:
        return l4_len < 8 || head < 8 ? drop::l4_truncated : drop::none;
    default:
        return drop::none; // other protocols pass with ports 0 (the classifier decides)
    }
}

} // namespace

drop parse_frame(const uint8_t* frame, uint32_t len, bool verify_ip_csum,
                 parsed_pkt& out) noexcept {
    return parse_chain(frame, len, len, verify_ip_csum, out);
}

drop parse_chain(const uint8_t* frame, uint32_t len, uint32_t pkt_len, bool verify_ip_csum,
                 parsed_pkt& out) noexcept {
    if (len < eth_hdr_len)
        return drop::eth_truncated;
    // No VLAN support in this version: 0x8100 is an unknown ethertype like IPv6.
    const uint16_t ethertype = load_be16(frame + 12);
    if (ethertype == ethertype_arp)
        return parse_arp(frame, len, out);
    if (ethertype != ethertype_ipv4)
        return drop::unknown_ethertype;

    const uint8_t* ip = frame + eth_hdr_len;
    const uint32_t avail = len - eth_hdr_len;
    const uint32_t pkt_avail = (pkt_len > len ? pkt_len : len) - eth_hdr_len;
    if (avail < ipv4_min_hdr)
        return drop::ip_truncated;
    if (ip[0] >> 4 != 4)
        return drop::ip_bad_version;
    const uint32_t hdr_len = (ip[0] & 0x0f) * 4u;
    if (hdr_len < ipv4_min_hdr || hdr_len > avail)
        return drop::ip_bad_ihl;
    // Bytes past total_len are Ethernet padding (short frames are padded to 60 bytes): allowed.
    const uint32_t total_len = load_be16(ip + 2);
    if (total_len < hdr_len || total_len > pkt_avail)
        return drop::ip_bad_len;
    if (verify_ip_csum && inet_checksum(ip, hdr_len) != 0)
        return drop::ip_bad_checksum;

    out = {};
    out.kind = frame_kind::ipv4;
    out.ip_proto = ip[9];
    out.ip_hdr_len = static_cast<uint8_t>(hdr_len);
    out.l3_off = eth_hdr_len;
    out.l4_off = static_cast<uint16_t>(eth_hdr_len + hdr_len);
    out.ip_total_len = static_cast<uint16_t>(total_len);
    out.l4_len = static_cast<uint16_t>(total_len - hdr_len);
    out.src_ip = load_raw32(ip + 12);
    out.dst_ip = load_raw32(ip + 16);
    // DF alone is fine; MF or a non-zero offset means a fragment, which has no (or no complete)
    // transport header to route by: the caller may reassemble it (its L3 fields are filled in).
    if (load_be16(ip + 6) & (ip_mf | ip_frag_offset_mask))
        return drop::ip_fragment;
    return parse_l4(ip + hdr_len, out.l4_len, avail - hdr_len, out);
}

// The result is in network byte order, ready to memcpy into a header (or assign to an rte_be16_t
// field) as-is; over a header whose checksum field is already right it yields 0. Words are summed
// in native order: the one's-complement sum is byte-order independent (RFC 1071 section 2(B)), so
// the native sum, stored natively, has the right bytes on the wire.
uint16_t inet_checksum(const void* data, uint32_t len) noexcept {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t sum = 0;
    // 32-bit words fold to the same 16-bit sum (2^16 = 1 modulo 0xffff) at half the iterations.
    for (; len >= 4; p += 4, len -= 4)
        sum += load_raw32(p);
    if (len >= 2) {
        sum += load_raw16(p);
        p += 2;
        len -= 2;
    }
    if (len) {
        // A trailing odd byte is the high-order byte of a zero-padded word on the wire.
        const uint8_t last[2] = {p[0], 0};
        sum += load_raw16(last);
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

} // namespace ulvs::dp
