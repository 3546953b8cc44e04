// IPVS ip_vs_mh.c lookups over the Maglev table lib/control/sched built (see hashing.h).
#include "ulvs/dataplane/sched/hash.h"
#include "ulvs/dataplane/sched/hashing.h"

namespace ulvs::dp {

int32_t mh_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor&) noexcept {
    const uint32_t m = svc.slot_count;
    if (m == 0)
        return -1; // no table: no dest, or every dest added with weight 0
    const uint32_t addr = host32(a.in.src_ip);
    const uint16_t port = (svc.sched_flags & sched_flag::port) ? host16(a.in.src_port) : 0;
    auto available = [&](uint16_t s) {
        return s < n && dests[s].weight > 0 && !a.load.overloaded(dests[s]);
    };
    const uint32_t ihash = sched_hash::mh_key(sched_hash::mh_key1, addr, port, 0) % m;
    uint16_t s = svc.slots[ihash];
    if (s == no_slot)
        return -1;
    if (available(s))
        return s;
    if (!(svc.sched_flags & sched_flag::fallback))
        return -1;
    // IPVS would probe up to M slots and find nothing when no server is available: say so now
    // (same answer, without M hashes per new connection while every server is down).
    bool any = false;
    for (uint32_t i = 0; i < n && !any; ++i)
        any = dests[i].weight > 0 && !a.load.overloaded(dests[i]);
    if (!any)
        return -1;
    for (uint32_t offset = 0; offset < m; ++offset) {
        const uint32_t roffset = (offset + ihash) % m;
        s = svc.slots[sched_hash::mh_key(sched_hash::mh_key1, addr, port, roffset) % m];
        if (s == no_slot)
            break;
        if (available(s))
            return s;
    }
    return -1;
}

} // namespace ulvs::dp
