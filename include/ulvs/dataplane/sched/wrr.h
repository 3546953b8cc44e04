// Weighted round-robin (IPVS ip_vs_wrr.c): cycles the current weight cw from max_weight down by
// gcd; at each cw every dest with weight >= cw is picked once, in order. Weights 3,2,1 give A A B A
// B C, repeated. max_weight and gcd come precomputed in service::wrr. OVERLOADED dests are
// skipped as IPVS skips them.
#pragma once

#include "ulvs/dataplane/sched/load.h"

namespace ulvs::dp {

int32_t wrr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                 sched_cursor& cur) noexcept;

// Without load information (no thresholds).
inline int32_t wrr_pick(const dest* dests, uint32_t n, const service& svc,
                        sched_cursor& cur) noexcept {
    sched_args a{};
    return wrr_pick(a, dests, n, svc, cur);
}

} // namespace ulvs::dp
