// The hashing schedulers, one .cc each: the control plane built their table (service::slots,
// indexes into the service's dests, no_slot = empty), the pick only hashes and indexes.
//
// - sh (ip_vs_sh.c): 256 buckets by source address (+ source port with sh-port). The bucket's
//   server, or none if it has weight 0 or is OVERLOADED; with sh-fallback, rehash with offsets
//   0..255 from the first bucket until an available server or an empty bucket.
// - dh (ip_vs_dh.c): 256 buckets by destination address; no fallback.
// - mh (ip_vs_mh.c): Maglev table of prime size M by source address (+ port with mh-port); the
//   same availability rule and mh-fallback as sh, with up to M rehashes (bounded: a new
//   connection when nearly every server is unavailable costs up to M hashes, as in IPVS; when none
//   is available the pick says so at once).
#pragma once

#include "ulvs/dataplane/sched/load.h"

#include <bit>

namespace ulvs::dp {

int32_t sh_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept;
int32_t dh_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept;
int32_t mh_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept;

// Network to host order, for hashing as IPVS does with ntohl/ntohs.
constexpr uint32_t host32(uint32_t be) noexcept {
    if constexpr (std::endian::native == std::endian::little)
        return __builtin_bswap32(be);
    return be;
}
constexpr uint16_t host16(uint16_t be) noexcept {
    if constexpr (std::endian::native == std::endian::little)
        return __builtin_bswap16(be);
    return be;
}

} // namespace ulvs::dp
