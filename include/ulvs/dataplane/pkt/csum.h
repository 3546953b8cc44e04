// Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')), for NAT
// rewrites that change a few fields of a packet whose checksum was right: a handful of operations
// instead of summing the whole segment again. All values in network byte order, as stored.
#pragma once

#include <cstdint>

namespace ulvs::dp {

inline uint16_t csum_fold(uint32_t sum) noexcept {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// `sum` covers a 16-bit field that changes from `from` to `to`.
inline void csum_replace2(uint16_t& sum, uint16_t from, uint16_t to) noexcept {
    sum = static_cast<uint16_t>(~csum_fold(uint32_t{static_cast<uint16_t>(~sum)} +
                                           uint32_t{static_cast<uint16_t>(~from)} + to));
}

// `sum` covers a 32-bit field (an address) that changes from `from` to `to`.
inline void csum_replace4(uint16_t& sum, uint32_t from, uint32_t to) noexcept {
    uint32_t s = uint32_t{static_cast<uint16_t>(~sum)};
    s += (~from & 0xffff) + (~from >> 16);
    s += (to & 0xffff) + (to >> 16);
    sum = static_cast<uint16_t>(~csum_fold(s));
}

// A UDP checksum of 0 means "none" and stays 0; a computed 0 is sent as 0xffff (RFC 768).
inline void udp_csum_replace4(uint16_t& sum, uint32_t from, uint32_t to) noexcept {
    if (sum == 0)
        return;
    csum_replace4(sum, from, to);
    if (sum == 0)
        sum = 0xffff;
}
inline void udp_csum_replace2(uint16_t& sum, uint16_t from, uint16_t to) noexcept {
    if (sum == 0)
        return;
    csum_replace2(sum, from, to);
    if (sum == 0)
        sum = 0xffff;
}

} // namespace ulvs::dp
