#include "frames.h"

#include <arpa/inet.h>

#include <cstring>

namespace ulvs::test {

namespace {

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i < n; i += 2)
        sum += uint32_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0);
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// One's complement sum of the L4 segment with its pseudo-header.
uint32_t l4_sum(const uint8_t* ip, const uint8_t* l4, size_t l4_len) {
    uint8_t pseudo[12];
    std::memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = ip[9];
    put16(pseudo + 10, static_cast<uint16_t>(l4_len));
    return sum16(l4, l4_len, sum16(pseudo, 12));
}

std::string dotted(const uint8_t* p) {
    char b[16];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    return b;
}

} // namespace

frame make_frame(const flow& f, const mac6& eth_src, const mac6& eth_dst, uint8_t tcp_flags,
                 size_t payload) {
    const size_t l4_len = (f.proto == 6 ? 20 : 8) + payload;
    frame fr(14 + 20 + l4_len, 'x');
    std::memcpy(fr.data(), eth_dst.data(), 6);
    std::memcpy(fr.data() + 6, eth_src.data(), 6);
    put16(fr.data() + 12, 0x0800);
    uint8_t* ip = fr.data() + 14;
    std::memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(20 + l4_len));
    put16(ip + 4, 1);
    ip[8] = 64;
    ip[9] = f.proto;
    inet_pton(AF_INET, f.src.c_str(), ip + 12);
    inet_pton(AF_INET, f.dst.c_str(), ip + 16);
    put16(ip + 10, fold(sum16(ip, 20)));
    uint8_t* l4 = ip + 20;
    std::memset(l4, 0, f.proto == 6 ? 20 : 8);
    put16(l4, f.sport);
    put16(l4 + 2, f.dport);
    if (f.proto == 1) { // echo request: identifier = sport, sequence = dport, no pseudo-header
        put16(l4 + 4, f.sport);
        put16(l4 + 6, f.dport);
        l4[0] = 8;
        l4[1] = 0;
        put16(l4 + 2, 0);
        put16(l4 + 2, fold(sum16(l4, l4_len)));
    } else if (f.proto == 6) {
        put16(l4 + 4, 0x1000); // seq
        l4[12] = 0x50;
        l4[13] = tcp_flags;
        put16(l4 + 14, 0xffff);
        put16(l4 + 16, fold(l4_sum(ip, l4, l4_len)));
    } else {
        put16(l4 + 4, static_cast<uint16_t>(l4_len));
        put16(l4 + 6, fold(l4_sum(ip, l4, l4_len)));
    }
    return fr;
}

view read_frame(const frame& f) {
    view v;
    const uint8_t* ip = f.data() + 14;
    const uint8_t* l4 = ip + (ip[0] & 0x0f) * 4;
    v.src = dotted(ip + 12);
    v.dst = dotted(ip + 16);
    v.sport = get16(l4);
    v.dport = get16(l4 + 2);
    v.ttl = ip[8];
    std::memcpy(v.eth_dst.data(), f.data(), 6);
    std::memcpy(v.eth_src.data(), f.data() + 6, 6);
    return v;
}

bool checksums_ok(const frame& f) {
    const uint8_t* ip = f.data() + 14;
    const size_t ihl = (ip[0] & 0x0f) * 4u;
    if (fold(sum16(ip, ihl)) != 0)
        return false;
    const size_t l4_len = get16(ip + 2) - ihl;
    const uint8_t* l4 = ip + ihl;
    if (ip[9] == 17 && get16(l4 + 6) == 0)
        return true; // UDP without a checksum
    if (ip[9] == 1)
        return fold(sum16(l4, l4_len)) == 0; // ICMP: no pseudo-header
    return fold(l4_sum(ip, l4, l4_len)) == 0;
}

} // namespace ulvs::test
