// IPVS ip_vs_wlc.c: least overhead per weight. Compared by cross-multiplication, so a later dest
// replaces the current choice only if strictly better (the first one wins ties), and a dest of
// weight 0 can never win once a choice exists.
#include "weighted_least.h"

namespace ulvs::dp {

int32_t wlc_pick(sched_args& a, const dest* dests, uint32_t n, const service&,
                 sched_cursor&) noexcept {
    return detail::weighted_least(a, dests, n, [&](const dest& d) { return a.load.overhead(d); });
}

} // namespace ulvs::dp
