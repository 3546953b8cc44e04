// IPVS ip_vs_lc.c: the available dest with the least overhead; the first one wins ties.
#include "ulvs/dataplane/sched/least_conn.h"

namespace ulvs::dp {

int32_t lc_pick(sched_args& a, const dest* dests, uint32_t n, const service&,
                sched_cursor&) noexcept {
    int32_t least = -1;
    int64_t loh = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (a.load.overloaded(dests[i]) || dests[i].weight == 0)
            continue;
        const int64_t doh = a.load.overhead(dests[i]);
        if (least < 0 || doh < loh) {
            least = static_cast<int32_t>(i);
            loh = doh;
        }
    }
    return least;
}

} // namespace ulvs::dp
