// IPVS ip_vs_sh.c over the table lib/control/sched built (see hashing.h).
#include "ulvs/dataplane/sched/hash.h"
#include "ulvs/dataplane/sched/hashing.h"

namespace ulvs::dp {

int32_t sh_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                sched_cursor&) noexcept {
    if (svc.slot_count != hash_tab_size)
        return -1; // no table: a service without dests
    const uint32_t addr = host32(a.in.src_ip);
    const uint16_t port = (svc.sched_flags & sched_flag::port) ? host16(a.in.src_port) : 0;
    // IPVS is_unavailable(): weight 0 or OVERLOADED.
    auto available = [&](uint16_t s) {
        return s < n && dests[s].weight > 0 && !a.load.overloaded(dests[s]);
    };
    const uint32_t ihash = sched_hash::sh_key(addr, port, 0);
    uint16_t s = svc.slots[ihash];
    if (s == no_slot)
        return -1;
    if (available(s))
        return s;
    if (!(svc.sched_flags & sched_flag::fallback))
        return -1;
    // Deterministic fallback: the same client always lands on the same replacement.
    for (uint32_t offset = 0; offset < hash_tab_size; ++offset) {
        const uint32_t roffset = (offset + ihash) % hash_tab_size;
        s = svc.slots[sched_hash::sh_key(addr, port, roffset)];
        if (s == no_slot)
            break;
        if (available(s))
            return s;
    }
    return -1;
}

} // namespace ulvs::dp
