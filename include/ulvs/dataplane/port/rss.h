// RSS that delivers each packet to the worker owning its connection (issue 17; docs/architecture.md
// "A packet's way", step 3).
//
// The owner of a connection is a function of the client's address alone: RETA[Toeplitz(key,
// client address) mod RETA size], the queue a NIC's RSS picks when it hashes only that address.
// So every port is given the same key (rss_key) and a RETA that repeats one 64-entry pattern
// (entry i -> queue i % W), and hashes one field: the source address on the client side (a
// request's client is its source), the destination on the server side (a NAT reply's client is
// its destination). The client's port cannot take part: a NIC hashing L3 fields only never sees
// it, and hashing L4 ports on both sides would put a NAT reply (RIP:rport -> client:cport) on
// another queue than its request (client:cport -> VIP:vport). Persistence already groups by
// address (masked; a mask narrower than /32 is not what RSS hashes, so those packets take the
// redirect ring).
//
// owner_of is computed without division: Toeplitz is linear over GF(2), so the hash of a 4-byte
// address is the XOR of four 256-entry tables precomputed from the key (one per octet), and the
// RETA index is the hash's low bits (the RETA size is a power of two).
//
// Where RSS cannot steer (one port carrying both clients and NAT real servers, a device without
// field selection, vdevs without RSS), packets on the wrong queue cross the redirect ring to their
// owner: correct and counted (`redirected`).
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace ulvs::dp {

// Toeplitz key programmed on every port (its first rte_eth_dev_info::hash_key_size bytes: 40 for
// most NICs, 52 for i40e). Only the first 8 bytes shape the hash of a 4-byte address. Chosen
// (seeded pseudo-random) so that each octet of an address alone spreads over all 64 pattern
// entries: the 6x8 bit matrix from any one octet to the RETA index has rank 6, so clients that
// differ only in their last octet (one /24) fill every worker evenly.
// 4-byte aligned: rte_softrss reads the key as uint32_t words (UBSan: misaligned load).
alignas(4) inline constexpr std::array<uint8_t, 52> rss_key = {
    0x44, 0x96, 0xa5, 0xd1, 0xa8, 0x28, 0x0c, 0x78, 0xbc, 0x09, 0x65, 0x7f, 0xd3,
    0xf4, 0x03, 0xdb, 0xad, 0x41, 0x9f, 0xb5, 0x59, 0x1b, 0xd0, 0x52, 0xae, 0x81,
    0x33, 0x59, 0xe2, 0x98, 0xf6, 0xc4, 0xb7, 0xac, 0xbb, 0xba, 0x39, 0x38, 0x6b,
    0xbc, 0x5d, 0x17, 0x8e, 0x20, 0xc3, 0x71, 0x0f, 0xe6, 0x92, 0x4a, 0xd5, 0x3b};

// Which end of a connection a port's received packets have in the field RSS hashes.
enum class rss_side : uint8_t {
    none,   // both (one-arm NAT) or unknown: RSS cannot steer, the ring does
    client, // clients' requests arrive here: hash the IPv4 source address
    server, // NAT real servers' replies arrive here: hash the IPv4 destination address
};

// rte_eth_rss_conf::rss_hf per side (the values of rte_ethdev.h's RTE_ETH_RSS_IPV4,
// RTE_ETH_RSS_L3_SRC_ONLY, RTE_ETH_RSS_L3_DST_ONLY; rss.cc checks them against the header).
inline constexpr uint64_t rss_hf_ipv4 = uint64_t{1} << 2;
inline constexpr uint64_t rss_hf_l3_src_only = uint64_t{1} << 63;
inline constexpr uint64_t rss_hf_l3_dst_only = uint64_t{1} << 62;
constexpr uint64_t rss_hf_for(rss_side s) noexcept {
    return s == rss_side::client   ? rss_hf_ipv4 | rss_hf_l3_src_only
           : s == rss_side::server ? rss_hf_ipv4 | rss_hf_l3_dst_only
                                   : 0;
}

// The RETA pattern: 64 entries, entry i -> queue i % W. A device RETA of S entries (a multiple of
// 64) gets entry j -> reta_queue(j % 64, W), so RETA[h mod S] is the same queue on every port.
inline constexpr uint32_t owner_reta_size = 64;
constexpr uint16_t reta_queue(uint32_t entry, uint32_t n_workers) noexcept {
    return static_cast<uint16_t>((entry % owner_reta_size) % n_workers);
}

// The owner function of W workers: built once (start-up, or a test), read per packet.
struct owner_map {
    std::array<std::array<uint32_t, 256>, 4> t{}; // Toeplitz hash of each octet value, per octet
    std::array<uint8_t, owner_reta_size> reta{};

    // Toeplitz(key, address): equal to rte_softrss(&host_order_address, 1, key).
    uint32_t hash(uint32_t addr_be) const noexcept {
        const auto a = static_cast<uint32_t>(addr_be);
        // addr_be as loaded from the packet: its first octet is the lowest byte in memory.
        uint8_t o[4];
        __builtin_memcpy(o, &a, 4);
        return t[0][o[0]] ^ t[1][o[1]] ^ t[2][o[2]] ^ t[3][o[3]];
    }
    // The worker owning the connections of this client address (network order).
    uint32_t owner(uint32_t client_be) const noexcept {
        return reta[hash(client_be) & (owner_reta_size - 1)];
    }
};

// Fill `m` for `n_workers` (1..255) workers and `key` (at least 8 bytes).
void build_owner_map(owner_map& m, uint32_t n_workers,
                     std::span<const uint8_t> key = rss_key) noexcept;

// The RX queue the device's RSS picks for an IPv4 packet (addresses in network order) on a port
// of side `side` programmed by port_open: what a benchmark or test feeding several workers from a
// vdev without RSS uses as software RSS. For rss_side::none it returns the owner of `src_be`,
// i.e. the client side's choice (a device that cannot select fields is not modelled).
inline uint32_t rss_queue(const owner_map& m, rss_side side, uint32_t src_be,
                          uint32_t dst_be) noexcept {
    return m.owner(side == rss_side::server ? dst_be : src_be);
}

} // namespace ulvs::dp
