#include "ulvs/dataplane/sched/rr.h"

#include <algorithm>

namespace ulvs::dp {

int32_t rr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor& cur) noexcept {
    if (cur.gen != svc.gen) {
        // The dests changed (or this cursor is fresh: index -1). IPVS keeps its position at the
        // dest it last picked, and when that one is removed moves back to its predecessor
        // (ip_vs_rr_del_dest): find the dest again by stats id, else the one before its old
        // index. A scan of the service's dests, once per change per worker, not per packet.
        cur.gen = svc.gen;
        cur.cw = 0;
        if (cur.index >= 0) {
            int32_t found = -1;
            for (uint32_t i = 0; i < n && found < 0; ++i)
                if (dests[i].stats_id == cur.last_id)
                    found = static_cast<int32_t>(i);
            cur.index = found >= 0 ? found : std::min(cur.index, static_cast<int32_t>(n)) - 1;
            if (cur.index >= 0) // the position's dest now, should it go before the next pick
                cur.last_id = dests[cur.index].stats_id;
        }
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
            cur.last_id = dests[i].stats_id;
            return cur.index;
        }
    }
    return -1; // cursor unchanged, as IPVS leaves sched_data when nothing is available
}

} // namespace ulvs::dp
