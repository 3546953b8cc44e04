// Building and checking IPv4 TCP/UDP frames for the worker tests, with checksums computed from
// scratch (RFC 1071 over the pseudo-header), independent of the code under test.
#pragma once

#include "pcap_file.h"

#include <array>
#include <cstdint>
#include <string>

namespace ulvs::test {

using mac6 = std::array<uint8_t, 6>;

struct flow {
    std::string src; // dotted quad
    std::string dst;
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint8_t proto = 6; // 6 TCP, 17 UDP, 1 ICMP echo request (id = sport, sequence = dport)
};

// Ethernet + IPv4 (TTL 64, id 1) + TCP (flags; doff 5), UDP or ICMP echo request, `payload`
// bytes of 'x'.
frame make_frame(const flow& f, const mac6& eth_src, const mac6& eth_dst, uint8_t tcp_flags = 0,
                 size_t payload = 0);

// Fields of a frame built like that (or rewritten by the worker).
struct view {
    std::string src, dst;
    uint16_t sport, dport;
    uint8_t ttl;
    mac6 eth_src, eth_dst;
};
view read_frame(const frame& f);

// True when the IPv4 header checksum and the TCP/UDP checksum are both right.
bool checksums_ok(const frame& f);

} // namespace ulvs::test
