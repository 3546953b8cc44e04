// Header validation and field extraction for one frame. Pure function over bytes: no mbuf, no EAL,
// so unit tests can feed it every kind of malformed packet.
#pragma once

#include "ulvs/dataplane/counters.h"

#include <cstdint>

namespace ulvs::dp {

enum class frame_kind : uint8_t { ipv4, arp };

// TCP flag bits as on the wire.
namespace tcp_flag {
constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

// Offsets and fields of a valid frame. Addresses and ports stay in network byte order: the data
// path only compares, hashes and copies them.
struct parsed_pkt {
    frame_kind kind;
    uint8_t ip_proto;   // IPPROTO_*; valid for ipv4
    uint8_t tcp_flags;  // valid for TCP
    uint8_t ip_hdr_len; // bytes, options included
    uint16_t l3_off;    // offset of the IPv4 (or ARP) header
    uint16_t l4_off;    // offset of the TCP/UDP/ICMP header
    uint16_t ip_total_len;
    uint16_t l4_len; // ip_total_len - ip_hdr_len
    uint32_t src_ip; // network order
    uint32_t dst_ip;
    uint16_t src_port; // network order; 0 for protocols without ports
    uint16_t dst_port;
};

// Validate Ethernet + IPv4 (+ TCP/UDP/ICMP header presence) or Ethernet + ARP.
// Returns drop::none and fills `out`, or the drop reason. IP options are accepted (l4_off accounts
// for them). Ethernet padding after the IP total length is allowed. `verify_ip_csum` is false
// when the NIC already reported a good IP checksum.
// A fragment (MF or an offset) returns drop::ip_fragment with the IPv4 fields of `out` filled in
// (ports 0): the data path reassembles it (fwd/fragments.h), the control plane drops it.
drop parse_frame(const uint8_t* frame, uint32_t len, bool verify_ip_csum, parsed_pkt& out) noexcept;

// The same for a packet of `pkt_len` bytes whose first `len` are contiguous at `frame` (a chained
// mbuf, e.g. a reassembled datagram): the headers up to the end of the TCP/UDP/ICMP header must
// lie in those `len` bytes, the IP total length in `pkt_len`.
drop parse_chain(const uint8_t* frame, uint32_t len, uint32_t pkt_len, bool verify_ip_csum,
                 parsed_pkt& out) noexcept;

// One's-complement sum helpers (RFC 1071), also used by the ICMP/ARP responders.
uint16_t inet_checksum(const void* data, uint32_t len) noexcept;

} // namespace ulvs::dp
