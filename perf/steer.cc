#include "steer.h"

#include <rte_byteorder.h>
#include <rte_thash.h>

#include <cstring>

namespace ulvs::perf {

namespace {

alignas(4) constexpr uint8_t default_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
constexpr uint32_t default_reta_size = 128;

uint32_t load_be32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return rte_be_to_cpu_32(v);
}

uint16_t load_be16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return rte_be_to_cpu_16(v);
}

} // namespace

const char* steering_name(steering s) {
    return s == steering::owner_rss ? "owner" : "default";
}

uint16_t rx_queue_of(steering s, const uint8_t* f, dp::rss_side side, uint16_t n_queues) {
    const uint8_t* ip = f + 14;
    const uint8_t* l4 = ip + (ip[0] & 0x0f) * 4;
    if (s == steering::owner_rss) {
        uint32_t field = load_be32(ip + (side == dp::rss_side::server ? 16 : 12));
        const uint32_t h = rte_softrss(&field, 1, dp::rss_key.data());
        return dp::reta_queue(h & (dp::owner_reta_size - 1), n_queues);
    }
    rte_ipv4_tuple t{};
    t.src_addr = load_be32(ip + 12);
    t.dst_addr = load_be32(ip + 16);
    t.sport = load_be16(l4);
    t.dport = load_be16(l4 + 2);
    const uint32_t h =
        rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V4_L4_LEN, default_key);
    return static_cast<uint16_t>((h & (default_reta_size - 1)) % n_queues);
}

} // namespace ulvs::perf
