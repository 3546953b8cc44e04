// Partial TCP/UDP checksums (issue 16). A Linux sender with checksum offload on (every veth by
// default) leaves a segment's checksum to the "hardware": the field holds only the folded
// pseudo-header sum (CHECKSUM_PARTIAL). On a veth or bridge no hardware ever completes it, and an
// af_packet or pcap socket receives the segment as it is; the kernel marks it with
// TP_STATUS_CSUMNOTREADY, but DPDK 22.11's af_packet PMD does not pass tp_status on. Forwarded
// unchanged, such a segment is dropped by the real server (TcpInCsumErrors): every connection
// times out and nothing here would say why. So the worker recognises one by its value and
// completes it. A segment whose correct full checksum happens to equal its pseudo-header sum
// (1 in 65535) is summed again to the same value: recomputing is right either way.
#pragma once

#include "ulvs/dataplane/pkt/csum.h"
#include "ulvs/dataplane/pkt/parse.h"

#include <cstring>

namespace ulvs::dp {

// Offset of the checksum field inside the transport header; 0 for other protocols.
inline uint16_t l4_csum_offset(uint8_t proto) noexcept {
    return proto == 6 ? 16 : proto == 17 ? 6 : 0;
}

// The folded pseudo-header sum of a parsed IPv4 TCP/UDP packet, in network order as stored: what
// the checksum field holds when the sender left the rest to the device. `l4_len` is the length
// the pseudo-header names (UDP: its own length field).
inline uint16_t pseudo_header_sum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto,
                                  uint16_t l4_len) noexcept {
    // Native-order words: the one's-complement sum is byte-order independent (RFC 1071 2(B)), so
    // the protocol and length are added as the network-order words they are on the wire.
    const uint8_t wire[4] = {0, proto, static_cast<uint8_t>(l4_len >> 8),
                             static_cast<uint8_t>(l4_len)};
    uint16_t w[2];
    std::memcpy(w, wire, sizeof w);
    uint32_t s = (src_ip & 0xffff) + (src_ip >> 16) + (dst_ip & 0xffff) + (dst_ip >> 16);
    s += uint32_t{w[0]} + w[1];
    return csum_fold(s);
}

// The transport length the pseudo-header covers: the UDP length field, or what IP leaves TCP.
inline uint16_t l4_csum_len(const uint8_t* frame, const parsed_pkt& pp) noexcept {
    if (pp.ip_proto == 17)
        return static_cast<uint16_t>(frame[pp.l4_off + 4] << 8 | frame[pp.l4_off + 5]);
    return pp.l4_len;
}

// True when the TCP/UDP checksum of the parsed IPv4 packet `frame` is a partial one. Cheap: a
// handful of additions over fields already in cache, no pass over the payload.
inline bool l4_csum_partial(const uint8_t* frame, const parsed_pkt& pp) noexcept {
    const uint16_t off = l4_csum_offset(pp.ip_proto);
    if (off == 0)
        return false;
    uint16_t field;
    std::memcpy(&field, frame + pp.l4_off + off, 2);
    // UDP's 0 is "no checksum", never a pseudo-header sum (a fold of a non-zero sum is non-zero).
    return field != 0 &&
           field == pseudo_header_sum(pp.src_ip, pp.dst_ip, pp.ip_proto, l4_csum_len(frame, pp));
}

// Replace the TCP/UDP checksum of the parsed IPv4 packet by the full one, summed over the whole
// segment, which must be contiguous at `frame`. A computed UDP 0 is sent as 0xffff (RFC 768).
void l4_csum_complete(uint8_t* frame, const parsed_pkt& pp) noexcept;

} // namespace ulvs::dp
