// A tiny packet builder for the parse tests: Ethernet + IPv4 (+ options) + TCP/UDP/ICMP, or ARP.
// Checksums are computed here with the textbook RFC 1071 loop (big-endian 16-bit words), not
// with the code under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace ulvs::test {

using bytes = std::vector<uint8_t>;

inline void put16(bytes& b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}

// RFC 1071: sum big-endian 16-bit words (odd byte padded with zero), fold carries, complement.
// Returns the value in host order, to be written big-endian.
inline uint16_t ref_checksum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t word = uint32_t{p[i]} << 8;
        if (i + 1 < len)
            word |= p[i + 1];
        sum += word;
    }
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffff);
}

constexpr size_t eth_len = 14;

inline bytes eth_header(uint16_t ethertype) {
    bytes b = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0, 0};
    put16(b, 12, ethertype);
    return b;
}

struct ipv4_spec {
    uint8_t proto = 6;
    uint8_t src[4] = {203, 0, 113, 1};
    uint8_t dst[4] = {203, 0, 113, 100};
    bytes options;          // must be a multiple of 4 bytes
    uint16_t frag_word = 0; // flags + fragment offset as on the wire (DF = 0x4000)
};

// Recompute the IPv4 header checksum of `f` in place (after a test changed a header field).
inline void fix_ip_checksum(bytes& f) {
    const size_t ihl = (f[eth_len] & 0x0f) * 4u;
    put16(f, eth_len + 10, 0);
    put16(f, eth_len + 10, ref_checksum(f.data() + eth_len, ihl));
}

inline bytes ipv4_frame(const ipv4_spec& s, const bytes& l4) {
    bytes f = eth_header(0x0800);
    const size_t hdr = 20 + s.options.size();
    bytes ip(hdr, 0);
    ip[0] = static_cast<uint8_t>(0x40 | hdr / 4);
    put16(ip, 2, static_cast<uint16_t>(hdr + l4.size()));
    put16(ip, 4, 0x1234); // id
    put16(ip, 6, s.frag_word);
    ip[8] = 64; // ttl
    ip[9] = s.proto;
    for (int i = 0; i < 4; ++i) {
        ip[12 + i] = s.src[i];
        ip[16 + i] = s.dst[i];
    }
    for (size_t i = 0; i < s.options.size(); ++i)
        ip[20 + i] = s.options[i];
    f.insert(f.end(), ip.begin(), ip.end());
    f.insert(f.end(), l4.begin(), l4.end());
    fix_ip_checksum(f);
    return f;
}

// TCP header (doff from the header size unless given) followed by `payload_len` zero bytes.
inline bytes tcp_segment(uint16_t sport, uint16_t dport, uint8_t flags, size_t payload_len = 0,
                         size_t option_bytes = 0, int doff_override = -1) {
    const size_t hdr = 20 + option_bytes;
    bytes t(hdr + payload_len, 0);
    put16(t, 0, sport);
    put16(t, 2, dport);
    put16(t, 4, 0x0102); // seq
    put16(t, 6, 0x0304);
    const size_t doff = doff_override >= 0 ? static_cast<size_t>(doff_override) : hdr / 4;
    t[12] = static_cast<uint8_t>(doff << 4);
    t[13] = flags;
    put16(t, 14, 65535); // window
    for (size_t i = 0; i < option_bytes; ++i)
        t[20 + i] = 1; // NOP
    return t;
}

inline bytes udp_datagram(uint16_t sport, uint16_t dport, size_t payload_len, int len_field = -1) {
    bytes u(8 + payload_len, 0xab);
    put16(u, 0, sport);
    put16(u, 2, dport);
    put16(u, 4, static_cast<uint16_t>(len_field >= 0 ? len_field : 8 + payload_len));
    put16(u, 6, 0); // no UDP checksum (allowed in IPv4)
    return u;
}

inline bytes icmp_echo(size_t payload_len) {
    bytes m(8 + payload_len, 0x5a);
    m[0] = 8; // echo request
    m[1] = 0;
    put16(m, 2, 0);
    put16(m, 4, 0x4242); // id
    put16(m, 6, 1);      // seq
    put16(m, 2, ref_checksum(m.data(), m.size()));
    return m;
}

inline bytes arp_request(const uint8_t sender[4], const uint8_t target[4]) {
    bytes f = eth_header(0x0806);
    bytes a = {0,    1, 0x08, 0, 6, 4,    0, 1,        // Ethernet/IPv4, request
               0x02, 0, 0,    0, 0, 0x02, 0, 0, 0, 0,  // sender MAC, IP (filled below)
               0,    0, 0,    0, 0, 0,    0, 0, 0, 0}; // target MAC, IP
    for (int i = 0; i < 4; ++i) {
        a[14 + i] = sender[i];
        a[24 + i] = target[i];
    }
    f.insert(f.end(), a.begin(), a.end());
    return f;
}

} // namespace ulvs::test
