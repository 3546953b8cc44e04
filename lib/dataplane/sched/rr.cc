#include "ulvs/dataplane/sched/rr.h"

namespace ulvs::dp {

int32_t rr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept {
    if (cur.gen != svc.gen) {
        // The dest list changed: positions mean nothing any more, start from the head as IPVS
        // does for a new service.
        cur.gen = svc.gen;
        cur.index = -1;
        cur.cw = 0;
    }
    if (n == 0)
        return -1;
    // One full circle starting after the last pick and ending with the last pick itself (IPVS
    // scans up to and including `last`). From the head, one pass over all dests.
    const uint32_t last = cur.index >= 0 && static_cast<uint32_t>(cur.index) < n
                              ? static_cast<uint32_t>(cur.index)
                              : n - 1;
    uint32_t i = last;
    for (uint32_t k = 0; k < n; ++k) {
        i = i + 1 == n ? 0 : i + 1;
        // IPVS' test order: the OVERLOAD flag, then the weight.
        if (!a.load.overloaded(dests[i]) && dests[i].weight > 0) {
            cur.index = static_cast<int32_t>(i);
            return cur.index;
        }
    }
    return -1; // cursor unchanged, as IPVS leaves sched_data when nothing is available
}

} // namespace ulvs::dp
