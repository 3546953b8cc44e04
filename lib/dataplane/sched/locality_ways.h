// What lblc and lblcr share (see ulvs/dataplane/sched/locality.h): the bucket of an address,
// the lookup and replacement of entries within a bucket's ways, a server found by stats id, and
// IPVS' lblc/lblcr overload rule. Private to lib/dataplane/sched.
#pragma once

#include "ulvs/dataplane/sched/hash.h"
#include "ulvs/dataplane/sched/hashing.h"
#include "ulvs/dataplane/sched/locality.h"

namespace ulvs::dp::detail {

// IPVS hashes the host-order address: lblc multiplies by 2654435761 and keeps the low bits,
// lblcr takes hash_32's high bits. Either spreads addresses over the 1024 buckets; we keep each
// scheduler's own.
inline uint32_t lblc_bucket(uint32_t addr_be) noexcept {
    return (host32(addr_be) * 2654435761u) & (locality_buckets - 1);
}
inline uint32_t lblcr_bucket(uint32_t addr_be) noexcept {
    return sched_hash::hash_32(host32(addr_be), locality_bucket_bits);
}

// An entry idle for the expiration or longer is gone (IPVS' full check frees it once
// now >= lastuse + expiration; here the lookup does, at that very time).
template <class E> bool expired(const E& e, uint64_t now, uint64_t exp) noexcept {
    return now >= e.lastuse && now - e.lastuse >= exp;
}

// The live entry of `addr` in its bucket, or nullptr. An expired one is freed on the way.
template <class E>
E* find_entry(E* row, uint32_t bucket, uint32_t addr, uint64_t now, uint64_t exp) noexcept {
    E* ways = row + size_t{bucket} * locality_ways;
    for (uint32_t i = 0; i < locality_ways; ++i) {
        E& e = ways[i];
        if (!e.used || e.addr != addr)
            continue;
        if (expired(e, now, exp)) {
            e.used = false;
            return nullptr;
        }
        return &e;
    }
    return nullptr;
}

// A way for a new address: a free one, else an expired one, else the least recently used
// (counted in `evicted`: an address still in use forgets its server).
template <class E>
E* claim_entry(E* row, uint32_t bucket, uint64_t now, uint64_t exp, uint64_t* evicted) noexcept {
    E* ways = row + size_t{bucket} * locality_ways;
    E* lru = &ways[0];
    for (uint32_t i = 0; i < locality_ways; ++i) {
        E& e = ways[i];
        if (!e.used || expired(e, now, exp))
            return &e;
        if (e.lastuse < lru->lastuse)
            lru = &e;
    }
    if (evicted != nullptr)
        ++*evicted;
    return lru;
}

// The index of the service's dest with stats id `id`, or -1 when it left the service.
inline int32_t dest_index(const dest* dests, uint32_t n, uint32_t id) noexcept {
    for (uint32_t i = 0; i < n; ++i)
        if (dests[i].stats_id == id)
            return static_cast<int32_t>(i);
    return -1;
}

// IPVS is_overloaded() of both schedulers: `d` has more active connections than its weight and
// some server of the service has fewer than half its own (a less loaded one exists). Only active
// connections count here, and every server is looked at, OVERLOADED or not, as in IPVS.
inline bool locality_overloaded(const sched_args& a, const dest* dests, uint32_t n,
                                const dest& d) noexcept {
    if (a.load.active(d) <= int64_t{d.weight})
        return false;
    for (uint32_t i = 0; i < n; ++i)
        if (a.load.active(dests[i]) * 2 < int64_t{dests[i].weight})
            return true;
    return false;
}

} // namespace ulvs::dp::detail
