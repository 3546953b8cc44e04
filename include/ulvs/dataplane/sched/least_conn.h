// The connection-counting schedulers, one .cc each, all on load_view (load.h) counts:
//
// - lc  (ip_vs_lc.c):  least overhead = active*256 + inactive; first dest wins ties.
// - wlc (ip_vs_wlc.c): least overhead/weight, compared as loh*w_d > doh*w_least (no division).
// - sed (ip_vs_sed.c): as wlc with overhead = active + 1 (shortest expected delay).
// - nq  (ip_vs_nq.c):  the first dest with no active connection, else as sed.
//
// Every one skips OVERLOADED dests and dests of weight 0, as IPVS does.
#pragma once

#include "ulvs/dataplane/sched/load.h"

namespace ulvs::dp {

int32_t lc_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept;
int32_t wlc_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                 sched_cursor& cur) noexcept;
int32_t sed_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                 sched_cursor& cur) noexcept;
int32_t nq_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept;

} // namespace ulvs::dp
