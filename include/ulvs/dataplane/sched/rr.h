// Round-robin (IPVS ip_vs_rr.c): the next dest after the last one picked with weight > 0 that is
// not OVERLOADED.
#pragma once

#include "ulvs/dataplane/sched/load.h"

namespace ulvs::dp {

int32_t rr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept;

// Without load information (no thresholds): the plain weight-only rotation.
inline int32_t rr_pick(const dest* dests, uint32_t n, const service& svc,
                       sched_cursor& cur) noexcept {
    sched_args a{};
    return rr_pick(a, dests, n, svc, cur);
}

} // namespace ulvs::dp
