// IPVS ip_vs_nq.c: never queue. The first available dest with no active connection at all gets
// it at once; otherwise the shortest expected delay, (active + 1) / weight, as sed.
#include "ulvs/dataplane/sched/least_conn.h"

namespace ulvs::dp {

int32_t nq_pick(sched_args& a, const dest* dests, uint32_t n, const service&,
                sched_cursor&) noexcept {
    int32_t least = -1;
    int64_t loh = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const dest& d = dests[i];
        if (a.load.overloaded(d) || d.weight == 0)
            continue;
        const int64_t active = a.load.active(d);
        const int64_t doh = active + 1;
        if (active == 0)
            return static_cast<int32_t>(i); // idle: no queueing at all
        if (least < 0 ||
            loh * int64_t{d.weight} > doh * int64_t{dests[static_cast<uint32_t>(least)].weight}) {
            least = static_cast<int32_t>(i);
            loh = doh;
        }
    }
    return least;
}

} // namespace ulvs::dp
