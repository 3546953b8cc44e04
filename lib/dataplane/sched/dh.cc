// IPVS ip_vs_dh.c over the table lib/control/sched built (see hashing.h).
#include "ulvs/dataplane/sched/hash.h"
#include "ulvs/dataplane/sched/hashing.h"

namespace ulvs::dp {

int32_t dh_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor&) noexcept {
    if (svc.slot_count != hash_tab_size)
        return -1;
    const uint16_t s = svc.slots[sched_hash::dh_key(host32(a.in.dst_ip))];
    // No fallback in dh: a quiesced or OVERLOADED server means no server for that address.
    if (s == no_slot || s >= n || dests[s].weight == 0 || a.load.overloaded(dests[s]))
        return -1;
    return s;
}

} // namespace ulvs::dp
