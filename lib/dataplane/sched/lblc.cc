// IPVS ip_vs_lblc.c: destination address -> one server (see ulvs/dataplane/sched/locality.h).
#include "locality_ways.h"
#include "weighted_least.h"

namespace ulvs::dp {

int32_t lblc_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                  sched_cursor&) noexcept {
    lblc_entry* row = svc.locality != nullptr ? svc.locality->lblc_row(a.worker) : nullptr;
    const uint64_t exp = row != nullptr ? svc.locality->expiration_ms() : 0;
    const uint32_t addr = a.in.dst_ip;
    const uint32_t bucket = detail::lblc_bucket(addr);
    lblc_entry* en =
        row != nullptr ? detail::find_entry(row, bucket, addr, a.now_ms, exp) : nullptr;
    if (en != nullptr) {
        en->lastuse = a.now_ms;
        // The cached server while it is in the service, has weight > 0 and is not overloaded in
        // lblc's sense. IPVS does not look at its OVERLOAD (threshold) flag here: neither do we.
        const int32_t i = detail::dest_index(dests, n, en->dest_id);
        if (i >= 0 && dests[i].weight > 0 && !detail::locality_overloaded(a, dests, n, dests[i]))
            return i;
    }
    // No entry, or an invalid one: the weighted least-connection server (IPVS' own loop is wlc's).
    const int32_t pick =
        detail::weighted_least(a, dests, n, [&](const dest& d) { return a.load.overhead(d); });
    if (pick < 0 || row == nullptr)
        return pick; // no server: an invalid entry stays as it is, as in IPVS
    if (en == nullptr)
        en = detail::claim_entry(row, bucket, a.now_ms, exp, a.locality_evicted);
    // IPVS ip_vs_lblc_new(): the address' entry now names the chosen server.
    en->addr = addr;
    en->dest_id = static_cast<uint16_t>(dests[pick].stats_id);
    en->used = true;
    en->lastuse = a.now_ms;
    return pick;
}

} // namespace ulvs::dp
