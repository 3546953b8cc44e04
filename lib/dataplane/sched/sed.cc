#include "weighted_least.h"

namespace ulvs::dp {

// IPVS ip_vs_sed.c: the expected delay (active + 1) / weight; inactive connections cost nothing.
int32_t sed_pick(sched_args& a, const dest* dests, uint32_t n, const service&,
                 sched_cursor&) noexcept {
    return detail::weighted_least(a, dests, n, [&](const dest& d) { return a.load.active(d) + 1; });
}

} // namespace ulvs::dp
