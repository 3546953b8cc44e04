// The hash functions of IPVS' hashing schedulers, shared by the control plane (which builds the
// tables) and the data path (which indexes them), so both always agree.
//
// - sh (ip_vs_sh.c): hash_32(port + addr, 8) + offset, masked to the 256 buckets.
// - dh (ip_vs_dh.c): addr * 2654435761 (Knuth's multiplicative constant), masked to 256.
// - mh (ip_vs_mh.c): hsiphash of (offset + port + addr) with IPVS' two fixed keys. hsiphash is
//   SipHash-1-3 on 64-bit kernels, returning the low 32 bits of the 64-bit result.
// Addresses and ports are taken in host order, as IPVS does with ntohl/ntohs.
#pragma once

#include <bit>
#include <cstdint>

namespace ulvs::dp::sched_hash {

// Linux hash_32(): multiply by GOLDEN_RATIO_32, keep the top `bits`.
constexpr uint32_t hash_32(uint32_t v, uint32_t bits) noexcept {
    return (v * 0x61C88647u) >> (32 - bits);
}

constexpr uint32_t sh_key(uint32_t addr_host, uint16_t port_host, uint32_t offset) noexcept {
    return (offset + hash_32(port_host + addr_host, 8)) & 0xffu;
}

constexpr uint32_t dh_key(uint32_t addr_host) noexcept {
    return static_cast<uint32_t>(uint64_t{addr_host} * 2654435761ull) & 0xffu;
}

struct sip_key {
    uint64_t k0, k1;
};

// SipHash-c-d over `len` (< 8) little-endian bytes packed in `m` (the rest of `m` zero) or, for
// the reference test, over an arbitrary message given as whole 64-bit words plus a tail.
template <int C, int D>
constexpr uint64_t siphash(const sip_key& k, const uint64_t* words, uint32_t n_words, uint64_t tail,
                           uint32_t len) noexcept {
    uint64_t v0 = 0x736f6d6570736575ull ^ k.k0, v1 = 0x646f72616e646f6dull ^ k.k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k.k0, v3 = 0x7465646279746573ull ^ k.k1;
    auto round = [&] {
        v0 += v1, v1 = std::rotl(v1, 13), v1 ^= v0, v0 = std::rotl(v0, 32);
        v2 += v3, v3 = std::rotl(v3, 16), v3 ^= v2;
        v0 += v3, v3 = std::rotl(v3, 21), v3 ^= v0;
        v2 += v1, v1 = std::rotl(v1, 17), v1 ^= v2, v2 = std::rotl(v2, 32);
    };
    for (uint32_t i = 0; i < n_words; ++i) {
        v3 ^= words[i];
        for (int r = 0; r < C; ++r)
            round();
        v0 ^= words[i];
    }
    const uint64_t b = uint64_t{len} << 56 | tail;
    v3 ^= b;
    for (int r = 0; r < C; ++r)
        round();
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < D; ++r)
        round();
    return (v0 ^ v1) ^ (v2 ^ v3);
}

// IPVS generate_hash_secret(): fixed keys, so tables are the same on every boot.
constexpr sip_key mh_key1{2654435761ull, 2654435761ull};
constexpr sip_key mh_key2{2654446892ull, 2654446892ull};

// ip_vs_mh_hashkey(): hsiphash of the 4-byte value offset + port + addr.
constexpr uint32_t mh_key(const sip_key& k, uint32_t addr_host, uint16_t port_host,
                          uint32_t offset) noexcept {
    const uint32_t v = offset + port_host + addr_host;
    return static_cast<uint32_t>(siphash<1, 3>(k, nullptr, 0, v, 4));
}

} // namespace ulvs::dp::sched_hash
